"""The demo street: realistic shape and shares, deterministic, tiles without gaps."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path

import pytest
import shapely

from geo import shapes
from gridpulse import demo, demo_catalog
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


def test_lifecycle_is_monotonic_and_not_after_as_of(demo_store: Store) -> None:
    df = demo_store.query("SELECT * FROM cases")
    steps = ["reported_at", "dispatched_at", "accepted_at", "resolved_at", "rated_at"]
    for earlier, later in itertools.pairwise(steps):
        assert not (df[later] < df[earlier]).any(), (earlier, later)
        assert not (df[earlier].isna() & df[later].notna()).any(), (earlier, later)  # no step is skipped
    assert (df[steps].max(axis=1) <= demo.AS_OF).all()


def test_cases_close_in_working_hours(demo_store: Store) -> None:
    resolved = demo_store.query("SELECT resolved_at FROM cases WHERE resolved_at IS NOT NULL")["resolved_at"]
    assert (resolved.dt.hour < 6).mean() < 0.03


def test_addresses_name_the_cases_own_grid(demo_store: Store) -> None:
    df = demo_store.query(
        "SELECT c.address, c.description, c.category, replace(g.grid_name, '网格', '') AS compound "
        "FROM cases c JOIN grids g USING (grid_code)"
    )
    assert len(df) > 0
    wrong_address = [c not in a for a, c in zip(df["address"], df["compound"], strict=True)]
    assert sum(wrong_address) == 0
    named = df[df["category"] != "政策咨询"]  # policy questions name no compound
    assert sum(c not in d for d, c in zip(named["description"], named["compound"], strict=True)) == 0


def test_placement_is_point_for_cases_in_a_grid(demo_store: Store) -> None:
    df = demo_store.query("SELECT grid_code, placement FROM cases")
    assert (df.loc[df["grid_code"].notna(), "placement"] == "point").all()
    assert df.loc[df["grid_code"].isna(), "placement"].isna().all()


def test_patrol_cases_are_not_rated(demo_store: Store) -> None:
    patrol = demo_store.query("SELECT * FROM cases WHERE source = '网格巡查'")
    assert len(patrol) > 0
    assert patrol["satisfaction"].isna().all()
    assert patrol["rated_at"].isna().all()
    assert "rated" not in set(patrol["status"])


def test_no_ancient_open_cases(demo_store: Store) -> None:
    df = demo_store.query("SELECT reported_at, resolved_at, handled_level FROM cases")
    old_open = df[df["resolved_at"].isna() & (df["reported_at"] < demo.AS_OF - timedelta(days=120))]
    assert len(old_open) <= 0.001 * len(df)
    assert (old_open["handled_level"] == 3).all()


def test_on_the_spot_cases(demo_store: Store) -> None:
    df = demo_store.query("SELECT * FROM cases WHERE handled_level = 1")
    # 现场解决: resolved at grid level within 2 hours of the report (config.ON_SPOT_HOURS).
    on_spot = df["resolved_at"] <= df["reported_at"] + timedelta(hours=2)
    assert 0.10 <= on_spot.mean() <= 0.20
    patrol = df[df["source"] == "网格巡查"]
    assert 0.4 <= (patrol["resolved_at"] <= patrol["reported_at"] + timedelta(hours=2)).mean() <= 0.6


def test_departments_differ(demo_store: Store) -> None:
    df = demo_store.query("SELECT * FROM cases WHERE handled_level = 3 AND resolved_at IS NOT NULL")
    assert set(df["department"]) <= set(demo_catalog.DEPARTMENT_PROFILES)
    escalated = {c.department for c in demo_catalog.CATEGORIES if c.levels[2] > 0}
    assert escalated <= set(demo_catalog.DEPARTMENT_PROFILES)
    df["accepted_2h"] = df["accepted_at"] <= df["dispatched_at"] + timedelta(hours=2)
    df["on_time"] = df["resolved_at"] <= df["deadline_at"]
    df["satisfied"] = (df["satisfaction"] >= 4).where(df["satisfaction"].notna())
    by = df.groupby("department")[["accepted_2h", "on_time", "satisfied"]].mean()
    slow, unhappy = by.loc["区住建局"], by.loc["热力公司"]
    good = by.drop(["区住建局", "热力公司"])
    assert slow["accepted_2h"] < 0.4
    assert 0.5 < slow["on_time"] < 0.75
    assert (good["accepted_2h"] > 0.7).all()
    assert (good["on_time"] > 0.85).all()
    assert unhappy["satisfied"] < 0.87
    assert (good["satisfied"] > unhappy["satisfied"] + 0.04).all()


def test_escalated_cases_wait_longer_for_dispatch(demo_store: Store) -> None:
    df = demo_store.query(
        "SELECT handled_level, avg(epoch(dispatched_at - reported_at)) / 3600 AS hours FROM cases "
        "WHERE dispatched_at IS NOT NULL GROUP BY 1"
    ).set_index("handled_level")["hours"]
    assert df[1] < df[2] < df[3]


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
