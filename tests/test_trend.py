"""The monthly trend marks the months the period holds only part of (page and reports)."""

from __future__ import annotations

from datetime import date

from gridpulse import views
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import Store


def test_first_and_last_months_of_a_period_are_marked_partial(store: Store) -> None:
    trend = views.monthly_trend(store, Scope.street(), Filters(date(2026, 2, 10), date(2026, 3, 31)))
    by_month = trend.drop_duplicates("month").set_index(trend.drop_duplicates("month")["month"].astype(str).str[:7])
    assert bool(by_month.loc["2026-02", "partial"])  # from the 10th only
    assert not bool(by_month.loc["2026-03", "partial"])  # the whole of March
    assert by_month.loc["2026-02", "covers"] == "2026-02-10 至 2026-02-28"
    assert by_month.loc["2026-02", "month_label"] == "2026-02（不完整月份：2026-02-10 至 2026-02-28）"
    assert by_month.loc["2026-03", "month_label"] == "2026-03"
    whole = views.monthly_trend(store, Scope.street(), Filters(date(2026, 3, 1), date(2026, 3, 20)))
    assert whole["partial"].all()  # March up to the 20th
