"""Take-away reports for joint meetings: the dashboard's figures in a file, personal data masked.

Every table comes from the same view functions as the pages, so a report and the
dashboard agree for the same period, area and scope.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gridpulse import exports, figures, formats, metrics, views
from gridpulse.db import Store
from gridpulse.filters import Filters
from gridpulse.safe_text import file_part
from gridpulse.scope import Scope
from gridpulse.strings import t

HEADER_FILL = PatternFill("solid", fgColor="C0392B")
HEADER_FONT = Font(bold=True, color="FFFFFF")
PERCENT = "0.0%"
MAX_COLUMN_WIDTH = 60


@dataclass(frozen=True)
class ReportRequest:
    scope: Scope
    filters: Filters
    as_of: datetime
    area: str  # e.g. 凤鸣街道 or 凤鸣街道 凤鸣社区


def parse_period(text: str) -> tuple[date, date]:
    """'2026-01..2026-06' (months, inclusive) or '2026-01-15..2026-03-31' (days)."""
    try:
        left, right = text.split("..")
        start = date.fromisoformat(left + "-01" if len(left) == 7 else left)
        if len(right) == 7:
            year, month = map(int, right.split("-"))
            end = date(year + month // 12, month % 12 + 1, 1) - pd.Timedelta(days=1)
        else:
            end = date.fromisoformat(right)
    except ValueError as err:
        raise ValueError(f"统计时段 {text} 无法识别：请写成 2026-01..2026-06 或 2026-01-15..2026-03-31。") from err
    if start > end:
        raise ValueError(f"统计时段 {text} 的开始晚于结束。")
    return start, end


def file_name(area: str, start: date, end: date, ext: str, filtered: bool = False) -> str:
    """某街道_2026年1-6月_网格治理报告.xlsx (months of one year), else with full dates;
    ``filtered`` (some categories or sources only) adds 部分诉求 so the file says so."""
    month_end = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
    if start.day == 1 and end == month_end and start.year == end.year:
        span = (
            f"{start.year}年{start.month}-{end.month}月"
            if start.month != end.month
            else f"{start.year}年{start.month}月"
        )
    else:
        span = f"{start:%Y%m%d}-{end:%Y%m%d}"
    part = "_部分诉求" if filtered else ""
    return f"{file_part(area).replace(' ', '_')}_{span}{part}_网格治理报告.{ext}"


def report_tables(store: Store, req: ReportRequest) -> dict[str, pd.DataFrame]:
    """Every table of the report, by sheet name (Chinese), from the dashboard's views."""
    f, scope, as_of = req.filters, req.scope, req.as_of
    kpis = views.overview_kpis(store, scope, f, as_of)
    headline = pd.DataFrame(
        {
            "指标": [t(f"kpi_{k.key}") for k in kpis],
            "数值": [k.value for k in kpis],
            "较上一等长时段": [k.delta for k in kpis],
        }
    )
    perf = views.grid_performance(store, scope, f, as_of)
    ranking = perf[views.RANKING_COLUMNS].rename(columns={c: t(c) for c in views.RANKING_COLUMNS})
    matrix = views.labelled_matrix(views.service_matrix_by_community(store, scope, f)).reset_index()
    overdue = views.labelled_cases(views.overdue_for_meeting(store, scope, f, as_of, limit=10_000))
    levels = perf[["grid_name", "resolved", "level1_share", "level2_share", "level3_share"]].rename(
        columns={c: t(c) if c != "resolved" else "办结件数" for c in ["grid_name", "level1_share", "level2_share",
                                                                   "level3_share", "resolved"]}
    )  # fmt: skip
    by_month = views.category_by_month(store, scope, f)
    return {"总体指标": headline, "网格办结率": ranking, "服务矩阵": matrix, "超期诉求": overdue,
            "三级联动": levels, "类别×月份": by_month}  # fmt: skip


RATE_COLUMNS = ("resolution_rate", "resolution_lower_bound", "on_time_rate", "self_resolved_share",
                "satisfaction", "rework_rate", "level1_share", "level2_share", "level3_share")  # fmt: skip
RATE_HEADERS = {t(c) for c in RATE_COLUMNS}


