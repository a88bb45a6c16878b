"""总览: KPI cards against the previous period, monthly trend, top categories."""

import altair as alt
import streamlit as st

from gridpulse import config, views
from gridpulse.scope import LIAISON
from gridpulse.strings import t
from gridpulse.ui import cache, filters, session, widgets

f = filters.current()
st.title(t("nav_overview"))
widgets.scope_line(f)
kpis = cache.view(views.overview_kpis, f, cache.as_of())
widgets.kpi_cards(kpis)
before = f.previous()
st.caption(t("vs_previous", start=before.start, end=before.end))
scope = session.current_scope()
if not scope.whole_street:
    mine = {k.key: k.value for k in kpis}
    widgets.street_comparison(mine, cache.unscoped(views.street_average, f, cache.as_of()))
widgets.report_downloads(f)
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

if not scope.whole_street or scope.role == LIAISON:
    st.subheader(t("open_cases_title"))
    open_rows = cache.view(views.open_cases, f, cache.as_of())
    overdue = next(k.value for k in kpis if k.key == "overdue")
    backlog = next(k.value for k in kpis if k.key == "backlog")
    stamp = min(f.end, cache.as_of().date())
    st.caption(
        t(
            "open_cases_caption",
            stamp=stamp,
            n=int(backlog or 0),
            overdue=int(overdue or 0),
            limit=config.MAX_TABLE_ROWS,
        )
    )
    st.dataframe(views.labelled_cases(open_rows), hide_index=True, width="stretch")
