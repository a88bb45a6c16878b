"""Repeated places (重复诉求): the same problem reported again and again at one place.

A place is, per category, a group of cases each within ``radius_m`` metres and ``days`` days of
another case of the group (SciPy's k-d tree finds the pairs, its graph routines join them), with
at least ``min_cases`` cases. Cases without coordinates are grouped by their address text the
same way (same category, same address, within the window). A case reopened after closing is a
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


def _groups(x: np.ndarray, y: np.ndarray, t: np.ndarray, radius: float, days: float) -> np.ndarray:
    """Connected-component label of each point: linked when within ``radius`` (x, y) and ``days`` (t)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=int)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(radius, output_type="ndarray")
    if len(pairs):
        pairs = pairs[np.abs(t[pairs[:, 0]] - t[pairs[:, 1]]) <= days]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) if len(pairs) else None
    if graph is None:
        return np.arange(n)
    return connected_components(graph, directed=False)[1]


def places(cases: pd.DataFrame, rule: Rule = DEFAULT) -> pd.DataFrame:
    """Repeated places among ``cases`` (``Store.case_points``), most cases first.

    Columns: kind (point | address | reopened), category, place (address text), grid_code,
    grid_name, cases, first, last, lon, lat, level1/level2/level3 (cases handled at each level),
    reopened, suggest_department, case_ids.
    """
    if cases.empty:
        return _frame([])
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
            # one dimension is enough: same address text, linked in time
            groups = _groups(np.zeros(len(same)), np.zeros(len(same)), days[same], 1.0, rule.days)
            label[same], kind[same] = groups + next_label, "address"
            next_label += len(groups) + 1
    rows = []
    frame = cases.assign(_label=label, _kind=kind)
    grouped = frame[frame["_label"] >= 0].groupby("_label", sort=False)
    sizes = grouped.size()
    in_place = set()
    for lab in sizes[sizes >= rule.min_cases].index:
        group = grouped.get_group(lab)
        in_place.update(group["case_id"])
        rows.append(_place(group, group["_kind"].iloc[0], rule))
    reopened = frame[frame["reopened"].fillna(False).astype(bool) & ~frame["case_id"].isin(in_place)]
    rows.extend(_place(reopened.iloc[[i]], "reopened", rule) for i in range(len(reopened)))
    return _frame(rows)


def _place(group: pd.DataFrame, kind: str, rule: Rule) -> dict[str, object]:
    levels = group["handled_level"].value_counts()
    level1, level3 = int(levels.get(LEVEL_GRID, 0)), int(levels.get(LEVEL_DEPARTMENT, 0))
    addresses = group["address"].dropna()
    grid = group["grid_code"].mode()
    return {
        "kind": kind,
        "category": group["category"].iloc[0],
        "place": addresses.mode().iloc[0] if len(addresses) else "",
        "grid_code": grid.iloc[0] if len(grid) else None,
        "grid_name": group.loc[group["grid_code"] == grid.iloc[0], "grid_name"].iloc[0] if len(grid) else None,
        "cases": len(group),
        "first": group["reported_at"].min(),
        "last": group["reported_at"].max(),
        "lon": float(group["lon"].mean()) if group["lon"].notna().any() else None,
        "lat": float(group["lat"].mean()) if group["lat"].notna().any() else None,
        "level1": level1,
        "level2": int(levels.get(2, 0)),
        "level3": level3,
        "reopened": int(group["reopened"].fillna(False).astype(bool).sum()),
        "suggest_department": level1 >= rule.min_cases and level3 == 0,
        "case_ids": list(group["case_id"]),
    }


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


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=COLUMNS)
    order = out["kind"].map({"point": 0, "address": 1, "reopened": 2})
    return (
        out.assign(_order=order)
        .sort_values(["_order", "cases", "last"], ascending=[True, False, False])
        .drop(columns="_order")
        .reset_index(drop=True)
    )
