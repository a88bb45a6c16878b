"""考核排名与红黑榜: grids, communities and departments ranked fairly, the red and black lists, a funnel plot."""

import altair as alt
import pandas as pd
import streamlit as st

from gridpulse import maps, scorecard, targets
from gridpulse.strings import t
from gridpulse.ui import cache, filters, session, widgets

f = filters.current()
st.title(t("nav_accountability"))
widgets.scope_line(f)
st.caption(t("acc_caption"))
cfg = cache.unscoped(scorecard.settings)
unit = (
    st.segmented_control(
        t("rank_unit"),
        scorecard.units_for(session.current_scope()),
        format_func=lambda u: t(f"unit_{u}"),
        default="grid",
        key="acc_unit",
    )
    or "grid"
)
rank = cache.view(scorecard.ranking, f, cache.as_of(), unit)
if rank.empty or rank["rank"].isna().all():
    st.info(t("empty"))
    st.stop()

red, black = cache.view(scorecard.lists, f, cache.as_of(), unit)
for rows, title, empty in (
    (black, t("black_list", n=cfg.list_size), t("black_list_empty")),
    (red, t("red_list", n=cfg.list_size), t("red_list_empty")),
):
    st.subheader(title)
    if rows.empty:
        st.info(empty)
    else:
        st.dataframe(scorecard.list_table(rows, unit), hide_index=True, width="stretch")
st.caption(t("lists_rule", min_cases=cfg.min_cases, n=cfg.list_size))
st.caption(scorecard.score_rule(cfg, unit))

st.subheader(t("ranking"))
st.caption(t("ranking_caption", unit=t(f"unit_{unit}")))
st.dataframe(scorecard.ranking_table(rank, unit), hide_index=True, width="stretch")

metric = st.selectbox(t("funnel_metric"), list(targets.SCORED), format_func=t, key="acc_funnel_metric")
points, limits, pooled = scorecard.funnel_points(rank, metric)
st.subheader(t("funnel_title", metric=t(metric)))
if points.empty or pooled is None:
    st.info(t("empty"))
    st.stop()
den = targets.RATE_TARGETS[metric][1]
st.caption(t("funnel_caption", unit=t(f"unit_{unit}"), den=t(den), metric=t(metric), pooled=f"{pooled:.1%}"))


def funnel_chart() -> alt.LayerChart:
    lines = limits.melt(id_vars="trials", var_name="limit", value_name="rate")
    lines["limit_name"] = lines["limit"].map(
        lambda v: t("funnel_limit_95") if v.startswith("warn") else t("funnel_limit_998")
    )
    classes = [t(f"funnel_{c}") for c in maps.FUNNEL_COLOURS]
    x = alt.X("trials:Q", scale=alt.Scale(type="log"), title=t("sample"))
    return alt.layer(
        alt.Chart(lines)
        .mark_line(strokeDash=[4, 3], color="#777777", interpolate="step-after")
        .encode(
            x=x,
            y=alt.Y("rate:Q", axis=alt.Axis(format="%"), title=t(metric)),
            detail="limit:N",
            strokeWidth=alt.StrokeWidth("limit_name:N", legend=None, scale=alt.Scale(range=[1.5, 0.8])),
        ),
        alt.Chart(pd.DataFrame({"rate": [pooled]})).mark_rule(color="#333333").encode(y="rate:Q"),
        alt.Chart(points)
        .mark_circle(size=90, stroke="#333333", strokeWidth=0.6, opacity=0.95)
        .encode(
            x=x,
            y="rate:Q",
            color=alt.Color(
                "funnel:N",
                title=None,
                scale=alt.Scale(domain=classes, range=list(maps.FUNNEL_COLOURS.values())),
                legend=alt.Legend(orient="top", columns=2),  # wraps on a phone instead of widening the chart
            ),
            tooltip=[
                alt.Tooltip("name:N", title=t(f"unit_{unit}")),
                alt.Tooltip("trials:Q", title=t("sample")),
                alt.Tooltip("rate:Q", title=t(metric), format=".1%"),
                alt.Tooltip("funnel:N", title=t("status_col")),
            ],
        ),
    ).properties(height=420)


widgets.chart(("funnel", f, cache.as_of(), unit, metric), funnel_chart)
