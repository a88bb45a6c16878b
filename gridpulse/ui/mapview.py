"""Maps drawn once per filter and scope, then only sent: streamlit-folium's component fed from a cache.

``st_folium`` renders the whole folium map (Jinja templates compiled per element, GeoJSON and heat
points written out) on every run of the page, and that was most of a cached page run of the
heatmap (profiled: ~85 %). ``rendered`` does the same rendering steps with streamlit-folium's own
helpers and keeps only the strings it sends; ``show`` hands them to the same component with the
same arguments as ``st_folium`` (``tests/test_mapview.py`` compares the two for the pinned
version), so the page's map, its key and what a click returns do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import branca
import folium
import streamlit as st
import streamlit_folium as sf


@dataclass(frozen=True)
class Rendered:
    """What the streamlit-folium component is given for one map: plain strings, cheap to cache and pickle."""

    script: str
    header: str
    html: str
    id: str
    bounds: list[list[float | None]]
    zoom: Any
    css_links: list[str]
    js_links: list[str]


def _links(m: folium.Map) -> tuple[list[str], list[str]]:
    """The CSS and JS each element of the map asks for, in streamlit-folium's order, without repeats."""
    css: list[str] = []
    js: list[str] = []

    def walk(element: Any) -> Iterable[Any]:
        if isinstance(element, branca.colormap.ColorMap | folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        if isinstance(element, branca.colormap.ColorMap):  # a colour scale needs d3 from a CDN: never used here
            raise ValueError("branca colour maps load d3 from a CDN; draw the legend with maps.legend_html")
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return list(dict.fromkeys(css)), list(dict.fromkeys(js))


def rendered(m: folium.Map) -> Rendered:
    """Render ``m`` as ``st_folium`` does (the map's root, the map, its HTML, header and Leaflet script)."""
    m.get_root().render()
    m.render()
    html = sf._get_html(m)  # before the script: building the script changes the map's structure
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    try:
        bounds = m.get_bounds()
    except AttributeError:
        bounds = [[None, None], [None, None]]
    css, js = _links(m)
    return Rendered(script, header, html, sf.get_full_id(m), bounds, m.options.get("zoom"), css, js)


_DEFAULTS = (
    "last_clicked", "last_object_clicked", "last_object_clicked_count", "last_object_clicked_tooltip",
    "last_object_clicked_popup", "all_drawings", "last_active_drawing", "bounds", "zoom",
    "last_circle_radius", "last_circle_polygon", "selected_layers", "selected_tags", "last_geocoder_result",
)  # fmt: skip


def show(map_: Rendered, *, key: str, height: int, returned_objects: list[str]) -> Any:
    """The map as ``st_folium(m, key=key, height=height, use_container_width=True, returned_objects=…)``."""
    (south, west), (north, east) = map_.bounds
    known = {"bounds": {"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}},
             "zoom": map_.zoom}  # fmt: skip
    defaults = {k: known.get(k) for k in _DEFAULTS if k in returned_objects}
    hash_key = sf.generate_js_hash(map_.script, key, False)

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})

    return sf._component_func(
        script=map_.script,
        header=map_.header,
        html=map_.html,
        id=map_.id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned_objects,
        default=defaults,
        zoom=None,
        center=None,
        feature_group=None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=map_.css_links,
        js_links=map_.js_links,
        on_change=on_change,
        wrap_longitude=False,
    )


def cached(what: tuple[Any, ...], build: Callable[[], tuple[folium.Map, str] | folium.Map]) -> Any:
    """``build()``'s map rendered once per data version, scope and ``what`` (the filters and choices it depends on).

    ``build`` returns a map, or a map and its legend's HTML; the same shape comes back with the map rendered,
    on the basemap in force (``gridpulse.basemap``).
    """
    from gridpulse import basemap
    from gridpulse.ui import cache

    def render() -> Any:
        built = build()
        m = built[0] if isinstance(built, tuple) else built
        basemap.add_to(m, basemap.current(cache.store().basemap_json())[0])  # saving one bumps the data version
        return (rendered(m), built[1]) if isinstance(built, tuple) else rendered(m)

    return cache.built(("map", *what), render)
