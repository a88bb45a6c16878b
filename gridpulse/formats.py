"""How a figure is written, the same on a page, on the projector and in a report."""

from __future__ import annotations

import pandas as pd

from gridpulse.metrics import RATE_METRICS
from gridpulse.strings import t

__all__ = ["RATE_METRICS", "WORSE_WHEN_UP"]

ONE_DECIMAL = {"cases_per_100", "median_hours", "p90_hours", "median_days", "p90_days", "score"}
# KPIs where a rise is bad news (shown in red, not green).
WORSE_WHEN_UP = {"backlog", "overdue", "unassigned"}


def cn_date(d: object) -> str:
    """A date as Chinese documents write it: 2026年11月20日 (no leading zeros); "—" when there is none."""
    if missing(d):
        return t("no_data")
    ts = pd.Timestamp(d)
    return f"{ts.year}年{ts.month}月{ts.day}日"


def cn_datetime(d: object) -> str:
    """A moment as 2026年11月20日 10:00."""
    if missing(d):
        return t("no_data")
    ts = pd.Timestamp(d)
    return f"{cn_date(ts)} {ts:%H:%M}"


def missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def rate(value: float | None, digits: int = 1) -> str:
    return t("no_data") if missing(value) else f"{value * 100:.{digits}f}%"


def count(value: float | None) -> str:
    return t("no_data") if missing(value) else f"{int(value):,}"


def value(metric: str, v: float | None) -> str:
    """One figure of a grid or the street, by the metric's kind."""
    if missing(v):
        return t("no_data")
    if metric in RATE_METRICS:
        return rate(v)
    if metric in ONE_DECIMAL:
        return f"{v:.1f}"
    return count(v)


def kpi(key: str, v: float | None, delta: float | None, is_rate: bool) -> tuple[str, str | None]:
    """A KPI's value and its change against the previous period (rates in percentage points)."""
    if delta is None:
        return (rate(v) if is_rate else count(v)), None
    if is_rate:  # + 0.0 turns a rounded -0.0 into 0.0: no "-0.0 个百分点"
        return rate(v), t("kpi_delta_points", points=round(delta * 100, 1) + 0.0)
    return count(v), f"{round(delta) + 0:+,.0f}"
