"""Tested hot spots (Getis-Ord Gi*) and emerging hot spots (Gi* per month plus a Mann-Kendall trend).

The statistics are PySAL's (``esda.G_Local`` with ``star=True`` and permutation inference,
``esda.fdr``; ``libpysal`` weights) and ``pymannkendall``'s; this module only arranges the data and
names the classes as ArcGIS Pro's Hot Spot and Emerging Hot Spot Analysis do.

Classes: hot or cold at 99 / 95 / 90 % confidence, each level's p-value cut-off corrected for
testing every unit at once by the False Discovery Rate (Benjamini-Hochberg, ``esda.fdr``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

PERMUTATIONS = 999
SEED = 20261201  # permutation p-values are repeatable: the same street gives the same classes
LEVELS = ((0.01, 99), (0.05, 95), (0.10, 90))  # (alpha, confidence %)
CELL_M = 100.0  # small cells for the point version
PERSISTENT_SHARE = 0.9  # ArcGIS: "at least ninety percent of the time-step intervals"


@dataclass(frozen=True)
class GiStar:
    """Gi* per unit: z-scores, permutation p-values and the confidence class (+99 … −99, 0: not significant)."""

    z: np.ndarray
    p: np.ndarray
    confidence: np.ndarray  # signed: +99 hot at 99 %, −95 cold at 95 %, 0 not significant


def gi_star(y: np.ndarray, w: object, permutations: int = PERMUTATIONS, seed: int = SEED) -> GiStar:
    """Getis-Ord Gi* of ``y`` over the binary weights ``w`` (self included), FDR-corrected classes."""
    import esda

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands and constant values: PySAL warns, the classes say it
        g = esda.G_Local(
            np.asarray(y, dtype=float), w, transform="B", permutations=permutations, star=True, n_jobs=1, seed=seed
        )
    z = np.nan_to_num(np.asarray(g.Zs, dtype=float))
    p = np.asarray(g.p_sim, dtype=float) if permutations else np.asarray(g.p_norm, dtype=float)
    return GiStar(z, p, classify(z, p))


def classify(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Signed confidence per unit: the highest level whose FDR-corrected cut-off its p-value meets."""
    import esda

    out = np.zeros(len(z), dtype=int)
    for alpha, confidence in reversed(LEVELS):  # 90, then 95, then 99 overwrite
        cut = esda.fdr(p, alpha) if len(p) else 0.0
        out = np.where((p <= cut) & (z != 0), np.sign(z).astype(int) * confidence, out)
    return out


def contiguity(shapes: gpd.GeoDataFrame) -> object:
    """Queen contiguity between grid polygons (shared edge or corner), binary."""
    from libpysal import weights

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return weights.Queen.from_dataframe(shapes, use_index=False, silence_warnings=True)