def excel(store: Store, req: ReportRequest) -> bytes:
    """The Excel workbook: one formatted sheet per table, frozen headers, formula-safe cells."""
    wb = Workbook()
    wb.remove(wb.active)
    info = wb.create_sheet("说明")
    info.append(["网格治理报告"])
    info.append(["区域", _cell(req.area)])  # imported names: formula-safe too
    info.append(["统计时段", f"{req.filters.start} 至 {req.filters.end}"])
    info.append(["诉求范围", _cell(views.selection_note(req.filters))])
    info.append(["数据截至", f"{req.as_of:%Y-%m-%d %H:%M}"])
    info.append(["说明", "各指标口径同仪表盘；居民个人信息已脱敏。"])
    info["A1"].font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 12
    info.column_dimensions["B"].width = 50
    for name, frame in report_tables(store, req).items():
        _sheet(wb, name, frame)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet(wb: Workbook, name: str, frame: pd.DataFrame) -> None:
    ws = wb.create_sheet(name)
    headers = [str(_cell(str(c))) for c in frame.columns]
    ws.append(headers)
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        values = [header, *(str(v) for v in frame.iloc[:, col - 1].tolist()[:500])]
        width = max(len(v) * (2 if any(ord(ch) > 255 for ch in v) else 1) for v in values) + 2
        ws.column_dimensions[get_column_letter(col)].width = min(max(width, 8), MAX_COLUMN_WIDTH)
        if header in RATE_HEADERS:
            for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                c.number_format = PERCENT
    if name == "总体指标":  # rates and counts share a column: format row by row
        for r, key in enumerate(views.KPI_KEYS, start=2):
            fmt = PERCENT if key in views.RATE_KPIS else "#,##0"
            ws.cell(row=r, column=2).number_format = fmt
            ws.cell(row=r, column=3).number_format = "+0.0%;-0.0%" if key in views.RATE_KPIS else "+#,##0;-#,##0"
    ws.freeze_panes = "A2"


def _cell(value: object) -> object:
    """A value as a worksheet cell: text never starts a formula and holds no character XML refuses."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return exports.safe_cell(value)


def excel_for(store: Store, scope: Scope, f: Filters, as_of: datetime, area: str) -> bytes:
    """The Excel report for a page's download button (store and scope first, like every view)."""
    return excel(store, ReportRequest(scope, f, as_of, area))


# ---- PDF and PPTX: one document, two layouts ----------------------------------

FORMATS = ("xlsx", "pdf", "pptx")
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Figures a report's map can colour grids by (the resolution page offers the same).
MAP_METRICS = ("resolution_rate", "cases_per_100", "on_time_rate", "satisfaction", "self_resolved_share",
               "rework_rate", "median_hours")  # fmt: skip
DEFAULT_MAP_METRIC = "resolution_rate"
DOC_OVERDUE_ROWS = 15  # the oldest overdue cases listed; the workbook lists them all
DESCRIPTION_CHARS = 36
CATEGORY_CHARS = 10
DOC_RANKING_COLUMNS = ["rank", "grid_name", "community", "due", "resolution_rate", "resolution_lower_bound",
                       "on_time_rate", "self_resolved_share", "satisfaction", "rated", "median_hours",
                       "rework_rate"]  # fmt: skip


@dataclass(frozen=True)
class Document:
    """Everything a PDF or a slide deck shows, already written as text (masked, formatted)."""

    title: str
    area: str
    period: str
    selection: str  # which cases: all, or the categories and sources chosen
    as_of: str
    kpis: list[tuple[str, str, str | None]]  # label, value, change against the previous period
    kpi_note: str
    map_metric: str
    ranking: pd.DataFrame  # every grid, best first, rates as text, sample sizes beside them
    matrix: pd.DataFrame  # service points per community and level, with the total row
    levels: pd.DataFrame  # three-level linkage shares per community and for the area
    overdue: pd.DataFrame  # the oldest overdue cases, masked, no contact columns
    overdue_total: int
    empty: bool  # no case reported in the period and area
    images: dict[str, bytes] = field(default_factory=dict)  # map, trend, categories, levels


def level_table(perf: pd.DataFrame, totals: dict[str, int]) -> pd.DataFrame:
    """Three-level linkage per community and for the whole area: resolved cases and shares.

    The total row is the area's (``views.level_totals``), cases in no grid included, so it
    agrees with the headline 已办结; the communities' rows add up to it less those cases.
    """
    counts = perf.groupby("community")[["resolved", "level1", "level2", "level3"]].sum()
    counts.loc[t("levels_total")] = [totals[c] for c in ("resolved", "level1", "level2", "level3")]
    out = counts.reset_index().rename(columns={"index": "community"})
    for lv in (1, 2, 3):
        out[f"level{lv}_share"] = [metrics.ratio(a, b) for a, b in zip(out[f"level{lv}"], out["resolved"], strict=True)]
    return out


_TEXT_COLUMNS = {"grid_name", "community"}


