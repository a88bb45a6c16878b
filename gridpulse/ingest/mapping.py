"""Which column holds what: recognised headers, ``--map target=source`` and saved mapping files.

A mapping file (JSON) holds what one office's export needs and can be reused next month:

    {"kind": "cases", "columns": {"case_id": "流水号"}, "statuses": {"待审核": "reported"},
     "categories": {"环卫": "环境卫生"}, "crs": "gcj02", "source": "12345热线"}
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from gridpulse.ingest.sources import ImportFileError
from gridpulse.strings import t

KINDS = ("cases", "grids", "resources")

# target column -> headers it is recognised by (compared after ``normal``).
CASE_ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": (
        "工单编号",
        "工单号",
        "诉求编号",
        "案件编号",
        "事件编号",
        "编号",
        "流水号",
        "service_request_id",
        "case_id",
        "ticket_id",
        "id",
    ),
    "reported_at": (
        "受理时间",
        "来电时间",
        "登记时间",
        "上报时间",
        "创建时间",
        "诉求时间",
        "点单时间",
        "发生时间",
        "requested_datetime",
        "reported_at",
        "created_at",
    ),
    "dispatched_at": ("派单时间", "派发时间", "交办时间", "dispatched_at"),
    "accepted_at": ("接单时间", "签收时间", "accepted_at"),
    "resolved_at": (
        "办结时间",
        "完成时间",
        "处置完成时间",
        "结案时间",
        "办理完成时间",
        "resolved_at",
        "closed_datetime",
    ),
    "rated_at": ("评价时间", "回访时间", "rated_at"),
    "deadline_at": ("办理期限", "办结时限", "截止时间", "处理时限", "期限", "deadline_at", "expected_datetime"),
    "updated_at": ("updated_datetime", "更新时间"),
    "category": (
        "诉求类别",
        "问题类型",
        "问题分类",
        "事项类别",
        "诉求分类",
        "事件类型",
        "类别",
        "service_name",
        "category",
    ),
    "source": ("诉求来源", "来源", "渠道", "来源渠道", "source"),
    "description": ("诉求内容", "问题描述", "事项描述", "诉求描述", "内容", "description"),
    "status": ("处理状态", "办理状态", "工单状态", "状态", "status"),
    "lon": ("经度", "lon", "lng", "long", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "address": ("地址", "事发地址", "详细地址", "事发地点", "address"),
    "community": ("所属社区", "社区", "社区名称", "community"),
    "grid": ("所属网格", "网格", "网格名称", "网格编码", "网格编号", "grid", "grid_code", "grid_name"),
    "department": ("承办单位", "承办部门", "处置部门", "责任单位", "办理单位", "agency_responsible", "department"),
    "satisfaction": ("满意度", "评价结果", "回访结果", "满意度评价", "satisfaction"),
    "handled_level": ("解决层级", "办理层级", "处置层级", "handled_level"),
    "reopened": ("是否重办", "重办", "是否返工", "返工", "reopened"),
    "reporter_name": ("诉求人", "来电人", "联系人", "姓名", "reporter_name"),
    "reporter_phone": ("联系电话", "来电号码", "电话", "手机", "reporter_phone", "phone"),
}
RESOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    "resource_id": ("资源编号", "编号", "resource_id", "id"),
    "name": ("名称", "资源名称", "阵地名称", "name"),
    "kind": ("类型", "资源类型", "阵地类型", "kind", "type"),
    "level": ("层级", "级别", "level"),
    "lon": CASE_ALIASES["lon"],
    "lat": CASE_ALIASES["lat"],
}
GRID_ALIASES: dict[str, tuple[str, ...]] = {
    "grid_code": ("网格编码", "网格编号", "编码", "grid_code", "code"),
    "grid_name": ("网格名称", "网格名", "名称", "grid_name", "name"),
    "community": CASE_ALIASES["community"],
    "households": ("户数", "住户数", "households"),
    "grid_head": ("网格长", "网格员", "grid_head"),
}
ALIASES = {"cases": CASE_ALIASES, "resources": RESOURCE_ALIASES, "grids": GRID_ALIASES}
REQUIRED = {"cases": ("case_id", "reported_at"), "resources": ("resource_id", "name", "kind"), "grids": ("grid_code",)}

# Status words of 12345 platforms and spreadsheets -> the five steps of 点单→派单→接单→办结→评单.
STATUSES: dict[str, str] = {
    **dict.fromkeys(
        ["待受理", "已受理", "新建", "待派单", "待处理", "已登记", "reported", "open", "new", "submitted"], "reported"
    ),
    **dict.fromkeys(["已派单", "待接单", "已交办", "已转办", "dispatched", "assigned"], "dispatched"),
    **dict.fromkeys(
        ["已接单", "已签收", "处理中", "办理中", "在办", "处置中", "accepted", "in_progress", "in progress"], "accepted"
    ),
    **dict.fromkeys(
        ["已办结", "办结", "已办理", "已完成", "已处置", "已关闭", "已结案", "resolved", "closed", "completed"],
        "resolved",
    ),
    **dict.fromkeys(["已回访", "已评价", "已归档", "rated"], "rated"),
}
SATISFACTION = {"非常满意": 5, "满意": 5, "基本满意": 4, "一般": 3, "不满意": 2, "非常不满意": 1, "很不满意": 1}
LEVELS = {
    "网格": 1,
    "网格内": 1,
    "网格解决": 1,
    "社区": 2,
    "社区协商": 2,
    "社区解决": 2,
    "部门": 3,
    "街道": 3,
    "部门联合": 3,
    "联合处置": 3,
}
YES = {"是", "1", "true", "yes", "y", "重办", "返工"}
NO = {"否", "0", "false", "no", "n", ""}
# Resource kinds of the four-level service matrix (and the other resources) by their Chinese names.
RESOURCE_KINDS = {
    "党群服务中心": ("service_centre", 1),
    "社区党群服务中心": ("service_centre", 1),
    "service_centre": ("service_centre", 1),
    "红管家服务站": ("red_steward_station", 2),
    "红管家": ("red_steward_station", 2),
    "red_steward_station": ("red_steward_station", 2),
    "微网格驿站": ("micro_grid_post", 3),
    "微格民情驿站": ("micro_grid_post", 3),
    "民情驿站": ("micro_grid_post", 3),
    "micro_grid_post": ("micro_grid_post", 3),
    "楼道邻里角": ("stairwell_corner", 4),
    "邻里角": ("stairwell_corner", 4),
    "stairwell_corner": ("stairwell_corner", 4),
    "议事场所": ("council_venue", None),
    "居民议事厅": ("council_venue", None),
    "council_venue": ("council_venue", None),
    "志愿服务队": ("volunteer_team", None),
    "志愿者队伍": ("volunteer_team", None),
    "volunteer_team": ("volunteer_team", None),
}


def normal(header: str) -> str:
    """A header compared loosely: case, spaces, brackets and punctuation ignored."""
    return re.sub(r"[\s_\-()（）:：*#/\\.·]", "", str(header)).lower()


@dataclass
class MappingSpec:
    """What an office saves for its export: columns by target, value lists, coordinates."""

    kind: str = "cases"
    columns: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    crs: str | None = None
    source: str | None = None  # for files of one channel without a source column
    date_order: str | None = None  # ymd, dmy or mdy: how the export writes numeric dates (12/31/2017 is mdy)

    def status_map(self) -> dict[str, str]:
        return {normal(k): v for k, v in {**STATUSES, **self.statuses}.items()}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")


def load(path: Path) -> MappingSpec:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ImportFileError(t("imp_bad_mapping", name=Path(path).name, error=err)) from err
    return parse(text, Path(path).name)


def parse(text: str, name: str) -> MappingSpec:
    """A mapping file's content, checked: every part of the right type, statuses among the five steps."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ImportFileError(t("imp_bad_mapping", name=name, error=err)) from err
    if not isinstance(data, dict) or set(data) - {f.name for f in fields(MappingSpec)}:
        allowed = "只能有 kind、columns、statuses、categories、crs、source、date_order"
        raise ImportFileError(t("imp_bad_mapping", name=name, error=allowed))
    for part in ("columns", "statuses", "categories"):
        value = data.get(part, {})
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ImportFileError(t("imp_bad_mapping", name=name, error=f'{part} 应为 {{"文字": "文字"}}'))
    for part in ("kind", "crs", "source", "date_order"):
        if data.get(part) is not None and not isinstance(data[part], str):
            raise ImportFileError(t("imp_bad_mapping", name=name, error=f"{part} 应为文字"))
    spec = MappingSpec(**data)
    check_date_order(spec.date_order)
    bad = set(spec.statuses.values()) - set(STATUSES.values())
    if bad:
        raise ImportFileError(t("imp_bad_mapping_status", values="、".join(sorted(bad))))
    return spec