def lattice(ix: np.ndarray, iy: np.ndarray) -> object:
    """Neighbouring cells (the eight around each, where they exist) of a set of square cells."""
    from libpysal import weights

    coords = np.column_stack([ix, iy]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return weights.DistanceBand(coords, threshold=1.5, binary=True, silence_warnings=True)


def grid_hotspots(shapes: gpd.GeoDataFrame, counts: pd.Series) -> pd.DataFrame:
    """Gi* of cases per 100 households by grid. ``counts``: cases per grid_code (missing = 0).

    Grids without households have no rate and are left out (class "no data").
    """
    frame = shapes[["grid_code", "grid_name", "community", "households", "geometry"]].copy()
    frame["cases"] = frame["grid_code"].map(counts).fillna(0).astype(int)
    has = frame["households"].fillna(0) > 0
    frame["rate"] = np.where(has, frame["cases"] / frame["households"].where(has, 1) * 100, np.nan)
    frame["z"], frame["p"], frame["confidence"] = np.nan, np.nan, 0
    tested = frame[has].reset_index(drop=True)
    if len(tested) >= 3:
        result = gi_star(tested["rate"].to_numpy(), contiguity(tested))
        frame.loc[has, "z"] = result.z
        frame.loc[has, "p"] = result.p
        frame.loc[has, "confidence"] = result.confidence
    return pd.DataFrame(frame.drop(columns="geometry"))


def street_cells(shapes: gpd.GeoDataFrame, dlon: float, dlat: float) -> pd.DataFrame:
    """Every cell (ix, iy) whose centre lies inside one of the grids, with its centre's lon and lat."""
    import shapely

    minx, miny, maxx, maxy = shapes.total_bounds
    ix = np.arange(int(np.floor(minx / dlon)), int(np.floor(maxx / dlon)) + 1)
    iy = np.arange(int(np.floor(miny / dlat)), int(np.floor(maxy / dlat)) + 1)
    gx, gy = np.meshgrid(ix, iy)
    lon, lat = (gx.ravel() + 0.5) * dlon, (gy.ravel() + 0.5) * dlat
    inside = shapely.contains_xy(shapely.union_all(shapes.geometry.values), lon, lat)
    return pd.DataFrame({"ix": gx.ravel()[inside], "iy": gy.ravel()[inside], "lon": lon[inside], "lat": lat[inside]})


def cell_hotspots(cells: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Gi* of case counts in the street's cells (``street_cells``); ``counts`` has ix, iy, cases."""
    frame = cells.merge(counts, on=["ix", "iy"], how="left").fillna({"cases": 0})
    frame["cases"] = frame["cases"].astype(int)
    frame["z"], frame["p"], frame["confidence"] = 0.0, 1.0, 0
    if len(frame) >= 3 and frame["cases"].nunique() > 1:
        result = gi_star(frame["cases"].to_numpy(), lattice(frame["ix"].to_numpy(), frame["iy"].to_numpy()))
        frame["z"], frame["p"], frame["confidence"] = result.z, result.p, result.confidence
    return frame


# ---- emerging hot spots ------------------------------------------------------

EMERGING = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical")


def emerging_class(confidence: np.ndarray, trend: str) -> str:
    """ArcGIS Pro's emerging hot spot category of one unit from its signed class per step (oldest first).

    ``trend`` is the Mann-Kendall result on its z-scores: "increasing", "decreasing" or "no trend".
    Returns e.g. "new_hot", "persistent_cold" or "none".
    """
    for sign, kind in ((1, "hot"), (-1, "cold")):
        sig = np.sign(confidence) == sign
        other = np.sign(confidence) == -sign
        n, hits, last = len(sig), int(sig.sum()), bool(sig[-1])
        if hits == 0:
            continue
        mostly = hits >= PERSISTENT_SHARE * n
        growing = trend == ("increasing" if sign == 1 else "decreasing")
        fading = trend == ("decreasing" if sign == 1 else "increasing")
        if last and mostly:
            label = "intensifying" if growing else "diminishing" if fading else "persistent"
            return f"{label}_{kind}"
        if not last and mostly:
            return f"historical_{kind}"
        if not last:
            continue
        if hits == 1:
            return f"new_{kind}"
        run = n if sig.all() else int(np.argmin(sig[::-1]))  # the unbroken run of hits ending now
        if run == hits and run >= 2:  # one unbroken run at the end, never before it
            return f"consecutive_{kind}"
        if other.any():
            return f"oscillating_{kind}"
        return f"sporadic_{kind}"
    return "none"


def emerging(
    shapes: gpd.GeoDataFrame, monthly: pd.DataFrame, months: list[pd.Timestamp], permutations: int = PERMUTATIONS
) -> pd.DataFrame:
    """Emerging hot spots of cases per 100 households by grid over ``months`` (oldest first).

    ``monthly`` has grid_code, month, cases. Per month Gi* (as ``grid_hotspots``); per grid a
    Mann-Kendall test on its monthly z-scores; then the ArcGIS category.
    """
    import pymannkendall as mk

    tested = shapes[shapes["households"].fillna(0) > 0].reset_index(drop=True)
    w = contiguity(tested)
    z = np.zeros((len(tested), len(months)))
    conf = np.zeros((len(tested), len(months)), dtype=int)
    table = monthly.pivot_table(index="grid_code", columns="month", values="cases", aggfunc="sum", fill_value=0)
    for j, month in enumerate(months):
        cases = tested["grid_code"].map(table[month] if month in table.columns else {}).fillna(0).to_numpy()
        rate = cases / tested["households"].to_numpy() * 100
        if np.ptp(rate) == 0:
            continue
        result = gi_star(rate, w, permutations)
        z[:, j], conf[:, j] = result.z, result.confidence
    rows = []
    for i, grid in tested.iterrows():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trend = mk.original_test(z[i]).trend if len(months) >= 4 else "no trend"
        rows.append(
            {
                "grid_code": grid["grid_code"],
                "grid_name": grid["grid_name"],
                "community": grid["community"],
                "pattern": emerging_class(conf[i], trend),
                "trend": trend,
                "hot_months": int((conf[i] > 0).sum()),
                "cold_months": int((conf[i] < 0).sum()),
                "last_z": float(z[i, -1]),
            }
        )
    return pd.DataFrame(rows)
