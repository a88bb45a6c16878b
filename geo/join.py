"""Assign points (cases, resources) to grid polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

WGS84 = "EPSG:4326"


def assign_grids(lon: np.ndarray, lat: np.ndarray, grids: gpd.GeoDataFrame) -> np.ndarray:
    """The grid code of each point, or None for a point in no grid.

    A point on a shared edge or vertex touches several grids; it goes to the lowest
    grid code, so every point is counted exactly once. Missing coordinates give None.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = np.full(len(lon), None, dtype=object)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any() or grids.empty:
        return out
    points = gpd.GeoDataFrame({"row": np.flatnonzero(ok)}, geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs=WGS84)
    polys = grids[["grid_code", "geometry"]].set_crs(WGS84, allow_override=True)
    hits = gpd.sjoin(points, polys, how="inner", predicate="intersects")
    first = (
        pd.DataFrame({"row": hits["row"].to_numpy(), "grid_code": hits["grid_code"].to_numpy()})
        .sort_values(["row", "grid_code"])
        .drop_duplicates("row")
    )
    out[first["row"].to_numpy()] = first["grid_code"].to_numpy()
    return out
