"""Every metric against answers worked out by hand (see tests/fixtures.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from gridpulse import metrics, views
from gridpulse.scope import Scope
from tests.fixtures import AS_OF, MARCH, code

STREET = Scope.street()


def test_ratio_of_nothing_is_none_not_zero() -> None:
    assert metrics.ratio(0, 0) is None
    assert metrics.ratio(3, 4) == 0.75


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [(3, 3, 0.4385), (190, 200, 0.9104), (0, 10, 0.0), (5, 10, 0.2366)],
)
def test_wilson_lower_bound(successes: int, n: int, expected: float) -> None:
    assert metrics.wilson_lower_bound(successes, n) == pytest.approx(expected, abs=1e-4)


def test_street_components_for_march(store) -> None:
    comp = store.case_components(STREET, MARCH, AS_OF).iloc[0]
    # reported in March: c01-c06, c09-c12 (c07, c08 were reported in February)
    assert comp["cases"] == 10
    # resolved in March: c01 c02 c04 c05 c07 c09 c11 c12; c02 after its deadline
    assert comp["resolved"] == 8
    assert comp["on_time"] == 7
    assert (comp["level1"], comp["level2"], comp["level3"]) == (5, 2, 1)
    assert comp["reopened"] == 1
    # hours: 1 12 24 24 24 24 96 216 -> median 24
    assert comp["median_hours"] == pytest.approx(24.0)
    # due before 03-31 12:00: all but c06 (April) and c08 (February); c03 and c10 still open
    assert (comp["due"], comp["due_resolved"]) == (10, 8)
    # rated in March: c01 5, c02 2, c04 4, c07 5, c11 3, c12 5 -> 4 satisfied
    assert (comp["rated"], comp["satisfied"]) == (6, 4)
    # open at 03-31 12:00: c03, c06, c10; c06's deadline is in April
    assert (comp["backlog"], comp["overdue"]) == (3, 2)
    # c09 has no coordinates, c10 lies outside every grid
    assert comp["unassigned"] == 2


def test_headline_rates_for_march(store) -> None:
    h = views.headline(store, STREET, MARCH, AS_OF)
    assert h["resolution_rate"] == pytest.approx(0.8)
    assert h["on_time_rate"] == pytest.approx(0.875)
    assert h["satisfaction"] == pytest.approx(4 / 6)
    comp = metrics.with_rates(store.case_components(STREET, MARCH, AS_OF)).iloc[0]
    assert comp["self_resolved_share"] == pytest.approx(0.625)
    assert comp["rework_rate"] == pytest.approx(0.125)


def test_change_against_previous_period(store) -> None:
    kpis = {k.key: k for k in views.overview_kpis(store, STREET, MARCH, AS_OF)}
    # previous 31 days (01-29 .. 02-28): c07 and c08 reported -> 10 - 2
    assert kpis["cases"].delta == 8
    # resolved then: c08 only
    assert kpis["resolved"].delta == 7


def test_grid_one_figures(store) -> None:
    perf = views.grid_performance(store, STREET, MARCH, AS_OF).set_index("grid_code")
    g1 = perf.loc[code(1)]
    assert (g1["cases"], g1["due"], g1["due_resolved"]) == (3, 3, 2)
    assert g1["resolution_rate"] == pytest.approx(2 / 3)
    assert g1["cases_per_100"] == pytest.approx(1.5)  # 3 cases, 200 households
    assert g1["overdue"] == 1
    # a grid with no cases is kept, with empty rates
    g4 = perf.loc[code(4)]
    assert g4["cases"] == 0
    assert pd.isna(g4["resolution_rate"])


def test_ranking_is_fair_to_small_grids(store) -> None:
    perf = views.grid_performance(store, STREET, MARCH, AS_OF)
    # grid 2 resolved 2 of 2 and grid 9 1 of 1: 100 % each, but the lower bound ranks
    # the bigger sample first.
    top = perf.iloc[0]
    assert top["grid_code"] == code(2)
    assert perf.set_index("grid_code").loc[code(9), "rank"] > 1
