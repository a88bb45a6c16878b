"""研判预警 on the demo street: the planted events (gridpulse/demo_events.py) are found; page, CLI and scope agree."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridpulse import __main__ as cli
from gridpulse import alerts, analysis_views, config, demo, demo_events
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import Store

STREET = Scope.street()


@pytest.fixture(scope="module")
def demo_street(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("analysis") / "demo.duckdb"
    demo.generate(path, config.DEMO_CASES, config.DEMO_SEED, planted=True)
    return path


@pytest.fixture(scope="module")
def store(demo_street: Path) -> Iterator[Store]:
    opened = Store(demo_street)
    yield opened
    opened.close()


def test_the_planted_surge_is_alerted_since_two_weeks(store: Store) -> None:
    codes = demo_events.planted_codes(store.grids(STREET))
    found = analysis_views.alert_list(store, STREET, store.as_of())
    row = found[(found["grid_code"] == codes["surge"]) & (found["category"] == demo_events.SURGE_CATEGORY)]
    assert len(row) == 1
    assert row.iloc[0]["observed"] >= demo_events.SURGE_PER_WEEK
    assert row.iloc[0]["weeks"] == 2
    assert row.iloc[0]["method"] == "seasonal"  # the demo street has 20 months of history


def test_heating_in_november_is_normal_not_an_alert(store: Store) -> None:
    as_of = store.as_of()
    weeks = analysis_views.history_weeks(store, as_of)
    grids, categories = store.grids(STREET), store.distinct_values(STREET, "category")
    counts = alerts.dense(store.weekly_counts(STREET, as_of, weeks), list(grids["grid_code"]), categories, weeks)
    heating = categories.index("供暖问题")
    flagged = alerts.alerted(counts, alerts.expected(counts))[:, heating, 0].sum()
    naive = alerts.naive(counts)[:, heating].sum()
    assert flagged <= 1 < naive  # the naive rule mistakes the season for an outbreak


def test_the_planted_repeated_place_is_found_and_sent_up(store: Store) -> None:
    codes = demo_events.planted_codes(store.grids(STREET))
    places = analysis_views.repeat_places(store, STREET, Filters(date(2026, 8, 1), date(2026, 11, 20)))
    mine = places[(places["grid_code"] == codes["repeat"]) & (places["category"] == demo_events.REPEAT_CATEGORY)]
    assert mine["cases"].max() >= demo_events.REPEAT_CASES
    best = mine.sort_values("cases").iloc[-1]
    assert best["suggest_department"]
    assert best["reopened"] >= 2
    assert "*" in best["place"] or "号楼" not in best["place"]  # the leader sees addresses masked


def test_the_growing_hot_spot_emerges(store: Store) -> None:
    codes = demo_events.planted_codes(store.grids(STREET))
    f = Filters(date(2026, 8, 1), date(2026, 10, 31), categories=(demo_events.HOT_CATEGORY,))
    hot = analysis_views.grid_hotspots(store, STREET, f)
    assert hot.loc[hot["grid_code"] == codes["hot"], "confidence"].iloc[0] >= 95
    emerging = analysis_views.emerging_hotspots(
        store, STREET, Filters(date(2025, 11, 1), date(2026, 11, 20), categories=(demo_events.HOT_CATEGORY,))
    )
    pattern = emerging.loc[emerging["grid_code"] == codes["hot"], "pattern"].iloc[0]
    assert pattern in {"new_hot", "consecutive_hot", "intensifying_hot", "sporadic_hot", "persistent_hot"}


def test_a_grid_head_sees_the_streets_alerts_for_their_grids_only(store: Store) -> None:
    street = analysis_views.alert_list(store, STREET, store.as_of())
    grids = tuple(sorted(store.grids(STREET)["grid_code"])[:2])
    head = analysis_views.alert_list(store, Scope("grid_head", grids=grids), store.as_of())
    assert set(head["grid_code"]) <= set(grids)
    assert head.equals(street[street["grid_code"].isin(grids)].reset_index(drop=True))
    assert len(head) >= 1  # the demo grid head has the surge


def test_the_cli_prints_the_pages_alerts(demo_street: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["alerts", "--db", str(demo_street), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    opened = Store(demo_street)
    try:
        page = analysis_views.alert_list(opened, STREET, opened.as_of())
    finally:
        opened.close()
    assert [(a["grid_code"], a["category"], a["observed"]) for a in printed] == list(
        zip(page["grid_code"], page["category"], page["observed"], strict=True)
    )
    assert all(np.isclose(a["expected"], e) for a, e in zip(printed, page["expected"], strict=True))
    assert cli.main(["alerts", "--db", str(demo_street), "--user", "gridhead", "--as-of", "2026-11-20 10:00"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert {a["grid_code"] for a in mine} <= set(sorted(page["grid_code"].unique()))
    assert cli.main(["repeats", "--db", str(demo_street), "--period", "2026-08..2026-11", "--format", "json"]) == 0
    assert any(p["cases"] >= demo_events.REPEAT_CASES for p in json.loads(capsys.readouterr().out))
    assert cli.main(["hotspots", "--db", str(demo_street), "--period", "2026-08..2026-10", "--format", "geojson"]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "FeatureCollection"
    assert cli.main(["hotspots", "--db", str(demo_street), "--period", "2026-08..2026-10"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert np.allclose(table["p"] * 1000, (table["p"] * 1000).round())  # p of 999 permutations: 3 decimals


@pytest.fixture
def demo_env(demo_street: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDPULSE_DB", str(demo_street))
    return demo_street


def _grid_name(store: Store, code: str) -> str:
    grids = store.grids(STREET)
    return grids.loc[grids["grid_code"] == code, "grid_name"].iloc[0]


def test_the_page_shows_the_planted_events_to_the_leader(demo_env: Path, store: Store) -> None:
    from tests import apps

    codes = demo_events.planted_codes(store.grids(STREET))
    at = apps.app("leader")
    at.switch_page("app_pages/page_analysis.py").run()
    assert not at.exception
    texts = [x.value for x in at.text]
    surge = _grid_name(store, codes["surge"])
    assert any(surge in x and demo_events.SURGE_CATEGORY in x for x in texts)
    alerts_shown = at.dataframe[0].value
    assert (alerts_shown["网格"] == surge).any()
    assert not [h for h in at.subheader if h.value == "显著的热点与冷点"]  # other sections run only when chosen

    at.date_input(key="flt_period").set_value((date(2026, 8, 1), date(2026, 11, 20))).run()
    at.segmented_control(key="ana_section").set_value("repeats").run()
    assert not at.exception
    repeats_shown = next(d.value for d in at.dataframe if "归并方式" in d.value.columns)
    planted = repeats_shown[
        (repeats_shown["网格名称"] == _grid_name(store, codes["repeat"]))
        & (repeats_shown["诉求类别"] == demo_events.REPEAT_CATEGORY)
    ]
    assert (planted["件数"] >= demo_events.REPEAT_CASES).any()
    assert planted["建议"].str.contains("三级").any()
    assert not repeats_shown["地点"].str.contains(r"\d号楼", regex=True).any()  # house numbers masked for a leader

    shown_repeats = [x.value for x in at.text if x.value.startswith("共 ")]
    assert shown_repeats
    assert "建议提交部门联动" in shown_repeats[0]

    at.segmented_control(key="ana_section").set_value("emerging").run()  # all categories: each tested alone too
    assert not at.exception
    each = next(d.value for d in at.dataframe if "网格（按模式）" in d.value.columns)
    growing = each.loc[each["诉求类别"] == demo_events.HOT_CATEGORY, "网格（按模式）"].iloc[0]
    assert _grid_name(store, codes["hot"]) in growing

    at.multiselect(key="flt_category").set_value([demo_events.HOT_CATEGORY]).run()
    at.segmented_control(key="ana_section").set_value("hotspots").run()
    assert not at.exception
    hot_shown = at.dataframe[0].value
    assert _grid_name(store, codes["hot"]) in set(hot_shown["网格名称"])
    at.segmented_control(key="ana_section").set_value("emerging").run()
    assert not at.exception
    assert _grid_name(store, codes["hot"]) in set(at.dataframe[0].value["网格名称"])


def test_a_grid_head_gets_their_alerts_on_the_first_screen(demo_env: Path, store: Store) -> None:
    from tests import apps

    codes = demo_events.planted_codes(store.grids(STREET))
    at = apps.app("gridhead")
    assert not at.exception
    assert any("我的网格" in s.value for s in at.subheader)
    texts = [x.value for x in at.text]
    assert any(_grid_name(store, codes["surge"]) in x for x in texts)
    others = set(store.grids(STREET)["grid_name"]) - set(
        store.grids(Scope("grid_head", grids=tuple(sorted(store.grids(STREET)["grid_code"])[:2])))["grid_name"]
    )
    assert not any(name in x for x in texts for name in others)
