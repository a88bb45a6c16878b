"""Files shaped like real exports, made from a street's own tables: 12345-style Chinese
spreadsheets (GBK CSV, XLSX) and English Open311 GeoReport v2 (CSV and JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from geo import chinacrs, shapes
from gridpulse.strings import t

STATUS_WORDS = {
    "reported": "待派单", "dispatched": "已派单", "accepted": "办理中", "resolved": "已办结", "rated": "已回访",
}  # fmt: skip
STARS = {5: "满意", 4: "基本满意", 3: "一般", 2: "不满意", 1: "非常不满意"}


def _time(v: object, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime(fmt)


def hotline(cases: pd.DataFrame, gcj02: bool = False) -> pd.DataFrame:
    """A 12345 platform export with Chinese headers and words (coordinates in GCJ-02 if asked)."""
    lon, lat = cases["lon"].to_numpy(dtype=float), cases["lat"].to_numpy(dtype=float)
    if gcj02:
        lon, lat = chinacrs.wgs84_to_gcj02(lon, lat)
    return pd.DataFrame({
        "工单编号": cases["case_id"], "受理时间": [_time(v) for v in cases["reported_at"]],
        "派单时间": [_time(v) for v in cases["dispatched_at"]], "接单时间": [_time(v) for v in cases["accepted_at"]],
        "办结时间": [_time(v) for v in cases["resolved_at"]], "评价时间": [_time(v) for v in cases["rated_at"]],
        "办理期限": [_time(v) for v in cases["deadline_at"]], "诉求来源": cases["source"],
        "诉求类别": cases["category"],
        "诉求内容": cases["description"], "处理状态": cases["status"].map(STATUS_WORDS),
        "经度": [f"{v:.7f}" if np.isfinite(v) else "" for v in lon],
        "纬度": [f"{v:.7f}" if np.isfinite(v) else "" for v in lat],
        "地址": cases["address"].fillna(""), "承办单位": cases["department"].fillna(""),
        "满意度": [STARS.get(int(v), "") if pd.notna(v) else "" for v in cases["satisfaction"]],
        "解决层级": [t(f"level_{int(v)}") if pd.notna(v) else "" for v in cases["handled_level"]],
        "是否重办": ["是" if v else "否" for v in cases["reopened"]],
        "诉求人": cases["reporter_name"].fillna(""), "联系电话": cases["reporter_phone"].fillna(""),
    })  # fmt: skip


def open311(cases: pd.DataFrame) -> list[dict[str, object]]:
    """Open311 GeoReport v2 service requests (status open/closed; closed time as updated_datetime)."""
    out = []
    for r in cases.itertuples():
        closed = pd.notna(r.resolved_at)
        item = {
            "service_request_id": r.case_id, "status": "closed" if closed else "open", "service_name": r.category,
            "description": r.description, "agency_responsible": r.department if isinstance(r.department, str) else "",
            "requested_datetime": pd.Timestamp(r.reported_at).tz_localize("Asia/Shanghai").isoformat(),
            "updated_datetime": (
                pd.Timestamp(r.resolved_at).tz_localize("Asia/Shanghai").isoformat() if closed else None
            ),
            "expected_datetime": _time(r.deadline_at, "%Y-%m-%dT%H:%M:%S+08:00"), "address": r.address,
            "lat": None if pd.isna(r.lat) else float(r.lat), "long": None if pd.isna(r.lon) else float(r.lon),
        }  # fmt: skip
        out.append(item)
    return out


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "gbk") -> Path:
    path.write_bytes(frame.to_csv(index=False).encode(encoding, errors="replace"))
    return path


def write_json(items: list[dict[str, object]], path: Path) -> Path:
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def grids_geojson(grid_rows: pd.DataFrame, path: Path) -> Path:
    frame = shapes.grids_frame(grid_rows).rename(
        columns={"grid_code": "网格编码", "grid_name": "网格名称", "community": "所属社区", "households": "户数",
                 "grid_head": "网格长"})  # fmt: skip
    frame.to_file(path, driver="GeoJSON")
    return path
