"""Grid geometry helpers: WKB decoding, display outlines, distances in metres."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

WGS84 = "EPSG:4326"
DISPLAY_DECIMALS = 6  # ~0.1 m: finer than any grid boundary is surveyed
DISPLAY_TOLERANCE_DEG = 0.00002  # ~2 m: invisible at street zoom, removes redundant vertices


def grids_frame(rows: pd.DataFrame) -> gpd.GeoDataFrame:
    """A GeoDataFrame from rows whose ``geometry`` column holds WKB."""
    geoms = shapely.from_wkb([bytes(b) for b in rows["geometry"]])
    return gpd.GeoDataFrame(rows.drop(columns="geometry"), geometry=geoms, crs=WGS84)


def display_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grid outlines simplified together, so neighbours keep sharing their edges."""
    out = grids.copy()
    simplified = shapely.coverage_simplify(out.geometry.values, DISPLAY_TOLERANCE_DEG)
    out["geometry"] = shapely.set_precision(simplified, 10**-DISPLAY_DECIMALS)
    return out


def to_geojson(grids: gpd.GeoDataFrame, properties: list[str]) -> dict[str, Any]:
    """A compact GeoJSON FeatureCollection with only the named properties."""
    keep = grids[[*properties, "geometry"]]
    return json.loads(keep.to_json(drop_id=True, to_wgs84=False))


def metric_crs(grids: gpd.GeoDataFrame) -> str:
    """The WGS-84 UTM zone of the grids' centre, for distances in metres.

    Computed from the longitude (GeoPandas' estimate_utm_crs asks the PROJ database
    and costs ~0.15 s per call).
    """
    x0, y0, x1, y1 = grids.total_bounds
    zone = int((((x0 + x1) / 2 + 180) // 6) % 60) + 1
    return f"EPSG:{(32600 if (y0 + y1) / 2 >= 0 else 32700) + zone}"


def nearest_distance_m(sources: gpd.GeoSeries, targets: gpd.GeoSeries, crs: Any) -> np.ndarray:
    """Distance in metres from each source geometry to the nearest target.

    NaN where it cannot be measured: an empty source, or no usable target at all.
    """
    out = np.full(len(sources), np.nan)
    tgt = targets.to_crs(crs).values
    tgt = tgt[~(shapely.is_missing(tgt) | shapely.is_empty(tgt))]
    src = sources.to_crs(crs).values
    ok = ~(shapely.is_missing(src) | shapely.is_empty(src))
    if len(tgt) == 0 or not ok.any():
        return out
    idx = shapely.STRtree(tgt).nearest(src[ok])
    out[ok] = shapely.distance(src[ok], tgt[idx])
    return out