def _text_table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Columns written as text with Chinese headings, the way the dashboard writes them."""
    def cell(c: str, v: object) -> str:
        if c in _TEXT_COLUMNS:
            return "" if formats.missing(v) else str(v)
        return formats.value(c, v)  # type: ignore[arg-type]

    return pd.DataFrame({t(c): [cell(c, v) for v in frame[c]] for c in columns})


def document(store: Store, req: ReportRequest, map_metric: str = DEFAULT_MAP_METRIC) -> Document:
    """The report's content for the PDF and the slides, from the dashboard's views."""
    if map_metric not in MAP_METRICS:
        choices = "、".join(f"{m}（{t(m)}）" for m in MAP_METRICS)
        raise ValueError(f"地图指标 {map_metric} 不可用，可选：{choices}。")
    f, scope, as_of = req.filters, req.scope, req.as_of
    kpis = views.overview_kpis(store, scope, f, as_of)
    perf = views.grid_performance(store, scope, f, as_of)
    before = f.previous()
    overdue_kpi = next(k.value for k in kpis if k.key == "overdue") or 0
    cases = views.overdue_for_meeting(store, scope, f, as_of, DOC_OVERDUE_ROWS)
    overdue = pd.DataFrame(
        {
            t("case_id"): cases["case_id"].astype(str),
            t("reported_at"): [f"{v:%Y-%m-%d}" for v in cases["reported_at"]],
            t("deadline_at"): [f"{v:%Y-%m-%d %H:%M}" for v in cases["deadline_at"]],
            t("grid_name"): cases["grid_name"].fillna("").astype(str),
            t("category"): [_shorten(str(v), CATEGORY_CHARS) for v in cases["category"].fillna(t("uncategorised"))],
            t("description"): [_shorten(str(v)) for v in cases["description"].fillna("")],
        }
    )
    levels = level_table(perf, views.level_totals(store, scope, f, as_of))
    level_text = pd.DataFrame({t("community"): levels["community"], "办结件数": levels["resolved"].map(formats.count)})
    for lv in (1, 2, 3):
        level_text[t(f"level{lv}_share")] = levels[f"level{lv}_share"].map(formats.rate)
    matrix = views.labelled_matrix(views.service_matrix_by_community(store, scope, f)).reset_index()
    doc = Document(
        title=f"{req.area} 网格治理报告",
        area=req.area,
        period=f"{f.start} 至 {f.end}（{f.days} 天）",
        selection=views.selection_note(f),
        as_of=f"{as_of:%Y-%m-%d %H:%M}",
        kpis=[(t(f"kpi_{k.key}"), *formats.kpi(k.key, k.value, k.delta, k.is_rate)) for k in kpis],
        kpi_note=t("vs_previous", start=before.start, end=before.end),
        map_metric=map_metric,
        ranking=_text_table(perf, DOC_RANKING_COLUMNS),
        matrix=matrix.astype(str),
        levels=level_text,
        overdue=overdue,
        overdue_total=int(overdue_kpi),
        empty=not kpis[0].value,
    )
    shapes_ = views.grid_shapes(store, scope, f)
    doc.images["map"] = figures.grid_map(shapes_, perf, map_metric)
    trend = views.monthly_trend(store, scope, f)
    if len(trend):
        doc.images["trend"] = figures.trend_chart(trend)
    cats = views.top_categories(store, scope, f)
    if len(cats):
        doc.images["categories"] = figures.category_chart(cats)
    if levels["resolved"].sum():
        doc.images["levels"] = figures.level_chart(levels)
    return doc


def kpi_definitions() -> list[str]:
    """How each headline figure is counted, for a report's reader."""
    return [f"{t(f'kpi_{k}')}：{t(f'kpi_help_{k}')}" for k in views.KPI_KEYS]


def _shorten(text: str, limit: int = 0) -> str:
    limit = limit or DESCRIPTION_CHARS
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(store: Store, req: ReportRequest, fmt: str, map_metric: str = DEFAULT_MAP_METRIC) -> bytes:
    """The report file in ``fmt`` (xlsx, pdf or pptx)."""
    if fmt == "xlsx":
        return excel(store, req)
    if fmt == "pdf":
        from gridpulse import report_pdf

        return report_pdf.render(document(store, req, map_metric))
    if fmt == "pptx":
        from gridpulse import report_pptx

        return report_pptx.render(document(store, req, map_metric))
    raise ValueError(f"不支持的报告格式 {fmt}，可选：{'、'.join(FORMATS)}。")


def render_for(
    store: Store, scope: Scope, f: Filters, as_of: datetime, area: str, fmt: str, map_metric: str = DEFAULT_MAP_METRIC
) -> bytes:
    """A report for a page's download button (store and scope first, like every view)."""
    return render(store, ReportRequest(scope, f, as_of, area), fmt, map_metric)
