"""What a report covers (scope, period, area, as-of), and its file name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from gridpulse.filters import Filters
from gridpulse.safe_text import file_part
from gridpulse.scope import Scope
from gridpulse.strings import t


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
        raise ValueError(t("report_bad_period", text=text)) from err
    if start > end:
        raise ValueError(t("report_period_reversed", text=text))
    return start, end


def file_name(area: str, start: date, end: date, ext: str, filtered: bool = False) -> str:
    """某街道_2026年1-6月_网格治理报告.xlsx (months of one year), else with full dates;
    ``filtered`` (some categories or sources only) adds 部分诉求 so the file says so."""
    month_end = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
    if start.day == 1 and end == month_end and start.year == end.year:
        span = (
            t("report_span_months", year=start.year, first=start.month, last=end.month)
            if start.month != end.month
            else t("report_span_month", year=start.year, month=start.month)
        )
    else:
        span = f"{start:%Y%m%d}-{end:%Y%m%d}"
    part = t("report_file_partial") if filtered else ""
    return t("report_file_name", area=file_part(area).replace(" ", "_"), span=span, part=part, ext=ext)
