"""诉求热力图: case density heat layer over a grid choropleth, drill into one grid."""

import streamlit as st

from gridpulse import config, maps, views
from gridpulse.safe_text import file_part, md_text
from gridpulse.scope import ADMIN
from gridpulse.strings import t
from gridpulse.ui import cache, filters, mapview, session, widgets

f = filters.current()
st.title(t("heat_title"))
widgets.scope_line(f)
metric = st.radio(
    t("choropleth_metric"), ["cases_per_100", "resolution_rate"], format_func=t, horizontal=True, key="heat_metric"
)
show_heat = st.toggle(t("show_heat"), value=True, key="heat_show")
st.caption(t("heat_caption", metric=t(metric)))

perf = cache.view(views.grid_performance, f, cache.as_of())
if not perf["cases"].any():
    st.info(t("empty"))
rendered, legend = mapview.cached(
    ("heat", f, cache.as_of(), metric, show_heat),
    lambda: maps.grid_metric_map(
        cache.view(views.grid_shapes, f), perf, metric, cache.view(views.heat_cells, f) if show_heat else None
    ),
)
clicked = mapview.show(rendered, key="heat_map", height=560, returned_objects=["last_active_drawing"])
st.html(legend)

names = dict(zip(perf["grid_code"], perf["grid_name"], strict=True))
picked = ((clicked or {}).get("last_active_drawing") or {}).get("properties", {}).get("grid_code")
options = [None, *names]
grid = st.selectbox(
    t("drill"),
    options,
    index=options.index(picked) if picked in names else 0,
    format_func=lambda g: t("drill_none") if g is None else names[g],
    key=f"heat_drill_{picked}",
)
if grid:
    cases = cache.view(views.grid_cases, f, grid)
    n = int(perf.loc[perf["grid_code"] == grid, "cases"].iloc[0])
    st.caption(t("drill_caption", grid=md_text(names[grid]), n=n, limit=config.MAX_TABLE_ROWS))
    st.dataframe(views.labelled_cases(cases), hide_index=True, width="stretch")
    with_pii = session.current_scope().role == ADMIN and st.checkbox(t("export_with_pii"), key="heat_export_pii")
    st.download_button(
        t("export_csv"),
        session.audited_export(
            cache.deferred(views.grid_cases_csv, f, grid, mask=not with_pii),
            f"{names[grid]} {f.start}..{f.end}" + (" " + t("export_pii_detail") if with_pii else ""),
        ),
        file_name=t("heat_export_file", grid=file_part(names[grid]), start=f.start, end=f.end),
        mime="text/csv",
        key="heat_export",
    )
