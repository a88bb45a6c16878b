"""Folium maps that work offline: local Leaflet assets, no CDN, no online basemap.

Leaflet comes from the ``django-js-lib-leaflet`` package and leaflet.heat from
``folium``'s own templates; the PMTiles layer (offline basemaps) and the map-picture control
come from the npm registry (``package.json``, ``npm ci`` into ``node_modules``). ``install_assets``
copies them into ``static/vendor`` where Streamlit serves them (``server.enableStaticServing``).
"""

from __future__ import annotations

import filecmp
import importlib.util
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
from folium.elements import JSCSSMixin
from folium.plugins import HeatMap

from geo import shapes
from gridpulse import config, formats
from gridpulse.safe_text import html_text, script_json
from gridpulse.strings import t

# branca compiles each folium element's rendered output as a Jinja template again (``MacroElement.render`` wraps it
# in ``Element(template=…)``), so an imported "{{ … }}" or "{% … %}" that reached a map's script as it is would be
# evaluated on the server. folium's templates write data (GeoJSON properties such as a grid's code, tooltip fields)
# with ``|tojson``: through Jinja's policy, that is ``script_json``, which writes "{{", "{%" and "{#" inside strings
# as "\u007b…" (the same string to the browser). Texts put into HTML are ``html_text``, which writes "{" as "&#123;".
folium.GeoJson._template.environment.policies["json.dumps_function"] = lambda value, **_kw: script_json(value)

VENDOR = "vendor"
NO_DATA_COLOUR = "#d0d4d9"
# Colour-blind-safe palettes only (no red against green): ColorBrewer YlOrRd for "more is worse",
# RdYlBu for rates where more is better (red low, blue high); Okabe-Ito for categories.
DENSITY_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
RATE_COLOURS = ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6")
LEVEL_COLOURS = {1: "#d55e00", 2: "#e69f00", 3: "#0072b2", 4: "#56b4e9"}
OTHER_KIND_COLOURS = {"council_venue": "#cc79a7", "volunteer_team": "#f0e442"}  # Okabe-Ito, beside the levels
# Three-level linkage: grid (good: solved close to residents), community, departments.
LEVEL_SHARE_COLOURS = ("#0072b2", "#e69f00", "#d55e00")
GAP_OUTLINE = "#e31a1c"
HEAT_TOP_QUANTILE = 0.98
# Cool colours for the heat so it reads over the warm (YlOrRd) grid fills.
HEAT_GRADIENT = {0.25: "#abd9e9", 0.5: "#4393c3", 0.75: "#2166ac", 1.0: "#2d004b"}


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(name)
    return Path(spec.origin).parent


NODE_MODULES = config.REPO_ROOT / "node_modules"
NPM_ASSETS = {  # served name -> file in node_modules (versions pinned in package.json / package-lock.json)
    "pmtiles.js": "pmtiles/dist/pmtiles.js",
    "leaflet-simple-map-screenshoter.js": "leaflet-simple-map-screenshoter/dist/leaflet-simple-map-screenshoter.js",
}


def asset_sources() -> dict[str, Path]:
    """Where each served asset comes from in the installed packages (npm's only once ``npm ci`` ran)."""
    leaflet = _package_dir("js_lib_leaflet") / "static" / "js_lib_leaflet"
    sources = {
        "leaflet.js": leaflet / "leaflet.js",
        "leaflet.css": leaflet / "leaflet.css",
        "leaflet_heat.min.js": _package_dir("folium") / "templates" / "leaflet_heat.min.js",
    }
    npm = {name: NODE_MODULES / rel for name, rel in NPM_ASSETS.items()}
    return sources | {name: path for name, path in npm.items() if path.is_file()}


def install_assets(static_dir: Path = config.STATIC_DIR) -> list[Path]:
    """Copy the JS/CSS assets into Streamlit's static folder (idempotent)."""
    target = static_dir / VENDOR
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, src in asset_sources().items():
        dest = target / name
        if not dest.exists() or not filecmp.cmp(src, dest, shallow=False):
            shutil.copyfile(src, dest)
        written.append(dest)
    return written


def asset_url(name: str) -> str:
    return f"{config.STATIC_URL}/{VENDOR}/{name}"


