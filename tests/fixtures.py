"""A hand-made street whose every figure is worked out by hand in the tests.

Nine 0.01° boxes in a 3×3 layout (grid 1 at the south-west corner, numbered west to
east, then north): 甲社区 holds grids 1-3 (the south row), 乙社区 grids 4-9.
Period used by the tests: March 2026; the data is taken at 2026-03-31 12:00.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from shapely.geometry import box

from gridpulse import store as store_pkg
from gridpulse.filters import Filters

LON0, LAT0, SIDE = 121.0, 37.0, 0.01
AS_OF = datetime(2026, 3, 31, 12, 0)
MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))


def code(n: int) -> str:
    community = 1 if n <= 3 else 2
    return f"370602005{community:03d}{n:03d}"


def cell(n: int) -> shapely.Polygon:
    row, col = divmod(n - 1, 3)
    return box(LON0 + col * SIDE, LAT0 + row * SIDE, LON0 + (col + 1) * SIDE, LAT0 + (row + 1) * SIDE)


def centre(n: int) -> tuple[float, float]:
    c = cell(n).centroid
    return round(c.x, 6), round(c.y, 6)


def grid_rows() -> pd.DataFrame:
    rows = [
        {
            "grid_code": code(n),
            "grid_name": f"第{n}网格",
            "community": "甲社区" if n <= 3 else "乙社区",
            "households": 200 if n == 1 else 100,
            "grid_head": f"网格长{n}",
            "geometry": shapely.to_wkb(cell(n)),
        }
        for n in range(1, 10)
    ]
    return pd.DataFrame(rows)


def ts(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour)


def case(cid: str, grid: int | None, reported: datetime, deadline: datetime, **kw: object) -> dict[str, object]:
    lon, lat = centre(grid) if grid else (kw.pop("lon", None), kw.pop("lat", None))
    status = "rated" if kw.get("rated_at") else "resolved" if kw.get("resolved_at") else kw.pop("status", "accepted")
    return {
        "case_id": cid, "source": kw.pop("source", "12345热线"), "category": kw.pop("category", "环境卫生"),
        "description": f"{cid} 测试诉求", "lon": lon, "lat": lat, "reported_at": reported,
        "dispatched_at": kw.pop("dispatched_at", None), "accepted_at": kw.pop("accepted_at", None),
        "resolved_at": kw.pop("resolved_at", None), "rated_at": kw.pop("rated_at", None),
        "deadline_at": deadline, "status": status, "handled_level": kw.pop("level", None),
        "department": kw.pop("department", None), "satisfaction": kw.pop("stars", None),
        "reopened": kw.pop("reopened", False),
        "reporter_name": f"居民{cid}", "reporter_phone": "13912345678", "address": f"测试小区{cid[-1]}号楼2单元301室",
    }  # fmt: skip


def case_rows() -> pd.DataFrame:
    """Twelve cases; c02's and c03's descriptions carry personal data (masked for leaders)."""
    rows = [
        case("c01", 1, ts(3, 1), ts(3, 4), resolved_at=ts(3, 2), level=1, rated_at=ts(3, 3), stars=5),
        case("c02", 1, ts(3, 2), ts(3, 5), resolved_at=ts(3, 6), level=2, rated_at=ts(3, 7), stars=2, reopened=True),
        case("c03", 1, ts(3, 3), ts(3, 6), level=1),
        case("c04", 2, ts(3, 10), ts(3, 13), resolved_at=ts(3, 10, 21), level=1, rated_at=ts(3, 11), stars=4),
        case("c05", 2, ts(3, 20), ts(3, 23), resolved_at=ts(3, 21), level=3, department="区住建局"),
        case("c06", 5, ts(3, 25), ts(4, 5), status="dispatched"),
        case("c07", 5, ts(2, 20), ts(3, 2), resolved_at=ts(3, 1), level=1, rated_at=ts(3, 1, 12), stars=5),
        case("c08", 5, ts(2, 10), ts(2, 13), resolved_at=ts(2, 12), level=1),
        case("c09", None, ts(3, 15), ts(3, 18), resolved_at=ts(3, 16), level=1),
        case("c10", None, ts(3, 16), ts(3, 19), lon=122.0, lat=37.0, status="reported"),
        case("c11", 9, ts(3, 28), ts(3, 31), resolved_at=ts(3, 29), level=2, rated_at=ts(3, 30), stars=3),
        case("c12", 3, ts(3, 5), ts(3, 8), resolved_at=ts(3, 5, 10), level=1, rated_at=ts(3, 5, 12), stars=5,
             category="噪声扰民", source="网格巡查"),
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.loc[frame["case_id"] == "c02", "description"] = "c02 楼道漏水，联系电话13800001111"
    frame.loc[frame["case_id"] == "c03", "description"] = "c03 住测试小区7号楼2单元301室，电话 139 1234 5678，楼道堆物"
    for col in ("handled_level", "satisfaction"):
        frame[col] = pd.array(frame[col], dtype="Int8")
    for col in ("lon", "lat"):
        frame[col] = frame[col].astype(float)
    return frame


def resource_rows() -> pd.DataFrame:
    def res(rid: str, kind: str, level: int | None, grid: int) -> dict[str, object]:
        lon, lat = centre(grid)
        return {"resource_id": rid, "name": f"{rid}名称", "kind": kind, "level": level, "lon": lon, "lat": lat}

    rows = [
        res("r1", "service_centre", 1, 1),
        res("r2", "red_steward_station", 2, 1),  # the only station: at the centre of grid 1
        res("r3", "micro_grid_post", 3, 1),
        res("r4", "micro_grid_post", 3, 2),
        res("r5", "micro_grid_post", 3, 5),
        res("r6", "stairwell_corner", 4, 1),
        res("r7", "stairwell_corner", 4, 1),
        res("r8", "stairwell_corner", 4, 9),
        res("r9", "volunteer_team", None, 4),
    ]
    frame = pd.DataFrame(rows)
    frame["level"] = pd.array(frame["level"], dtype="Int8")
    return frame


def build(path: Path | str, edit: Callable[[dict[str, Any]], None] | None = None) -> Path | str:
    """Write the fixture street to ``path``, a file or a PostgreSQL URL (grid codes by the real spatial join).

    ``edit``, if given, may change the tables in place before they are written: it gets
    ``{"grids", "cases", "resources", "meta", "users"}`` (e.g. tests/hostile.py's texts).
    """
    from geo import join, shapes

    grids = grid_rows()
    polys = shapes.grids_frame(grids)
    cases = case_rows()
    cases["grid_code"] = join.assign_grids(cases["lon"].to_numpy(), cases["lat"].to_numpy(), polys)
    resources = resource_rows()
    resources["grid_code"] = join.assign_grids(resources["lon"].to_numpy(), resources["lat"].to_numpy(), polys)
    meta = {"street_name": "测试街道", "as_of": AS_OF.isoformat()}
    tables: dict[str, Any] = {"grids": grids, "cases": cases, "resources": resources, "meta": meta, "users": users()}
    if edit is not None:
        edit(tables)
    store_pkg.write_street(path, tables["grids"], tables["cases"], tables["resources"], tables["meta"], tables["users"])
    return path


PASSWORD = "fixture-pass"


def users() -> list[dict[str, object]]:
    """One user per role; the grid head has grids 1 and 2, the secretary 甲社区 (grids 1-3)."""
    from gridpulse import auth

    return [
        auth.new_user("leader", "领导", "leader", PASSWORD),
        auth.new_user("sec", "书记", "community_secretary", PASSWORD, communities=("甲社区",)),
        auth.new_user("head", "网格长", "grid_head", PASSWORD, grids=(code(1), code(2))),
        auth.new_user("liaison", "联络员", "department_liaison", PASSWORD, department="区住建局"),
        auth.new_user("admin", "管理员", "admin", PASSWORD),
    ]


def departments(tables: dict[str, Any]) -> None:
    """``build`` edit: four cases go to departments, with dispatch and acceptance times (tests/test_accountability.py).

    区住建局: c05 (dispatched 10:00, accepted 11:00, resolved on time) and c06 (dispatched 3-25 09:30,
    never accepted). 热力公司: c02 (dispatched 12:00, accepted 18:00, resolved a day late, 2 stars,
    reopened) and c11 (dispatched 10:00, accepted 11:30, resolved on time, 3 stars).
    """
    cases = tables["cases"].set_index("case_id")
    steps = {
        "c05": ("区住建局", ts(3, 20, 10), datetime(2026, 3, 20, 11, 0)),
        "c06": ("区住建局", datetime(2026, 3, 25, 9, 30), None),
        "c02": ("热力公司", ts(3, 2, 12), ts(3, 2, 18)),
        "c11": ("热力公司", ts(3, 28, 10), datetime(2026, 3, 28, 11, 30)),
    }
    for cid, (dept, dispatched, accepted) in steps.items():
        cases.loc[cid, ["department", "dispatched_at", "accepted_at"]] = [dept, dispatched, accepted]
        cases.loc[cid, "handled_level"] = 3
    tables["cases"] = cases.reset_index()