DATE_ORDERS = ("ymd", "dmy", "mdy")  # how an export writes numeric dates: year-month-day, day-month-year, ...


def check_date_order(order: str | None) -> str | None:
    """``order`` if it is one the importer reads (or None), else ``ImportFileError`` naming the choices."""
    if order is not None and order not in DATE_ORDERS:
        raise ImportFileError(t("imp_bad_date_order", value=order))
    return order


def parse_map_flags(flags: list[str]) -> dict[str, str]:
    """``["case_id=流水号", ...]`` -> {"case_id": "流水号"}."""
    out = {}
    for flag in flags:
        target, sep, source = flag.partition("=")
        if not sep or not target.strip():
            raise ImportFileError(t("imp_bad_map_flag", flag=flag))
        out[target.strip()] = source.strip()  # an empty source: ignore the column the header would give
    return out


def resolve_columns(headers: list[str], kind: str, explicit: dict[str, str]) -> dict[str, str]:
    """target -> header of this file. Explicit mappings first, then recognised headers.

    Raises ``ImportFileError`` naming the missing required columns and the headers found.
    """
    aliases = ALIASES[kind]
    unknown = set(explicit) - set(aliases)
    if unknown:
        raise ImportFileError(t("imp_unknown_target", targets="、".join(sorted(unknown)), known="、".join(aliases)))
    by_normal = {normal(h): h for h in reversed(headers)}
    out: dict[str, str] = {}
    ignored = {target for target, source in explicit.items() if not source}
    explicit = {target: source for target, source in explicit.items() if source}
    for target, source in explicit.items():
        if source not in headers and normal(source) not in by_normal:
            raise ImportFileError(t("imp_map_source_missing", source=source, headers="、".join(headers)))
        out[target] = source if source in headers else by_normal[normal(source)]
    taken = set(out.values())
    for target, names in aliases.items():
        if target in out or target in ignored:
            continue
        for name in names:
            header = by_normal.get(normal(name))
            if header is not None and header not in taken:
                out[target] = header
                taken.add(header)
                break
    missing = [target for target in REQUIRED[kind] if target not in out]
    if missing:
        columns = "、".join(f"{m}（{aliases[m][0]}）" for m in missing)
        example = f"{missing[0]}=你的列名"
        raise ImportFileError(t("imp_missing_columns", columns=columns, headers="、".join(headers), example=example))
    return out