def base_map(bounds: Sequence[float], height: int = 560) -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy) using only local assets, without a basemap."""
    m = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        tiles=None,  # the basemap in force is added where the map is shown (gridpulse/basemap.py)
        zoom_control=True,
        control_scale=False,  # Leaflet's default scale shows feet and miles too: a metric one is added below
        prefer_canvas=True,
        height=height,
        zoom_snap=0.25,  # fit the street to the frame closely, not to the next whole zoom level
        zoom_delta=0.5,
    )
    # Replace folium's CDN asset lists (Leaflet, jQuery, Bootstrap, icons) with local Leaflet.
    m.default_js = [("leaflet", asset_url("leaflet.js"))]
    m.default_css = [("leaflet_css", asset_url("leaflet.css"))]
    m.get_root().header.add_child(
        folium.Element(
            "<style>.leaflet-container{background:#eef1f4;font-family:sans-serif}"
            # The heat canvas lies above the grids: let clicks and hovers reach the grids.
            ".leaflet-heatmap-layer{pointer-events:none}"
            # Grid names: centred on their point, dark text with a white halo, readable over any fill.
            ".gp-grid-label span{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;"
            "font-size:12px;font-weight:600;color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}"
            ".gp-labels-hidden .gp-grid-label{display:none}</style>"
        )
    )
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    m.add_child(_MetricScaleNoFlag())
    m.add_child(_TouchScrolls())  # on a phone one finger scrolls the page past the map; two fingers move it
    if PICTURE_JS in asset_sources():
        m.add_child(_MapPicture())
    return m


PICTURE_JS = "leaflet-simple-map-screenshoter.js"
TRANSPARENT_PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


class _MapPicture(JSCSSMixin, folium.MacroElement):
    """A button that saves the map as it is shown (basemap, grids, heat, names) as a PNG picture."""

    def __init__(self) -> None:
        super().__init__()
        self.options = {
            "screenName": t("map_picture_file"),
            "position": "topleft",
            "mimeType": "image/png",
            # The picture keeps the scale bar and the attribution (the basemap's terms ask for it).
            "hideElementsWithSelectors": [".leaflet-control-zoom", ".leaflet-control-layers", ".gp-map-picture"],
            # A tile server that does not let pages read its tiles leaves those tiles blank, not the picture unmade.
            "domtoimageOptions": {"imagePlaceholder": TRANSPARENT_PIXEL},
        }
        self.title = t("map_picture_button")
        self.default_js = [("map_picture", asset_url(PICTURE_JS))]

    _template = jinja2.Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
            if (!L.simpleMapScreenshoter) return;
            var shot = L.simpleMapScreenshoter({{ this.options|tojson }}).addTo(map);
            var box = shot.getContainer();
            if (!box) return;
            box.classList.add("gp-map-picture");
            [box].concat(Array.prototype.slice.call(box.querySelectorAll("a, button"))).forEach(function (el) {
                el.title = {{ this.title|tojson }};
                el.setAttribute("aria-label", {{ this.title|tojson }});
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


class _MetricScaleNoFlag(folium.MacroElement):
    """A metric-only scale bar, and the attribution's prefix as the plain word "Leaflet" (no flag icon)."""

    _template = jinja2.Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        {% endmacro %}"""
    )


def classify(values: pd.Series, higher_is_better: bool) -> tuple[list[str], list[tuple[float, float]], list[str]]:
    """A colour per value (quantile classes), and the class ranges and colours for the legend."""
    colours = RATE_COLOURS if higher_is_better else DENSITY_COLOURS
    v = pd.to_numeric(values, errors="coerce").astype(float)
    valid = v.dropna()
    if valid.empty:
        return [NO_DATA_COLOUR] * len(v), [], []
    edges = np.unique(np.quantile(valid, np.linspace(0, 1, len(colours) + 1)))
    if len(edges) < 2:
        edges = np.array([valid.min(), valid.max() + 1e-9])
    k = len(edges) - 1
    if k == 1:  # every grid has the same value: neither best nor worst, the middle colour
        palette = [colours[len(colours) // 2]]
    else:
        palette = [colours[round(i * (len(colours) - 1) / (k - 1))] for i in range(k)]
    idx = np.clip(np.searchsorted(edges, v.fillna(0).to_numpy(), side="right") - 1, 0, k - 1)
    out = [NO_DATA_COLOUR if pd.isna(x) else palette[i] for x, i in zip(v, idx, strict=True)]
    return out, [(float(edges[i]), float(edges[i + 1])) for i in range(k)], palette


# Funnel classes (gridpulse/fairness.py), worse to better: a diverging orange-purple scale that
# colour-blind readers can tell apart; "within the limits" is neutral, so chance is never painted.
FUNNEL_COLOURS = {-2: "#b35806", -1: "#f1a340", 0: "#f2f2f2", 1: "#998ec3", 2: "#542788"}


def grid_fill(frame: pd.DataFrame, metric: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A colour per grid and the legend's (text, colour) entries.

    A rate with funnel classes in ``frame`` (``<metric>_funnel``, from ``scorecard.ranking``) is
    coloured by them: only grids out of line beyond chance get a colour. Other figures get
    quantile classes.
    """
    funnel = f"{metric}_funnel"
    if funnel in frame.columns:
        classes = frame[funnel]
        fill = [NO_DATA_COLOUR if pd.isna(c) else FUNNEL_COLOURS[int(c)] for c in classes]
        entries = [(t(f"funnel_{c}"), colour) for c, colour in FUNNEL_COLOURS.items()]
        return fill, [*entries, (t("legend_no_data"), NO_DATA_COLOUR)]
    fill, ranges, palette = classify(frame[metric], HIGHER_IS_BETTER[metric])
    fmt = "{:.1%}" if metric in formats.RATE_METRICS else "{:.1f}"
    entries = [(f"{fmt.format(lo)} – {fmt.format(hi)}", c) for (lo, hi), c in zip(ranges, palette, strict=True)]
    return fill, [*entries, (t("legend_no_data"), NO_DATA_COLOUR)]


