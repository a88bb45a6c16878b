"""Four-level service matrix on the fixture's nine resources."""

from __future__ import annotations

import pytest

from gridpulse import views
from gridpulse.scope import Scope
from tests.fixtures import code

STREET = Scope.street()


def test_by_community(store) -> None:
    table = views.service_matrix_by_community(store, STREET)
    # levels 1-4, then council venues and volunteer teams (no matrix level, counted beside it)
    assert table.columns.tolist() == [1, 2, 3, 4, "council_venue", "volunteer_team"]
    assert table.loc["甲社区"].tolist() == [1, 1, 2, 2, 0, 0]
    assert table.loc["乙社区"].tolist() == [0, 0, 1, 1, 0, 1]
    assert table.loc["__total__"].tolist() == [1, 1, 3, 3, 0, 1]


def test_grids_lacking_a_micro_grid_post(store) -> None:
    by_grid = views.service_matrix_by_grid(store, STREET).set_index("grid_code")
    lacking = sorted(by_grid.index[by_grid["lacks_post"]])
    assert lacking == [code(n) for n in (3, 4, 6, 7, 8, 9)]
    assert by_grid.loc[code(1), ["level1", "level2", "level3", "level4"]].tolist() == [1, 1, 1, 2]
    assert by_grid["volunteer_team"].sum() == 1
    assert by_grid.loc[code(4), "volunteer_team"] == 1  # r9, beside the matrix
    assert by_grid["council_venue"].sum() == 0


@pytest.mark.parametrize(
    ("max_m", "far"),
    [
        # station at grid 1's centre; neighbours east ~889 m, north ~1,112 m, diagonal ~1,424 m
        (800, (2, 3, 4, 5, 6, 7, 8, 9)),
        (1000, (3, 4, 5, 6, 7, 8, 9)),
        (1500, (3, 6, 7, 8, 9)),
    ],
)
def test_grids_far_from_a_station(store, max_m: int, far: tuple[int, ...]) -> None:
    by_grid = views.service_matrix_by_grid(store, STREET, None, max_m).set_index("grid_code")
    assert sorted(by_grid.index[by_grid["far_from_station"]]) == [code(n) for n in far]
    assert by_grid.loc[code(2), "distance_m"] == pytest.approx(889, abs=5)


def test_area_filter_limits_the_matrix(store) -> None:
    from gridpulse.filters import Filters
    from tests.fixtures import MARCH

    f = Filters(MARCH.start, MARCH.end, communities=("乙社区",))
    assert list(views.service_matrix_by_community(store, STREET, f).index) == ["乙社区", "__total__"]
    assert len(views.service_matrix_by_grid(store, STREET, f)) == 6
