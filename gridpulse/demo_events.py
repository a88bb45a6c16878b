"""Events planted in the demo street, so 研判预警 has something real to find (and the tests check it does).

Each planted case copies the lifecycle of a real demo case of the same category handled in the grid
(its steps shifted to the new report time, steps after the demo's "now" left open), at a new place.
The ordinary cases are untouched; planted cases have ids ``GD<year>9xxxxxx``.

1. **Surge** (预警): 噪声扰民 in ``SURGE_GRID`` (one of the demo grid head's two grids) — 9 cases in
   each of the last two weeks before the demo's "now" (2026-11-20 10:00), where about one case a month is normal there.
2. **Repeated place** (重复诉求): 排水积水 at one spot of ``REPEAT_GRID`` — 6 cases within 25 m over the
   last 80 days, each handled by the grid (level 1), two reopened: the page suggests departments.
3. **Growing hot spot** (新兴热点): ``HOT_GRID`` and the grids touching it get 停车管理 cases rising
   month by month since May 2026 (1, 2, 4, 6, 9, 12 extra per grid per month, 8 so far in November).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.tiling import metres_to_deg
from gridpulse import demo_catalog as cat

SURGE_GRID, SURGE_CATEGORY, SURGE_PER_WEEK = 1, "噪声扰民", 9
REPEAT_GRID, REPEAT_CATEGORY, REPEAT_CASES, REPEAT_DAYS = 23, "排水积水", 6, 80
HOT_GRID, HOT_CATEGORY = 41, "停车管理"
HOT_MONTHS = {(2026, 5): 1, (2026, 6): 2, (2026, 7): 4, (2026, 8): 6, (2026, 9): 9, (2026, 10): 12, (2026, 11): 8}
STEPS = ("dispatched_at", "accepted_at", "resolved_at", "rated_at")


def plant(cases: pd.DataFrame, grids: gpd.GeoDataFrame, now: datetime, rng: np.random.Generator) -> pd.DataFrame:
    """The planted cases (same columns as ``cases``), ready to append."""
    order = grids.sort_values("grid_code").reset_index(drop=True)
    rows = []

    def add(grid: int, category: str, when: datetime, point: tuple[float, float], reopened: bool = False) -> None:
        pool = cases[(cases["category"] == category) & (cases["handled_level"] == 1) & (cases["status"] == "rated")]
        template = pool.iloc[int(rng.integers(len(pool)))].copy()
        shift = pd.Timestamp(when.date()) - template["reported_at"].normalize()
        template["reported_at"] += shift
        for col in (*STEPS, "deadline_at"):
            template[col] = template[col] + shift if pd.notna(template[col]) else pd.NaT
        for col in STEPS:  # not yet happened at the demo's "now": still open at that step
            if pd.notna(template[col]) and template[col] > pd.Timestamp(now):
                template[col] = pd.NaT
        done = [c for c in STEPS if pd.notna(template[c])]
        for col in STEPS[len(done) :]:
            template[col] = pd.NaT
        template["status"] = {0: "reported", 1: "dispatched", 2: "accepted", 3: "resolved", 4: "rated"}[len(done)]
        if pd.isna(template["rated_at"]):
            template["satisfaction"] = pd.NA
        template["reopened"] = bool(reopened and pd.notna(template["resolved_at"]))
        g = order.iloc[grid]
        compound = g["grid_name"].removesuffix("网格")
        template["grid_code"], template["lon"], template["lat"] = g["grid_code"], *np.round(point, 6)
        template["address"] = f"{cat.STREET_NAME}{compound}{int(rng.integers(1, 31))}号楼"
        template["description"] = template["description"].split("，联系电话")[0]
        for other in order["grid_name"].str.removesuffix("网格"):
            template["description"] = template["description"].replace(other, compound)
        rows.append(template)

    def inside(grid: int) -> tuple[float, float]:
        geom = order.geometry.iloc[grid]
        minx, miny, maxx, maxy = geom.bounds
        while True:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(geom, x, y):
                return x, y

    # 1. surge: the last two weeks
    for week in range(2):
        for _ in range(SURGE_PER_WEEK):
            day = now - timedelta(days=7 * week + float(rng.uniform(0.2, 6.8)))
            add(SURGE_GRID, SURGE_CATEGORY, day, inside(SURGE_GRID))
    # 2. repeated place: one spot, within 25 m
    spot = order.geometry.iloc[REPEAT_GRID].representative_point()
    for k in range(REPEAT_CASES):
        dx, dy = metres_to_deg(rng.uniform(-12, 12), rng.uniform(-12, 12), cat.CENTRE[1])
        day = now - timedelta(days=REPEAT_DAYS * (REPEAT_CASES - k) / REPEAT_CASES)
        add(REPEAT_GRID, REPEAT_CATEGORY, day, (spot.x + dx, spot.y + dy), reopened=k in (2, 4))
    # 3. growing hot spot: the grid and its neighbours
    centre = order.geometry.iloc[HOT_GRID]
    cluster = [i for i, geom in enumerate(order.geometry) if i == HOT_GRID or geom.touches(centre)]
    for (year, month), n in HOT_MONTHS.items():
        first = datetime(year, month, 1)
        last = min(now, (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).to_pydatetime() + timedelta(hours=20))
        for grid in cluster:
            for _ in range(n):
                day = first + (last - first) * float(rng.uniform(0, 1))
                add(grid, HOT_CATEGORY, day, inside(grid))
    planted = pd.DataFrame(rows).reset_index(drop=True)
    year = planted["reported_at"].dt.year.astype(str)
    planted["case_id"] = "GD" + year + (9_000_000 + planted.groupby(year).cumcount() + 1).map("{:07d}".format)
    return planted.astype(cases.dtypes.to_dict())


def cluster_grids(grids: gpd.GeoDataFrame) -> list[str]:
    """The grid codes of the growing hot spot (``HOT_GRID`` and its neighbours)."""
    order = grids.sort_values("grid_code").reset_index(drop=True)
    centre = order.geometry.iloc[HOT_GRID]
    return [order["grid_code"].iloc[i] for i, g in enumerate(order.geometry) if i == HOT_GRID or g.touches(centre)]


def planted_codes(grids: gpd.GeoDataFrame | pd.DataFrame) -> dict[str, str]:
    """grid_code of each planted event (surge, repeat, hot spot centre)."""
    codes = sorted(grids["grid_code"])
    return {"surge": codes[SURGE_GRID], "repeat": codes[REPEAT_GRID], "hot": codes[HOT_GRID]}