def entries_legend_html(title: str, entries: list[tuple[str, str]]) -> str:
    """A small HTML legend of (text, colour) entries; texts escaped."""
    items = "".join(_swatch(f"background:{c};border:1px solid #888", text) for text, c in entries)
    return f'<div style="font-size:0.9rem"><b>{html_text(title)}</b>：{items}</div>'


def _swatch(style: str, text: str) -> str:
    """One legend entry: a small coloured box (``style`` overrides its defaults) and its text."""
    box = f'<span style="width:18px;height:12px;margin-right:4px;{html_text(style)}"></span>'
    return f'<span style="display:inline-flex;align-items:center;margin-right:14px">{box}{html_text(text)}</span>'


def legend_html(title: str, ranges: list[tuple[float, float]], palette: list[str], fmt: str) -> str:
    """A small HTML legend (branca's colormap would load d3 from a CDN)."""
    items = "".join(
        _swatch(f"background:{c};border:1px solid #888", f"{fmt.format(lo)} – {fmt.format(hi)}")
        for (lo, hi), c in zip(ranges, palette, strict=True)
    )
    items += _swatch(f"background:{NO_DATA_COLOUR};border:1px solid #888", t("legend_no_data"))
    return f'<div style="font-size:0.9rem"><b>{html_text(title)}</b>：{items}</div>'


