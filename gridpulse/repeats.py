"""Repeated places (重复诉求): the same problem reported again and again at one place.

A place is, per category, a case and the cases within ``radius_m`` metres of it (SciPy's k-d
tree finds them; the case with most such neighbours is taken first), reported with no gap of
more than ``days`` days between one and the next, at least ``min_cases`` of them. Cases
without coordinates are grouped by their address text the same way (same category, same
address, no gap of more than ``days``). A case reopened after closing is a
repeat by itself and is listed when it belongs to no place.

Suggestion: a place the grid has handled ``min_cases`` times or more without a department ever
being involved (level 3) is suggested for the departments (三级联动: hard matters jointly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

METRES_PER_DEG_LAT = 111_320.0
LEVEL_GRID, LEVEL_DEPARTMENT = 1, 3


@dataclass(frozen=True)
class Rule:
    radius_m: float = 50.0
    days: float = 90.0
    min_cases: int = 3


DEFAULT = Rule()


def _runs(t: np.ndarray, days: float) -> np.ndarray:
    """Run label of each time (days): a new run starts after a gap of more than ``days``."""
    order = np.argsort(t, kind="stable")
    breaks = np.concatenate([[0], (np.diff(t[order]) > days).astype(int)]).cumsum()
    label = np.empty(len(t), dtype=np.int64)
    label[order] = breaks
    return label


def _groups(x: np.ndarray, y: np.ndarray, t: np.ndarray, radius: float, days: float) -> np.ndarray:
    """Place label of each point (a place of one case is a label too; the caller counts).

    The case with most cases within ``radius`` of it is a place's centre; it and those cases (not
    yet in a place) form the place; repeated until no case is left. A place is then cut where
    more than ``days`` pass between two of its reports. Any two cases of a place lie within
    2 × ``radius`` of each other, so dense streets do not chain into one long "place".
    """
    from scipy.spatial import cKDTree

    n = len(x)
    label = np.zeros(n, dtype=np.int64)
    if n == 0:
        return label
    xy = np.column_stack([x, y])
    tree = cKDTree(xy)
    counts = tree.query_ball_point(xy, radius, return_length=True)  # neighbours of every case, counted in C
    taken = np.zeros(n, dtype=bool)
    next_label = 0
    seen = bytearray(n)  # = taken, read cheaply in the loop below (most cases are taken before their turn)
    for centre in np.argsort(-counts, kind="stable").tolist():
        if seen[centre]:
            continue
        members = np.asarray(tree.query_ball_point(xy[centre], radius), dtype=np.int64)  # only for centres
        members = members[~taken[members]]
        taken[members] = True
        for m in members.tolist():
            seen[m] = 1
        label[members] = next_label + _runs(t[members], days)
        next_label = int(label[members].max()) + 1
    return label


def places(cases: pd.DataFrame, rule: Rule = DEFAULT) -> pd.DataFrame:
    """Repeated places among ``cases`` (``Store.case_points``), most cases first.

    Columns: kind (point | address | reopened), category, place (address text), grid_code,
    grid_name, cases, first, last, lon, lat, level1/level2/level3 (cases handled at each level),
    reopened, suggest_department, case_ids.
    """
    if cases.empty:
        return _frame(pd.DataFrame(columns=COLUMNS))
    days = (cases["reported_at"] - cases["reported_at"].min()).dt.total_seconds().to_numpy() / 86400
    lat0 = float(cases["lat"].mean()) if cases["lat"].notna().any() else 0.0
    x = cases["lon"].to_numpy(dtype=float) * METRES_PER_DEG_LAT * np.cos(np.radians(lat0))
    y = cases["lat"].to_numpy(dtype=float) * METRES_PER_DEG_LAT
    label = np.full(len(cases), -1, dtype=np.int64)
    kind = np.array([""] * len(cases), dtype=object)
    has_xy = np.isfinite(x) & np.isfinite(y)
    next_label = 0
    for _category, idx in cases.groupby("category", sort=True).indices.items():
        pts = idx[has_xy[idx]]
        groups = _groups(x[pts], y[pts], days[pts], rule.radius_m, rule.days)
        label[pts], kind[pts] = groups + next_label, "point"
        next_label += len(groups) + 1
        loose = idx[~has_xy[idx]]
        addresses = cases["address"].iloc[loose].fillna("").str.strip().to_numpy()
        for address in np.unique(addresses[addresses != ""]):
            same = loose[addresses == address]
            groups = _runs(days[same], rule.days)  # same address text: cut only by time
            label[same], kind[same] = groups + next_label, "address"
            next_label += len(groups) + 1
    frame = cases.assign(_label=label, _kind=kind)
    sizes = frame.loc[frame["_label"] >= 0, "_label"].value_counts()
    in_place = frame["_label"].isin(sizes[sizes >= rule.min_cases].index)
    lone = frame["reopened"].fillna(False).astype(bool) & ~in_place  # reopened, in no place: listed alone
    frame.loc[lone, "_label"] = next_label + np.arange(int(lone.sum()))
    frame.loc[lone, "_kind"] = "reopened"
    return _frame(_aggregate(frame[in_place | lone], rule))


def _most_common(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per place label, the most common value of ``column`` (ties: the first in sort order), as pandas' mode."""
    counts = frame.dropna(subset=[column]).groupby(["_label", column]).size().rename("_n").reset_index()
    counts = counts.sort_values(["_label", "_n", column], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("_label").set_index("_label")[column]


def _aggregate(members: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """One row per place label: what ``places`` returns."""
    if members.empty:
        return pd.DataFrame(columns=COLUMNS)
    level = pd.to_numeric(members["handled_level"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)  # open: NaN
    members = members.assign(
        _l1=(level == LEVEL_GRID).astype(int),
        _l2=(level == 2).astype(int),
        _l3=(level == LEVEL_DEPARTMENT).astype(int),
        _reopened=members["reopened"].fillna(False).astype(bool).astype(int),
    )
    out = members.groupby("_label", sort=True).agg(
        kind=("_kind", "first"),
        category=("category", "first"),
        cases=("case_id", "size"),
        first=("reported_at", "min"),
        last=("reported_at", "max"),
        lon=("lon", "mean"),
        lat=("lat", "mean"),
        level1=("_l1", "sum"),
        level2=("_l2", "sum"),
        level3=("_l3", "sum"),
        reopened=("_reopened", "sum"),
    )
    ordered = members.sort_values("_label", kind="stable")  # the groupby's order: labels ascending
    cut = np.flatnonzero(np.diff(ordered["_label"].to_numpy())) + 1
    out["case_ids"] = [list(ids) for ids in np.split(ordered["case_id"].to_numpy(dtype=object), cut)]
    out["place"] = _most_common(members, "address").reindex(out.index).fillna("")
    out["grid_code"] = _most_common(members, "grid_code").reindex(out.index)
    names = members.dropna(subset=["grid_code"]).drop_duplicates("grid_code").set_index("grid_code")["grid_name"]
    out["grid_name"] = out["grid_code"].map(names)
    out["suggest_department"] = (out["level1"] >= rule.min_cases) & (out["level3"] == 0)
    return out.reset_index(drop=True)[COLUMNS]


COLUMNS = [
    "kind",
    "category",
    "place",
    "grid_code",
    "grid_name",
    "cases",
    "first",
    "last",
    "lon",
    "lat",
    "level1",
    "level2",
    "level3",
    "reopened",
    "suggest_department",
    "case_ids",
]


def _frame(out: pd.DataFrame) -> pd.DataFrame:
    order = out["kind"].map({"point": 0, "address": 1, "reopened": 2})
    return (
        out.assign(_order=order)
        .sort_values(["_order", "cases", "last"], ascending=[True, False, False])
        .drop(columns="_order")
        .reset_index(drop=True)
    )
