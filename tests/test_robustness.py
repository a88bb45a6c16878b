"""Real-world data the demo never has: missing deadlines, no stations, unknown codes, a replaced file."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import shapes
from gridpulse import maps, views
from gridpulse import store as store_pkg
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.strings import label
from tests import fixtures
from tests.fixtures import AS_OF, MARCH, code

STREET = Scope.street()


def _street(path: Path, cases: pd.DataFrame, resources: pd.DataFrame, source: str = "") -> Path:
    from geo import join

    grids = fixtures.grid_rows()
    polys = shapes.grids_frame(grids)
    cases = cases.copy()
    cases["grid_code"] = join.assign_grids(cases["lon"].to_numpy(), cases["lat"].to_numpy(), polys)
    resources = resources.copy()
    resources["grid_code"] = join.assign_grids(resources["lon"].to_numpy(), resources["lat"].to_numpy(), polys)
    meta = {"street_name": "测试街道", "as_of": AS_OF.isoformat(), "source": source}
    store_pkg.write_street(path, grids, cases, resources, meta)
    return path


def test_missing_deadline_gets_the_default_72_hours(tmp_path: Path) -> None:
    cases = fixtures.case_rows().head(2).copy()
    cases["deadline_at"] = pd.NaT  # c01 resolved after 24 h, c02 after 96 h
    s = Store(_street(tmp_path / "s.duckdb", cases, fixtures.resource_rows()))
    comp = s.case_components(STREET, MARCH, AS_OF).iloc[0]
    assert (comp["resolved"], comp["on_time"]) == (2, 1)
    assert (comp["due"], comp["due_resolved"]) == (2, 2)


def test_no_red_steward_station_means_every_grid_is_far(tmp_path: Path) -> None:
    res = fixtures.resource_rows()
    res = res[res["level"] != 2]
    s = Store(_street(tmp_path / "s.duckdb", fixtures.case_rows(), res))
    by_grid = views.service_matrix_by_grid(s, STREET)
    assert by_grid["distance_m"].isna().all()
    assert by_grid["far_from_station"].all()
    m = maps.service_matrix_map(
        views.grid_shapes(s, STREET), by_grid, views.service_points(s, STREET), {1: "一", 2: "二", 3: "三", 4: "四"}
    )
    assert "inf" not in maps.map_html(m)


def test_service_map_without_points(store) -> None:
    from gridpulse.filters import Filters

    f = Filters(MARCH.start, MARCH.end, grids=(code(4),))  # only a volunteer team there
    by_grid = views.service_matrix_by_grid(store, STREET, f)
    m = maps.service_matrix_map(
        views.grid_shapes(store, STREET, f),
        by_grid,
        views.service_points(store, STREET, f),
        {1: "一", 2: "二", 3: "三", 4: "四"},
    )
    assert "leaflet" in maps.map_html(m)


def test_nearest_distance_skips_missing_targets() -> None:
    import geopandas as gpd

    src = gpd.GeoSeries(gpd.points_from_xy([121.0], [37.0]), crs=shapes.WGS84)
    tgt = gpd.GeoSeries(gpd.points_from_xy([np.nan, 121.01], [np.nan, 37.0]), crs=shapes.WGS84)
    d = shapes.nearest_distance_m(src, tgt, "EPSG:32651")
    assert d[0] == pytest.approx(889, abs=5)


def test_one_value_everywhere_is_not_painted_worst() -> None:
    fill, _, palette = maps.classify(pd.Series([1.0, 1.0, 1.0]), higher_is_better=True)
    assert set(fill) == {maps.RATE_COLOURS[2]}
    assert palette == [maps.RATE_COLOURS[2]]


def test_unknown_codes_show_as_they_are() -> None:
    cases = pd.DataFrame(
        {"status": ["closed", "rated"], "handled_level": pd.array([4, 1], dtype="Int8"),
         "reopened": [False, True], "department": [None, "区住建局"]}
    )  # fmt: skip
    out = views.labelled_cases(cases)
    assert out["状态"].tolist() == ["closed", "已评价"]
    assert out["办理层级"].tolist() == ["4", "网格"]
    assert label("status_unknown", None) == ""


def test_store_reopens_a_replaced_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridpulse.ui import cache

    path = fixtures.build(tmp_path / "street.duckdb")
    monkeypatch.setenv("GRIDPULSE_DB", str(path))
    first = cache.store()
    assert len(first.resources(STREET)) == 9
    _street(tmp_path / "new.duckdb", fixtures.case_rows(), fixtures.resource_rows().head(2))
    (tmp_path / "new.duckdb").replace(path)
    os.utime(path, (datetime.now().timestamp() + 5, datetime.now().timestamp() + 5))
    assert len(cache.store().resources(STREET)) == 2


def test_an_old_demo_database_gets_its_demo_users(tmp_path: Path) -> None:
    from gridpulse import auth

    path = _street(tmp_path / "old.duckdb", fixtures.case_rows(), fixtures.resource_rows(), source="demo")
    s = Store(path)
    assert auth.ensure_demo_users(s) == 5
    assert auth.authenticate(s, "gridhead", auth.DEMO_PASSWORD).scope.grids == (code(1), code(2))
    assert auth.ensure_demo_users(s) == 0
