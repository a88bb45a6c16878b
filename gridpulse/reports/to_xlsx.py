"""The Excel workbook: one formatted sheet per table, frozen headers, formula-safe cells."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gridpulse import analysis_views, exports, formats, metrics, scorecard, views
from gridpulse.reports.request import ReportRequest
from gridpulse.store import Store
from gridpulse.strings import t

HEADER_FILL = PatternFill("solid", fgColor="C0392B")
HEADER_FONT = Font(bold=True, color="FFFFFF")
PERCENT = "0.0%"
MAX_COLUMN_WIDTH = 60


def report_tables(store: Store, req: ReportRequest) -> dict[str, pd.DataFrame]:
    """Every table of the report, by sheet name (Chinese), from the dashboard's views."""
    f, scope, as_of = req.filters, req.scope, req.as_of
    kpis = views.overview_kpis(store, scope, f, as_of)
    headline = pd.DataFrame(
        {
            t("col_indicator"): [t(f"kpi_{k.key}") for k in kpis],
            t("col_value"): [k.value for k in kpis],
            t("col_vs_previous"): [k.delta for k in kpis],
        }
    )
    perf = views.grid_performance(store, scope, f, as_of)
    ranking = perf[views.RANKING_COLUMNS].rename(columns={c: t(c) for c in views.RANKING_COLUMNS})
    matrix = views.labelled_matrix(views.service_matrix_by_community(store, scope, f)).reset_index()
    overdue = views.labelled_cases(views.overdue_for_meeting(store, scope, f, as_of, limit=10_000))
    levels = perf[["grid_name", "resolved", "level1_share", "level2_share", "level3_share"]].rename(
        columns={c: t(c) if c != "resolved" else t("col_resolved_count")
                 for c in ["grid_name", "level1_share", "level2_share", "level3_share", "resolved"]}
    )  # fmt: skip
    by_month = views.category_by_month(store, scope, f)
    sheets = {t("sheet_headline"): headline, t("sheet_ranking"): ranking, t("sheet_matrix"): matrix,
              t("sheet_overdue"): overdue, t("sheet_levels"): levels, t("sheet_category_month"): by_month}  # fmt: skip
    if scorecard.sees_departments(scope):
        card = scorecard.department_scorecard(store, scope, f, as_of)
        sheets[t("sheet_departments")] = scorecard.department_sheet(card) if len(card) else pd.DataFrame()
    sheets[t("sheet_red_black")] = scorecard.lists_frame(store, scope, f, as_of)
    sheets[t("sheet_alerts")] = analysis_views.alert_table_shown(analysis_views.alert_list(store, scope, as_of))
    by = "department" if scorecard.sees_departments(scope) else "community"
    stages = pd.concat([scorecard.stage_timings(store, scope, f), scorecard.stage_timings(store, scope, f, by)])
    sheets[t("sheet_stages")] = scorecard.stage_wide(stages) if len(stages) else pd.DataFrame()
    return sheets


RATE_HEADERS = {t(c) for c in metrics.RATE_METRICS}


def excel(store: Store, req: ReportRequest) -> bytes:
    """The Excel workbook: one formatted sheet per table, frozen headers, formula-safe cells."""
    wb = Workbook()
    wb.remove(wb.active)
    info = wb.create_sheet(t("sheet_about"))
    info.append([t("xlsx_title")])
    info.append([t("xlsx_area"), _cell(req.area)])  # imported names: formula-safe too
    info.append([t("xlsx_period"), t("xlsx_period_value", start=req.filters.start, end=req.filters.end)])
    info.append([t("xlsx_selection"), _cell(views.selection_note(req.filters))])
    info.append([t("xlsx_as_of"), formats.cn_datetime(req.as_of)])
    info.append([t("sheet_about"), t("xlsx_about")])
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
    if name == t("sheet_headline"):  # rates and counts share a column: format row by row
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
