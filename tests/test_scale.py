"""Scale without timing: aggregates equal the naive computation, map payloads stay bounded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gridpulse import config, demo, views
from gridpulse.benchmarks import pages as bench
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests.fixtures import AS_OF, MARCH

STREET = Scope.street()
MAP_BOUND_BYTES = 1_000_000


def naive_components(cases: pd.DataFrame, start, end, stamp) -> dict[str, float]:
    """The same figures computed row by row in pandas from every case."""
    deadline = cases["deadline_at"].fillna(cases["reported_at"] + pd.Timedelta(hours=config.DEFAULT_DEADLINE_HOURS))
    rep = cases["reported_at"].between(start, end, inclusive="left")
    res = cases["resolved_at"].between(start, end, inclusive="left")
    due = deadline.ge(start) & deadline.lt(stamp)
    rated = cases["rated_at"].between(start, end, inclusive="left") & cases["satisfaction"].notna()
    open_at = cases["reported_at"].lt(stamp) & (cases["resolved_at"].isna() | cases["resolved_at"].ge(stamp))
    return {
        "cases": rep.sum(),
        "resolved": res.sum(),
        "on_time": (res & cases["resolved_at"].le(deadline)).sum(),
        "level1": (res & cases["handled_level"].eq(1)).sum(),
        "due": due.sum(),
        "due_resolved": (due & cases["resolved_at"].notna() & cases["resolved_at"].lt(stamp)).sum(),
        "rated": rated.sum(),
        "satisfied": (rated & cases["satisfaction"].ge(config.SATISFIED_MIN_STARS)).sum(),
        "reopened": (res & cases["reopened"].fillna(False).astype(bool)).sum(),
        "backlog": open_at.sum(),
        "overdue": (open_at & deadline.lt(stamp)).sum(),
        "unassigned": (rep & cases["grid_code"].isna()).sum(),
    }


@pytest.fixture(scope="module")
def street_200k(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("scale") / "s200k.duckdb"
    demo.generate(path, 200_000, 9)
    return Store(path)


def test_aggregates_equal_naive_computation_on_the_fixture(store: Store) -> None:
    cases = store.query("SELECT * FROM cases")
    comp = store.case_components(STREET, MARCH, AS_OF).iloc[0]
    naive = naive_components(cases, MARCH.start_ts, MARCH.end_ts, min(MARCH.end_ts, AS_OF))
    assert {k: int(comp[k]) for k in naive} == {k: int(v) for k, v in naive.items()}


def test_aggregates_equal_naive_computation_per_grid(street_200k: Store) -> None:
    f = bench._period(street_200k)
    as_of = street_200k.as_of()
    cases = street_200k.query("SELECT * FROM cases")
    stamp = min(f.end_ts, as_of)
    per_grid = street_200k.case_components(STREET, f, as_of, by="grid_code").set_index("key")
    for code in list(per_grid.index.dropna())[:5]:
        naive = naive_components(cases[cases["grid_code"] == code], f.start_ts, f.end_ts, stamp)
        assert {k: int(per_grid.loc[code, k]) for k in naive} == {k: int(v) for k, v in naive.items()}
    whole = street_200k.case_components(STREET, f, as_of).iloc[0]
    naive = naive_components(cases, f.start_ts, f.end_ts, stamp)
    assert {k: int(whole[k]) for k in naive} == {k: int(v) for k, v in naive.items()}
    heat = views.heat_cells(street_200k, STREET, f)
    assert (
        heat["weight"].sum()
        == naive["cases"]
        - cases[cases["reported_at"].between(f.start_ts, f.end_ts, inclusive="left") & cases["lat"].isna()].shape[0]
    )


def test_every_map_stays_under_1mb_at_200k_cases(street_200k: Store) -> None:
    f = bench._period(street_200k)
    work = bench.page_work(street_200k, f)
    for page in ("heatmap", "service_matrix", "resolution"):
        html = work[page]()
        assert len(html.encode()) < MAP_BOUND_BYTES, page
    cells = views.heat_cells(street_200k, STREET, f)
    assert len(cells) < 20_000  # bounded by the street's area, not by the cases


def test_bench_table_prints_ratios() -> None:
    rows = [{"cases": 20_000, "generate_s": 1.0, "overview_warm_s": 0.1, "naive_overview_s": 1.0,
             "join_identical": True}, {"cases": 200_000, "generate_s": 4.0, "overview_warm_s": 0.2,
             "naive_overview_s": 4.0, "join_identical": True}]  # fmt: skip
    text = bench.table(rows)
    assert "4.000s (×4.00 vs 20k)" in text
    assert "0.200s (×2.00 vs 20k; ×0.050 vs naive)" in text


def test_bench_one_size_end_to_end(tmp_path: Path) -> None:
    out = bench.measure_one(5_000, tmp_path)
    assert out["join_identical"]
    assert out["heatmap_map_bytes"] < MAP_BOUND_BYTES
    assert all(out[f"{p}_warm_s"] > 0 for p in ("overview", "heatmap", "service_matrix", "resolution"))
