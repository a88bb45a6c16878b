"""``python -m gridpulse bench-load`` works (correctness only: the figures are the benchmark's to print)."""

from __future__ import annotations

import math
from pathlib import Path

from gridpulse.benchmarks import load
from gridpulse.store import Store, open_store, postgres
from tests import pgkit


def _check(row: dict[str, object]) -> None:
    assert row["errors"] == 0, row["first_error"]
    assert row["clicks"] >= 2
    assert not math.isnan(row["login_p95"])
    assert row["import_rc"] == 0
    assert row["rss_mb"] > 0
    assert not math.isnan(row["first_login"])  # each role logged in once before the load


def test_clients_log_in_click_and_import_through_the_protocol(tmp_path: Path) -> None:
    db = tmp_path / "street.duckdb"
    load.street(db, 3000)
    csv = load._import_file(db, 200, tmp_path, "t")
    row = load.measure(load.Setup("single", db, 1, tmp_path), 2, 6, csv)
    _check(row)
    store = Store(db, write=False)
    assert store.query("SELECT count(*) AS n FROM cases WHERE case_id LIKE 'LOADt-%'")["n"][0] == 200
    store.close()
    assert "1×DuckDB" in load.table([row])


def test_two_processes_on_postgresql_serve_clients_while_an_import_runs(tmp_path: Path) -> None:
    db = tmp_path / "street.duckdb"
    load.street(db, 3000)
    url = pgkit.fresh_url()
    try:
        source = Store(db, write=False)
        postgres.copy_street(source, url)
        source.close()
        csv = load._import_file(db, 200, tmp_path, "p")
        row = load.measure(load.Setup("shared", url, 2, tmp_path), 4, 6, csv)
        _check(row)
        store = open_store(url)
        assert store.query("SELECT count(*) AS n FROM cases WHERE case_id LIKE 'LOADp-%'")["n"][0] == 200
        store.close()
        assert "2×PG" in load.table([row])
    finally:
        pgkit.drop(url)
