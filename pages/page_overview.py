"""总览: KPI cards against the previous period, monthly trend, top categories."""

import altair as alt
import streamlit as st

from gridpulse import views
from gridpulse.strings import t
from gridpulse.ui import cache, filters, widgets

f = filters.current()
st.title(t("nav_overview"))
widgets.scope_line(f)
kpis = cache.view(views.overview_kpis, f, cache.as_of())
widgets.kpi_cards(kpis)
before = f.previous()
st.caption(t("vs_previous", start=before.start, end=before.end))
if not kpis[0].value:
    st.info(t("empty"))
    st.stop()

left, right = st.columns([3, 2])
with left:
    st.subheader(t("trend_title"))
    st.caption(t("trend_note", start=f.start, end=f.end))
    trend = cache.view(views.monthly_trend, f)
    trend["series"] = trend["series"].map(t)
    st.altair_chart(
        alt.Chart(trend)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(month):T", title=t("trend_month"), axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("count:Q", title=t("trend_count")),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("yearmonth(month):T", format="%Y-%m"), "series", "count"],
        ),
        width="stretch",
    )
with right:
    st.subheader(t("top_categories"))
    cats = cache.view(views.top_categories, f)
    st.altair_chart(
        alt.Chart(cats)
        .mark_bar(color="#c0392b")
        .encode(
            x=alt.X("cases:Q", title=t("cases_count")),
            y=alt.Y("category:N", sort="-x", title=None),
            tooltip=["category", "cases"],
        ),
        width="stretch",
    )
