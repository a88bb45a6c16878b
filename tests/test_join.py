"""Points to grids on the 3×3 fixture: inside, outside, shared edges and vertices."""

from __future__ import annotations

import numpy as np
import pytest

from geo import join, shapes
from tests import fixtures
from tests.fixtures import LAT0, LON0, SIDE, code


@pytest.fixture(scope="module")
def grids():
    return shapes.grids_frame(fixtures.grid_rows())


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (LON0 + 0.005, LAT0 + 0.005, code(1)),  # inside grid 1
        (LON0 + 0.025, LAT0 + 0.025, code(9)),  # inside grid 9
        (LON0 - 0.001, LAT0 + 0.005, None),  # west of the street
        (LON0 + 0.05, LAT0 + 0.05, None),  # far outside
        (LON0 + SIDE, LAT0 + 0.005, code(1)),  # edge shared by 1 and 2: lowest code
        (LON0 + 0.015, LAT0 + 2 * SIDE, code(5)),  # edge shared by 5 and 8
        (LON0 + SIDE, LAT0 + SIDE, code(1)),  # vertex shared by 1, 2, 4, 5
        (LON0 + 2 * SIDE, LAT0 + 2 * SIDE, code(5)),  # vertex shared by 5, 6, 8, 9
        (LON0, LAT0, code(1)),  # outer corner of the street
        (LON0 + 3 * SIDE, LAT0 + 0.005, code(3)),  # outer east edge
        (float("nan"), LAT0, None),  # no coordinates
    ],
)
def test_assign_grids(grids, lon: float, lat: float, expected: str | None) -> None:
    assert join.assign_grids(np.array([lon]), np.array([lat]), grids)[0] == expected


def test_every_point_is_kept_once(grids) -> None:
    lon = np.array([LON0 + SIDE, LON0 + 0.005, LON0 - 1])
    lat = np.array([LAT0 + SIDE, LAT0 + 0.005, LAT0])
    out = join.assign_grids(lon, lat, grids)
    assert list(out) == [code(1), code(1), None]


def test_fixture_cases_join(store) -> None:
    grids = store.query("SELECT case_id, grid_code FROM cases ORDER BY case_id")
    assigned = dict(zip(grids["case_id"], grids["grid_code"], strict=True))
    assert assigned["c01"] == code(1)
    assert assigned["c09"] is None or assigned["c09"] != assigned["c09"]  # no coordinates -> NULL
    assert assigned["c10"] is None or assigned["c10"] != assigned["c10"]  # outside -> NULL


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (LON0 + 0.005, LAT0 + 0.005), (LON0 - 0.001, LAT0 + 0.005), (LON0 + SIDE, LAT0 + 0.005),
        (LON0 + SIDE, LAT0 + SIDE), (LON0, LAT0), (LON0 + 3 * SIDE, LAT0 + 3 * SIDE),
        (LON0 + 3 * SIDE, LAT0 + 0.005), (float("nan"), LAT0), (LON0 + 0.015, LAT0 + 2 * SIDE),
    ],
)  # fmt: skip
def test_raster_index_answers_like_geopandas(grids, lon: float, lat: float) -> None:
    index = join.GridIndex(grids, cell_deg=0.0007)  # cells that do not line up with the grid edges
    assert (
        index.assign(np.array([lon]), np.array([lat]))[0]
        == join.assign_grids(np.array([lon]), np.array([lat]), grids)[0]
    )


def test_raster_index_on_the_demo_street(tmp_path) -> None:
    import shapely

    from gridpulse import demo

    rng = np.random.default_rng(5)
    street = demo.build_grids(rng)
    x0, y0, x1, y1 = street.total_bounds
    lon = rng.uniform(x0 - 0.003, x1 + 0.003, 200_000)
    lat = rng.uniform(y0 - 0.003, y1 + 0.003, 200_000)
    # every vertex and every edge midpoint: the hardest points there are
    coords = shapely.get_coordinates(street.geometry.values)
    mids = (coords[:-1] + coords[1:]) / 2
    lon = np.concatenate([lon, coords[:, 0], mids[:, 0]])
    lat = np.concatenate([lat, coords[:, 1], mids[:, 1]])
    fast = join.GridIndex(street).assign(lon, lat)
    assert np.array_equal(fast, join.assign_grids(lon, lat, street))
    assert sum(v is None for v in fast) > 0
