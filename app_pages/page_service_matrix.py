"""四级服务矩阵: service points per level by community and grid, gaps on a map."""

import streamlit as st

from gridpulse import config, maps, views
from gridpulse.strings import t
from gridpulse.ui import cache, filters, mapview, widgets

f = filters.current()
st.title(t("matrix_title"))
widgets.scope_line(f)
st.caption(t("matrix_caption"))
level_names = {lv: t(f"level_name_{lv}") for lv in views.MATRIX_LEVELS}

by_community = cache.view(views.service_matrix_by_community, f)
st.subheader(t("matrix_by_community"))
st.dataframe(views.labelled_matrix(by_community), width="stretch")

distance = st.slider(t("max_distance"), 200, 2000, config.DEFAULT_STATION_DISTANCE_M, 100, key="matrix_distance")
by_grid = cache.view(views.service_matrix_by_grid, f, distance)
st.warning(
    t("gaps_summary", lack=int(by_grid["lacks_post"].sum()), far=int(by_grid["far_from_station"].sum()), dist=distance)
)
rendered = mapview.cached(
    ("matrix", f, distance),
    lambda: maps.service_matrix_map(
        cache.view(views.grid_shapes, f), by_grid, cache.view(views.service_points, f), level_names
    ),
)
mapview.show(rendered, key="matrix_map", height=560, returned_objects=[])
st.html(maps.level_legend_html(level_names))

st.subheader(t("matrix_by_grid"))
st.dataframe(views.labelled_matrix_grids(by_grid), hide_index=True, width="stretch")
