"""The document behind the PDF and the slides: figures, tables and pictures, laid out twice.

Every table comes from the same view functions as the pages, so a report and the
dashboard agree for the same period, area and scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from gridpulse import analysis_views, formats, metrics, scorecard, views
from gridpulse.reports import figures
from gridpulse.reports.request import ReportRequest
from gridpulse.store import Store
from gridpulse.strings import t

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
DOC_RANKING_COLUMNS = ["rank", "grid_name", "community", "score", "cases", "on_time_rate", "satisfaction",
                       "rated", "accept_in_time_rate", "rework_rate", "resolution_rate", "median_hours"]  # fmt: skip


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
    departments: pd.DataFrame = field(default_factory=pd.DataFrame)  # 部门考核 as on the page (text, marks)
    red_black: pd.DataFrame = field(default_factory=pd.DataFrame)  # 红黑榜 of grids, communities, departments
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)  # 预警: this week's alerts as of the report


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
        raise ValueError(t("doc_bad_map_metric", metric=map_metric, choices=choices))
    f, scope, as_of = req.filters, req.scope, req.as_of
    kpis = views.overview_kpis(store, scope, f, as_of)
    perf = views.grid_performance(store, scope, f, as_of)
    before = f.previous()
    overdue_kpi = next(k.value for k in kpis if k.key == "overdue") or 0
    cases = views.overdue_for_meeting(store, scope, f, as_of, DOC_OVERDUE_ROWS)
    overdue = pd.DataFrame(
        {
            t("case_id"): cases["case_id"].astype(str),
            t("reported_at"): [formats.cn_date(v) for v in cases["reported_at"]],
            t("deadline_at"): [formats.cn_datetime(v) for v in cases["deadline_at"]],
            t("grid_name"): cases["grid_name"].fillna("").astype(str),
            t("category"): [_shorten(str(v), CATEGORY_CHARS) for v in cases["category"].fillna(t("uncategorised"))],
            t("description"): [_shorten(str(v)) for v in cases["description"].fillna("")],
        }
    )
    levels = level_table(perf, views.level_totals(store, scope, f, as_of))
    level_text = pd.DataFrame(
        {t("community"): levels["community"], t("col_resolved_count"): levels["resolved"].map(formats.count)}
    )
    for lv in (1, 2, 3):
        level_text[t(f"level{lv}_share")] = levels[f"level{lv}_share"].map(formats.rate)
    matrix = views.labelled_matrix(views.service_matrix_by_community(store, scope, f)).reset_index()
    doc = Document(
        title=t("doc_title", area=req.area),
        area=req.area,
        period=t("doc_period", start=formats.cn_date(f.start), end=formats.cn_date(f.end), days=f.days),
        selection=views.selection_note(f),
        as_of=formats.cn_datetime(as_of),
        kpis=[(t(f"kpi_{k.key}"), *formats.kpi(k.key, k.value, k.delta, k.is_rate)) for k in kpis],
        kpi_note=t("vs_previous", start=formats.cn_date(before.start), end=formats.cn_date(before.end)),
        map_metric=map_metric,
        ranking=_text_table(perf, DOC_RANKING_COLUMNS),
        matrix=matrix.astype(str),
        levels=level_text,
        overdue=overdue,
        overdue_total=int(overdue_kpi),
        empty=not kpis[0].value,
        departments=_departments(store, req),
        red_black=scorecard.lists_frame(store, scope, f, as_of),
        alerts=analysis_views.alert_table_shown(analysis_views.alert_list(store, scope, as_of)).astype(str),
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


def _departments(store: Store, req: ReportRequest) -> pd.DataFrame:
    """The departments' scorecard as the page writes it; empty for a grid head or without departments."""
    if not scorecard.sees_departments(req.scope):
        return pd.DataFrame()
    card = scorecard.department_scorecard(store, req.scope, req.filters, req.as_of)
    return scorecard.department_table(card, scorecard.settings(store))[0] if len(card) else pd.DataFrame()


def kpi_definitions() -> list[str]:
    """How each headline figure is counted, for a report's reader."""
    return [f"{t(f'kpi_{k}')}：{t(f'kpi_help_{k}')}" for k in views.KPI_KEYS]


def _shorten(text: str, limit: int = 0) -> str:
    limit = limit or DESCRIPTION_CHARS
    return text if len(text) <= limit else text[: limit - 1] + "…"
