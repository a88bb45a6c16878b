"""SQL built from filters: bound parameters only, one table of cases."""

from __future__ import annotations

from datetime import date

import pytest

from gridpulse.filters import Filters, case_conditions, grid_conditions
from gridpulse.scope import Scope

STREET = Scope.street()

BASE = Filters(date(2026, 3, 1), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("f", "conds", "params"),
    [
        (BASE, [], {}),
        (
            Filters(BASE.start, BASE.end, communities=("甲社区",)),
            ["c.grid_code IN (SELECT grid_code FROM grids WHERE list_contains($communities, community))"],
            {"communities": ["甲社区"]},
        ),
        (
            Filters(BASE.start, BASE.end, grids=("g1", "g2"), categories=("噪声扰民",)),
            ["list_contains($grids, c.grid_code)", "list_contains($categories, c.category)"],
            {"grids": ["g1", "g2"], "categories": ["噪声扰民"]},
        ),
        (
            Filters(BASE.start, BASE.end, sources=("x'); DROP TABLE cases; --",)),
            ["list_contains($sources, c.source)"],
            {"sources": ["x'); DROP TABLE cases; --"]},
        ),
    ],
)
def test_case_conditions(f: Filters, conds: list[str], params: dict) -> None:
    assert case_conditions(f) == (conds, params)


def test_grid_conditions() -> None:
    f = Filters(BASE.start, BASE.end, communities=("乙社区",))
    assert grid_conditions(f) == (["list_contains($communities, g.community)"], {"communities": ["乙社区"]})


def test_previous_period_has_the_same_length() -> None:
    prev = BASE.previous()
    assert (prev.start, prev.end) == (date(2026, 1, 29), date(2026, 2, 28))
    assert prev.days == BASE.days == 31


def test_sql_metacharacters_are_data(store) -> None:
    f = Filters(BASE.start, BASE.end, categories=("'; DROP TABLE cases; --",))
    from tests.fixtures import AS_OF

    assert store.case_components(STREET, f, AS_OF).iloc[0]["cases"] == 0
    assert store.case_components(STREET, BASE, AS_OF).iloc[0]["cases"] == 10


def test_category_and_area_filters(store) -> None:
    from tests.fixtures import AS_OF

    noise = Filters(BASE.start, BASE.end, categories=("噪声扰民",))
    assert store.case_components(STREET, noise, AS_OF).iloc[0]["cases"] == 1
    south = Filters(BASE.start, BASE.end, communities=("甲社区",))
    comp = store.case_components(STREET, south, AS_OF).iloc[0]
    # grids 1-3: c01 c02 c03 c04 c05 c12; unassigned cases belong to no community
    assert (comp["cases"], comp["unassigned"]) == (6, 0)