def _as_html_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` escaped for a tooltip or popup.

    folium's GeoJsonTooltip/GeoJsonPopup put property values into ``innerHTML``: an imported
    name such as ``<img src=x onerror=...>`` would run in the map's frame (same origin as the
    dashboard). Escaped, it shows as the text it is. Other values (numbers, None) pass.
    """
    out = frame.copy()
    for col in columns:
        out[col] = out[col].map(lambda v: html_text(v) if isinstance(v, str) else v)
    return out


def _tooltip(fields: dict[str, str], **kw: Any) -> folium.GeoJsonTooltip:
    """A tooltip of ``fields`` (property -> label); labels are put into HTML too, so escaped."""
    return folium.GeoJsonTooltip(fields=list(fields), aliases=[html_text(a) for a in fields.values()], **kw)


def choropleth(
    m: folium.Map,
    grids: gpd.GeoDataFrame,
    fill: list[str],
    tooltip: dict[str, str],
    outline: list[str] | None = None,
    fill_opacity: float = 0.55,
) -> folium.GeoJson:
    """Grid polygons filled with ``fill`` colours; ``tooltip`` maps property -> label; names on the map.

    Every property the tooltip shows is HTML-escaped here, whatever the caller passes. Grid names
    are written on the map (``grid_labels``) where the layer has them.
    """
    frame = _as_html_text(grids, list(tooltip))
    frame["fill"] = fill
    frame["stroke"] = outline or ["#555555"] * len(frame)
    frame["opacity"] = fill_opacity
    props = list(dict.fromkeys([*tooltip, "fill", "stroke", "opacity", "grid_code"]))
    data = shapes.to_geojson(frame, props)
    layer = folium.GeoJson(
        data,
        name=t("grid"),
        style_function=_grid_style,
        highlight_function=lambda _f: {"weight": 3, "color": "#000000"},
        tooltip=_tooltip(tooltip, sticky=True),
    )
    layer.add_to(m)
    if "grid_name" in grids.columns:
        grid_labels(m, grids)
    return layer


LABELS_ALWAYS = 12  # up to this many grids, names are written at every zoom; more: once zoomed in a step


def grid_labels(m: folium.Map, grids: gpd.GeoDataFrame) -> None:
    """Each grid's name at a point inside it, shown when there is room (see ``LABELS_ALWAYS``).

    One layer whose script makes the labels (``_GridLabels``), not a folium marker per grid: branca compiles each
    element's rendered output as a template again, which made 60 names most of a map's rendering. Names are
    imported text: they reach the page as JSON and become text nodes, never HTML.
    """
    points = grids.geometry.representative_point()
    labels = [[round(pt.y, 7), round(pt.x, 7), name]
              for name, pt in zip(grids["grid_name"], points, strict=True)
              if isinstance(name, str) and not pt.is_empty]  # fmt: skip
    m.add_child(_GridLabels(labels))
    m.add_child(_LabelsWhenRoom(len(grids)))


class _GridLabels(folium.MacroElement):
    """The grid names as one Leaflet layer group of non-interactive markers (class ``gp-grid-label``)."""

    def __init__(self, labels: list[list[Any]]) -> None:
        super().__init__()
        self._name = "GridLabels"
        self.labels = script_json(labels)

    _template = jinja2.Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
            var group = L.layerGroup().addTo(map);
            {{ this.labels }}.forEach(function (label) {
                var name = document.createElement("span");
                name.textContent = label[2];
                L.marker([label[0], label[1]], {
                    icon: L.divIcon({html: name, className: "gp-grid-label", iconSize: [0, 0]}),
                    interactive: false, keyboard: false
                }).addTo(group);
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


class _LabelsWhenRoom(folium.MacroElement):
    """Hide the grid names while the street is seen whole and has many grids; show them a zoom step in."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = int(count)

    _template = jinja2.Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
            var first = map.getZoom();
            function fit() {
                map.getContainer().classList.toggle(
                    "gp-labels-hidden", {{ this.count }} > {{ always }} && map.getZoom() < first + 1);
            }
            map.on("zoomend", fit);
            fit();
        })({{ this._parent.get_name() }});
        {% endmacro %}""".replace("{{ always }}", str(LABELS_ALWAYS))
    )


def _grid_style(feature: dict[str, Any]) -> dict[str, Any]:
    props = feature["properties"]
    gap = props["stroke"] != "#555555"
    return {
        "fillColor": props["fill"],
        "fillOpacity": props.get("opacity", 0.55),
        "color": props["stroke"],
        "weight": 3.5 if gap else 1,
    }


def heat_layer(m: folium.Map, cells: pd.DataFrame) -> HeatMap:
    """Weighted heat cells (lat, lon, weight); the leaflet.heat script is served locally.

    Weights are scaled so the 98th-percentile cell is full heat: one extreme cell does
    not wash the rest out, and leaflet.heat's fixed maximum of 1 does not saturate.
    """
    top = float(cells["weight"].quantile(HEAT_TOP_QUANTILE)) if len(cells) else 1.0
    scaled = (cells["weight"] / max(top, 1.0)).clip(upper=1.0).round(3)
    data = np.column_stack([cells["lat"].round(6), cells["lon"].round(6), scaled]).tolist()
    layer = HeatMap(
        data, name=t("heat_title"), radius=12, blur=14, min_opacity=0.1, max_zoom=16, gradient=HEAT_GRADIENT
    )
    layer.default_js = [("leaflet-heat.js", asset_url("leaflet_heat.min.js"))]
    layer.add_to(m)
    return layer


def service_points_layer(m: folium.Map, points: pd.DataFrame, labels: dict[int, str]) -> folium.GeoJson | None:
    """Service points as small circles coloured by matrix level, in one GeoJSON layer."""
    pts = points[points["level"].notna() & points["lon"].notna() & points["lat"].notna()].copy()
    if pts.empty:
        return None
    pts["level"] = pts["level"].astype(int)
    pts["level_name"] = pts["level"].map(labels)
    pts["colour"] = pts["level"].map(LEVEL_COLOURS)
    pts["radius"] = pts["level"].map({1: 9, 2: 7, 3: 5, 4: 3})
    pts = _as_html_text(pts, ["name", "level_name"])
    frame = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts["lon"], pts["lat"]), crs=shapes.WGS84)
    layer = circle_layer(frame, {"name": t("resource_name"), "level_name": t("level")}, t("matrix_title"), 0.9)
    layer.add_to(m)
    return layer


def _circle_style(feature: dict) -> dict[str, object]:
    return {"color": "#222222", "fillColor": feature["properties"]["colour"], "radius": feature["properties"]["radius"]}


def circle_layer(frame: gpd.GeoDataFrame, fields: dict[str, str], name: str, opacity: float) -> folium.GeoJson:
    """Points as circles, each with its own ``colour`` and ``radius`` column, and a tooltip of ``fields``.

    Text in ``fields`` must already be escaped (``_as_html_text``): Leaflet writes tooltips as HTML.
    """
    data = shapes.to_geojson(frame, [*fields, "colour", "radius"])
    return folium.GeoJson(
        data,
        name=name,
        marker=folium.CircleMarker(radius=5, weight=1, fill=True, fill_opacity=opacity),
        style_function=_circle_style,
        tooltip=_tooltip(fields),
    )


def map_html(m: folium.Map) -> str:
    """The map as one standalone HTML page (what a payload-size check measures)."""
    return m.get_root().render()


# Which way is good for each figure a map can colour grids by.
HIGHER_IS_BETTER = {
    "cases_per_100": False,
    "cases": False,
    "resolution_rate": True,
    "on_time_rate": True,
    "self_resolved_share": True,
    "satisfaction": True,
    "rework_rate": False,
    "median_hours": False,
}


def grid_metric_map(
    shapes_: gpd.GeoDataFrame,
    perf: pd.DataFrame,
    metric: str,
    heat_cells: pd.DataFrame | None = None,
    height: int = 560,
) -> tuple[folium.Map, str]:
    """Grids coloured by ``metric`` (with a tooltip of their figures), optional heat layer.

    Returns the map and its legend as HTML.
    """
    frame = shapes_[["grid_code", "geometry"]].merge(perf, on="grid_code", how="left")
    fill, entries = grid_fill(frame, metric)
    shown = ["cases", "cases_per_100", "resolution_rate", "on_time_rate", "satisfaction", "median_hours"]
    for col in shown:
        frame[f"{col}_txt"] = [formats.value(col, v) for v in frame[col]]
    tooltip = {"grid_name": t("grid_name"), "community": t("community"), "grid_head": t("grid_head")}
    tooltip |= {f"{col}_txt": t(col) for col in shown}
    m = base_map(shapes_.total_bounds, height)
    heat = heat_cells is not None and len(heat_cells) > 0
    # Under the heat, the fill is paler so the two do not mix into mud; each has its own legend.
    opacity = 0.3 if heat else 0.55
    choropleth(m, gpd.GeoDataFrame(frame, geometry="geometry", crs=shapes.WGS84), fill, tooltip, fill_opacity=opacity)
    legend = entries_legend_html(t(metric), entries)
    if heat:
        heat_layer(m, heat_cells)
        legend += heat_legend_html()
    return m, legend


def heat_legend_html() -> str:
    """The heat layer's own legend: its colour ramp from few to many cases."""
    stops = ", ".join(f"{c} {int(k * 100)}%" for k, c in sorted(HEAT_GRADIENT.items()))
    style = f"display:inline-block;width:140px;height:12px;background:linear-gradient(to right, {stops})"
    bar = f'<span style="{style};border:1px solid #888;margin:0 6px"></span>'
    note = html_text(t("heat_legend_note", top=round((1 - HEAT_TOP_QUANTILE) * 100)))
    return (
        f'<div style="font-size:0.9rem;margin-top:4px"><b>{html_text(t("heat_legend_title"))}</b>：'
        f"{html_text(t('heat_legend_few'))}{bar}{html_text(t('heat_legend_many'))}　{note}</div>"
    )


def my_grids_map(shapes_: gpd.GeoDataFrame, open_by_name: pd.Series) -> folium.Map:
    """A grid head's grids with their names and open cases, for a phone (one finger scrolls past it, as every map)."""
    frame = shapes_[["grid_code", "grid_name", "community", "geometry"]].copy()
    frame["open_cases"] = frame["grid_name"].map(open_by_name).fillna(0).astype(int)
    tooltip = {"grid_name": t("grid_name"), "community": t("community"), "open_cases": t("my_open_count")}
    m = base_map(shapes_.total_bounds, 360)
    choropleth(m, gpd.GeoDataFrame(frame, geometry="geometry", crs=shapes.WGS84), ["#d1e5f0"] * len(frame), tooltip)
    return m


class _TouchScrolls(folium.MacroElement):
    """Every map, on a touch screen: one-finger drags scroll the page (pan-y), two fingers move and zoom the map."""

    _template = jinja2.Template(
        """{% macro script(this, kwargs) %}
        if (L.Browser.mobile || L.Browser.touch && !L.Browser.pointer) {
            {{ this._parent.get_name() }}.dragging.disable();
            {{ this._parent.get_name() }}.getContainer().style.touchAction = "pan-y";
        }
        {% endmacro %}"""
    )


def service_matrix_map(
    shapes_: gpd.GeoDataFrame, by_grid: pd.DataFrame, points: pd.DataFrame, level_names: dict[int, str]
) -> folium.Map:
    """Grids (gaps outlined in red) with the service points coloured by level."""
    frame = shapes_[["grid_code", "geometry"]].merge(by_grid, on="grid_code", how="left")
    gap = frame["lacks_post"].fillna(False) | frame["far_from_station"].fillna(False)
    fill = ["#fde0dd" if g else "#f7f7f7" for g in gap]
    outline = [GAP_OUTLINE if g else "#555555" for g in gap]
    frame["distance_txt"] = frame["distance_m"].map(lambda d: t("no_data") if pd.isna(d) else f"{d:,.0f}")
    frame["gap_txt"] = [
        "、".join(n for n, flag in ((t("lacks_post"), a), (t("far_from_station"), b)) if flag) or "—"
        for a, b in zip(frame["lacks_post"], frame["far_from_station"], strict=True)
    ]
    tooltip = {"grid_name": t("grid_name"), "community": t("community")}
    tooltip |= {f"level{lv}": level_names[lv] for lv in level_names}
    tooltip |= {"distance_txt": t("distance_m"), "gap_txt": t("gap")}
    m = base_map(shapes_.total_bounds)
    choropleth(m, gpd.GeoDataFrame(frame, geometry="geometry", crs=shapes.WGS84), fill, tooltip, outline)
    service_points_layer(m, points, level_names)
    for kind, colour in OTHER_KIND_COLOURS.items():  # each its own layer, switched on the map
        pts = points[(points["kind"] == kind) & points["lon"].notna() & points["lat"].notna()].copy()
        group = folium.FeatureGroup(name=html_text(t(f"kind_{kind}")), show=True)
        if len(pts):
            pts["kind_name"] = t(f"kind_{kind}")
            pts["colour"], pts["radius"] = colour, 5
            pts = _as_html_text(pts, ["name", "kind_name"])
            frame = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts["lon"], pts["lat"]), crs=shapes.WGS84)
            circle_layer(frame, {"name": t("resource_name"), "kind_name": t("resource_kind")}, "", 0.9).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def level_legend_html(level_names: dict[int, str]) -> str:
    """Legend for the service point colours and the gap outline."""
    items = "".join(
        _swatch(f"width:12px;border-radius:50%;background:{LEVEL_COLOURS[lv]};border:1px solid #222", name)
        for lv, name in level_names.items()
    )
    items += "".join(
        _swatch(f"width:12px;border-radius:50%;background:{colour};border:1px solid #222", t(f"kind_{kind}"))
        for kind, colour in OTHER_KIND_COLOURS.items()
    )
    items += _swatch(
        f"border:3px solid {GAP_OUTLINE};background:#fde0dd", f"{t('lacks_post')} / {t('far_from_station')}"
    )
    return f'<div style="font-size:0.9rem">{items}</div>'
