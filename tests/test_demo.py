"""The demo street: realistic shape and shares, deterministic, tiles without gaps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely

from geo import shapes
from gridpulse import demo
from gridpulse.scope import Scope
from gridpulse.store import Store

STREET = Scope.street()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    demo.generate(path, 20_000, 7)
    return Store(path)


def test_grids_tile_the_street(demo_store: Store) -> None:
    grids = shapes.grids_frame(demo_store.grid_shapes(STREET))
    assert 40 <= len(grids) <= 80
    assert 4 <= grids["community"].nunique() <= 6
    union = shapely.union_all(grids.geometry.values)
    total = shapely.area(grids.geometry.values).sum()
    assert total == pytest.approx(union.area, rel=1e-9)  # no overlaps
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0
    assert all(grids.geometry.is_valid)


def test_grid_codes_name_their_community(demo_store: Store) -> None:
    grids = demo_store.grids(STREET)
    assert all(re.fullmatch(r"\d{15}", c) for c in grids["grid_code"])
    assert grids.groupby("community")["grid_code"].agg(lambda s: s.str[:12].nunique()).eq(1).all()
    assert grids["households"].between(300, 600).all()


def test_case_shares_look_real(demo_store: Store) -> None:
    df = demo_store.query("SELECT * FROM cases")
    assert len(df) == 20_000
    span = df["reported_at"].max() - df["reported_at"].min()
    assert span.days >= 18 * 30
    resolved = df[df["resolved_at"].notna()]
    shares = resolved["handled_level"].value_counts(normalize=True)
    assert 0.62 < shares[1] < 0.76
    assert 0.18 < shares[2] < 0.32
    assert 0.03 < shares[3] < 0.1
    rated = df[df["satisfaction"].notna()]
    assert 0.88 < (rated["satisfaction"] >= 4).mean() < 0.98
    assert set(df["source"]) == {"12345热线", "网格巡查", "微信群", "议事会", "微心愿", "书记接待日"}
    assert (df["status"] != "rated").sum() > 0
    assert df["resolved_at"].isna().sum() > 0
    unassigned = df["grid_code"].isna().mean()
    assert 0 < unassigned < 0.03
    heating = df[df["category"] == "供暖问题"]["reported_at"].dt.month
    assert heating.isin([11, 12, 1, 2, 3]).mean() > 0.8  # heating complaints come in winter
    drainage = df[df["category"] == "排水积水"]["reported_at"].dt.month
    assert drainage.isin([6, 7, 8]).mean() > 0.5


def test_lifecycle_is_ordered(demo_store: Store) -> None:
    bad = demo_store.query(
        "SELECT count(*) AS n FROM cases WHERE dispatched_at < reported_at OR accepted_at < dispatched_at "
        "OR resolved_at < accepted_at OR rated_at < resolved_at OR (rated_at IS NULL) != (satisfaction IS NULL)"
    )
    assert bad.at[0, "n"] == 0


def test_service_matrix_counts(demo_store: Store) -> None:
    res = demo_store.resources(STREET)
    counts = res["kind"].value_counts()
    n_grids = len(demo_store.grids(STREET))
    assert counts["service_centre"] == demo_store.grids(STREET)["community"].nunique()
    assert 3 <= counts["red_steward_station"] <= 12
    assert 0.85 * n_grids <= counts["micro_grid_post"] <= 1.2 * n_grids
    assert counts["stairwell_corner"] >= 3 * n_grids
    assert {"council_venue", "volunteer_team"} <= set(counts.index)


def test_same_seed_same_street(tmp_path: Path) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    demo.generate(a, 2_000, 11)
    demo.generate(b, 2_000, 11)
    sa, sb = Store(a), Store(b)
    q = "SELECT * FROM cases ORDER BY case_id"
    assert sa.query(q).equals(sb.query(q))
    assert sa.grid_shapes(STREET).equals(sb.grid_shapes(STREET))
