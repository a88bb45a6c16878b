"""``python -m gridpulse bench-load`` works (correctness only: the figures are the benchmark's to print)."""

from __future__ import annotations

import math
from pathlib import Path

from gridpulse.benchmarks import load


def test_clients_log_in_click_and_import_through_the_protocol(tmp_path: Path) -> None:
    db = tmp_path / "street.duckdb"
    load.street(db, 3000)
    csv = load._import_file(db, 200, tmp_path, "t")
    row = load.measure(db, 2, 6, csv)
    assert row["errors"] == 0, row["first_error"]
    assert row["clicks"] >= 2
    assert not math.isnan(row["login_p95"])
    assert row["import_rc"] == 0
    assert row["rss_mb"] > 0
    from gridpulse.store import Store

    store = Store(db, write=False)
    assert store.query("SELECT count(*) AS n FROM cases WHERE case_id LIKE 'LOADt-%'")["n"][0] == 200
    store.close()
    assert "sessions" in load.table([row])
