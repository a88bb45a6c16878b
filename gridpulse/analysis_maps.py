"""Maps of 研判预警: hot and cold spots by grid or cell, emerging patterns, repeated places.

Built on ``maps`` (local Leaflet, escaped tooltips). Colours: a red-blue diverging scale
(ColorBrewer RdBu, readable with the common colour-vision deficiencies); "not significant" is
neutral grey-white, so chance is never painted.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo import shapes
from gridpulse import maps
from gridpulse.strings import t

CONFIDENCE_COLOURS = {
    99: "#b2182b",
    95: "#ef8a62",
    90: "#fddbc7",
    0: "#f7f7f7",
    -90: "#d1e5f0",
    -95: "#67a9cf",
    -99: "#2166ac",
}
PATTERN_COLOURS = {
    "new_hot": "#fddbc7",
    "consecutive_hot": "#f4a582",
    "intensifying_hot": "#67001f",
    "persistent_hot": "#b2182b",
    "diminishing_hot": "#d6604d",
    "sporadic_hot": "#fbb4ae",
    "oscillating_hot": "#e7298a",
    "historical_hot": "#a6761d",
    "new_cold": "#d1e5f0",
    "consecutive_cold": "#92c5de",
    "intensifying_cold": "#053061",
    "persistent_cold": "#2166ac",
    "diminishing_cold": "#4393c3",
    "sporadic_cold": "#b3cde3",
    "oscillating_cold": "#7570b3",
    "historical_cold": "#1b9e77",
    "none": "#f7f7f7",
}
REPEAT_COLOUR = "#7b3294"
REPEAT_SUGGEST_COLOUR = "#e66101"


def confidence_label(c: int) -> str:
    if c == 0:
        return t("conf_none")
    return t(f"conf_{'hot' if c > 0 else 'cold'}_{abs(int(c))}")


def confidence_legend() -> str:
    entries = [(confidence_label(c), colour) for c, colour in CONFIDENCE_COLOURS.items()]
    return maps.entries_legend_html(t("hot_col_class"), [*entries, (t("conf_nodata"), maps.NO_DATA_COLOUR)])


def grid_hotspot_map(outlines: gpd.GeoDataFrame, result: pd.DataFrame) -> tuple[folium.Map, str]:
    """Grids coloured by Gi* class of cases per 100 households."""
    frame = outlines[["grid_code", "geometry"]].merge(result, on="grid_code", how="inner")
    fill = [
        maps.NO_DATA_COLOUR if pd.isna(r) else CONFIDENCE_COLOURS[int(c)]
        for r, c in zip(frame["rate"], frame["confidence"], strict=True)
    ]
    frame["class_txt"] = [
        t("conf_nodata") if pd.isna(r) else confidence_label(int(c))
        for r, c in zip(frame["rate"], frame["confidence"], strict=True)
    ]
    frame["rate_txt"] = frame["rate"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")
    frame["z_txt"] = frame["z"].map(lambda v: "—" if pd.isna(v) else f"{v:.2f}")
    tooltip = {
        "grid_name": t("grid_name"),
        "community": t("community"),
        "class_txt": t("hot_col_class"),
        "rate_txt": t("hot_col_rate"),
        "cases": t("hot_col_cases"),
        "z_txt": t("hot_col_z"),
    }
    m = maps.base_map(outlines.total_bounds, 520)
    maps.choropleth(m, gpd.GeoDataFrame(frame, geometry="geometry", crs=shapes.WGS84), fill, tooltip)
    return m, confidence_legend()


def cell_hotspot_map(outlines: gpd.GeoDataFrame, cells: pd.DataFrame) -> tuple[folium.Map, str]:
    """Grid outlines, and the ~100 m cells that are significant hot or cold spots as coloured squares."""
    m = maps.base_map(outlines.total_bounds, 520)
    maps.choropleth(m, outlines, ["#ffffff"] * len(outlines), {"grid_name": t("grid_name")})
    shown = cells[cells["confidence"] != 0].copy()
    if len(shown):
        boxes = shapely.box(
            shown["ix"] * shown["dlon"],
            shown["iy"] * shown["dlat"],
            (shown["ix"] + 1) * shown["dlon"],
            (shown["iy"] + 1) * shown["dlat"],
        )
        shown["class_txt"] = shown["confidence"].map(confidence_label)
        shown["colour"] = shown["confidence"].map(CONFIDENCE_COLOURS)
        shown["z_txt"] = shown["z"].map(lambda v: f"{v:.2f}")
        frame = gpd.GeoDataFrame(shown, geometry=boxes, crs=shapes.WGS84)
        data = shapes.to_geojson(frame, ["class_txt", "colour", "cases", "z_txt"])
        folium.GeoJson(
            data,
            name=t("hot_unit_cell"),
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.8,
                "weight": 0.5,
                "color": "#555555",
            },
            tooltip=maps._tooltip(
                {"class_txt": t("hot_col_class"), "cases": t("hot_col_cases"), "z_txt": t("hot_col_z")}
            ),
        ).add_to(m)
    return m, confidence_legend()


def pattern_label(pattern: str) -> str:
    return t(f"pattern_{pattern}")


def emerging_map(outlines: gpd.GeoDataFrame, result: pd.DataFrame) -> tuple[folium.Map, str]:
    """Grids coloured by their emerging hot spot pattern; the legend lists the patterns present."""
    frame = outlines[["grid_code", "geometry"]].merge(result, on="grid_code", how="inner")
    fill = [PATTERN_COLOURS.get(p, maps.NO_DATA_COLOUR) for p in frame["pattern"]]
    frame["pattern_txt"] = frame["pattern"].map(pattern_label)
    frame["trend_txt"] = frame["trend"].map(lambda v: t(f"trend_{v}"))
    tooltip = {
        "grid_name": t("grid_name"),
        "pattern_txt": t("emerging_col_pattern"),
        "trend_txt": t("emerging_col_trend"),
        "hot_months": t("emerging_col_hot"),
        "cold_months": t("emerging_col_cold"),
    }
    m = maps.base_map(outlines.total_bounds, 520)
    maps.choropleth(m, gpd.GeoDataFrame(frame, geometry="geometry", crs=shapes.WGS84), fill, tooltip)
    present = [p for p in PATTERN_COLOURS if p in set(frame["pattern"])] or ["none"]
    legend = maps.entries_legend_html(
        t("emerging_col_pattern"), [(pattern_label(p), PATTERN_COLOURS[p]) for p in present]
    )
    return m, legend


def repeats_map(outlines: gpd.GeoDataFrame, places: pd.DataFrame) -> tuple[folium.Map, str]:
    """Grid outlines and a circle per repeated place (bigger: more cases; orange: send to departments)."""
    m = maps.base_map(outlines.total_bounds, 520)
    maps.choropleth(m, outlines, ["#ffffff"] * len(outlines), {"grid_name": t("grid_name")})
    pts = places[places["lon"].notna() & places["lat"].notna()].copy()
    if len(pts):
        pts["colour"] = [REPEAT_SUGGEST_COLOUR if s else REPEAT_COLOUR for s in pts["suggest_department"]]
        pts["radius"] = (4 + 2 * pts["cases"].clip(upper=10)).astype(int)
        pts["first_txt"] = pts["first"].dt.strftime("%Y-%m-%d")
        pts["last_txt"] = pts["last"].dt.strftime("%Y-%m-%d")
        pts = maps._as_html_text(pts, ["place", "category", "grid_name"])
        frame = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts["lon"], pts["lat"]), crs=shapes.WGS84)
        fields = {
            "category": t("alert_col_category"),
            "place": t("repeat_col_place"),
            "grid_name": t("grid_name"),
            "cases": t("repeat_col_cases"),
            "first_txt": t("repeat_col_first"),
            "last_txt": t("repeat_col_last"),
        }
        maps.circle_layer(frame, fields, t("ana_tab_repeats"), 0.85).add_to(m)
    legend = maps.entries_legend_html(
        t("ana_tab_repeats"),
        [(t("repeat_kind_point"), REPEAT_COLOUR), (t("repeat_suggest", n="≥3"), REPEAT_SUGGEST_COLOUR)],
    )
    return m, legend
