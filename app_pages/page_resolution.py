"""网格办结率: per-grid rates, a ranking fair to small grids, map, three-level shares."""

import altair as alt
import streamlit as st

from gridpulse import maps, views
from gridpulse.strings import t
from gridpulse.ui import cache, filters, mapview, widgets

f = filters.current()
st.title(t("res_title"))
widgets.scope_line(f)
st.caption(t("res_caption"))
perf = cache.view(views.grid_performance, f, cache.as_of())
if not perf["cases"].any():
    st.info(t("empty"))

st.subheader(t("ranking"))
widgets.ranking(perf, (f, cache.as_of()))

metric = st.selectbox(t("res_map_metric"), list(maps.HIGHER_IS_BETTER)[2:], format_func=t, key="res_metric")
rendered, legend = mapview.cached(
    ("resolution", f, cache.as_of(), metric),
    lambda: maps.grid_metric_map(cache.view(views.grid_shapes, f), perf, metric, height=520),
)
mapview.show(rendered, key="res_map", height=520, returned_objects=[])
st.html(legend)

st.subheader(t("levels_title"))


def level_chart() -> alt.Chart:
    shares = views.level_shares(perf)
    labels = [t(f"level{lv}_share") for lv in (1, 2, 3)]
    shares["level_name"] = shares["level"].map(lambda lv: labels[lv - 1])
    return (
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", stack="normalize", axis=alt.Axis(format="%"), title=t("level_share")),
            y=alt.Y("grid_name:N", sort=None, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=240)),
            color=alt.Color(
                "level_name:N", title=t("level"), scale=alt.Scale(domain=labels, range=list(maps.LEVEL_SHARE_COLOURS))
            ),
            order=alt.Order("level:Q"),
            tooltip=[
                alt.Tooltip("grid_name:N", title=t("grid_name")),
                alt.Tooltip("level_name:N", title=t("level")),
                alt.Tooltip("share:Q", format=".1%", title=t("level_share")),
            ],
        )
        .properties(height=max(300, 18 * shares["grid_name"].nunique()))  # a row per grid: every name shown
    )


widgets.chart(("levels", f, cache.as_of()), level_chart)
