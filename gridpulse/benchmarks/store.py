"""``python -m gridpulse bench-store --pg URL``: where the shared store's figures should be computed, measured.

For a demo street of each size, copied into the PostgreSQL database at ``URL`` (replaced: give a
scratch database), it prints:

- the time a server process needs to read its DuckDB copy of the street from PostgreSQL
  (``PgStore.sync``, once per process start; later imports bring only their rows);
- one page's main figure, the per-grid rates of a year (counts by event in the period, on-time,
  median hours, satisfied: the core of ``case_components``), warm, median of 5 runs, computed
  on that DuckDB copy and computed by PostgreSQL itself from the same rows with the same
  definitions written in its dialect, and the ratio;
- each page's data work on the shared store, as a served page does it (the functions of
  ``benchmarks/pages.py``: views and map HTML, through the copy, with the version check each
  query makes against PostgreSQL), warm (median of 5 runs, no cache of the dashboard's).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from gridpulse import config, demo
from gridpulse.benchmarks import pages
from gridpulse.store import Store, postgres

RUNS = 5

_COMMON = """
    count(*) FILTER (WHERE reported_at >= {start} AND reported_at < {end}) AS cases,
    count(*) FILTER (WHERE resolved_at >= {start} AND resolved_at < {end}) AS resolved,
    count(*) FILTER (WHERE resolved_at >= {start} AND resolved_at < {end}
                     AND resolved_at <= coalesce(deadline_at, reported_at + {deadline})) AS on_time,
    {median} AS median_hours,
    count(*) FILTER (WHERE rated_at >= {start} AND rated_at < {end} AND satisfaction >= 4) AS satisfied
"""
DUCKDB_SQL = "SELECT grid_code, " + _COMMON.format(
    start="$start", end="$end", deadline="INTERVAL 72 HOUR",
    median="median(epoch(resolved_at - reported_at) / 3600.0) FILTER (WHERE resolved_at >= $start "
           "AND resolved_at < $end)",
) + " FROM cases WHERE reported_at < $end GROUP BY grid_code ORDER BY grid_code"  # fmt: skip
POSTGRES_SQL = "SELECT grid_code, " + _COMMON.format(
    start="%(start)s", end="%(end)s", deadline="INTERVAL '72 hours'",
    median="percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - reported_at) / 3600.0) "
           "FILTER (WHERE resolved_at >= %(start)s AND resolved_at < %(end)s)",
) + " FROM cases WHERE reported_at < %(end)s GROUP BY grid_code ORDER BY grid_code"  # fmt: skip


def _none(value: Any) -> bool:
    return value is None or value != value  # NULL from PostgreSQL, NaN from a DataFrame


def _median_time(fn: Any) -> tuple[float, Any]:
    fn()  # warm
    times, out = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def measure(url: str, cases: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gridpulse-bench-store-") as tmp:
        db = Path(tmp) / "street.duckdb"
        demo.generate(db, cases, config.DEMO_SEED)
        source = Store(db, write=False)
        postgres.copy_street(source, url, replace=True)
        source.close()
    store = postgres.PgStore(url)
    try:
        started = time.perf_counter()
        store.sync()
        copy_s = time.perf_counter() - started
        hi = store.query("SELECT max(reported_at) AS hi FROM cases")["hi"][0].to_pydatetime()
        params = {"start": hi - timedelta(days=365), "end": hi}
        duck_s, duck = _median_time(lambda: store.query(DUCKDB_SQL, params))

        def in_postgres() -> list[tuple[Any, ...]]:
            with store._pg() as conn:
                return conn.execute(POSTGRES_SQL, params).fetchall()

        pg_s, pg_rows = _median_time(in_postgres)
        work = pages.page_work(store, pages._period(store))
        page_s = {page: _median_time(fn)[0] for page, fn in work.items()}
    finally:
        store.close()
    mine = [
        (None if _none(r.grid_code) else r.grid_code, int(r.cases), int(r.resolved), int(r.on_time),
         int(r.satisfied), r.median_hours)
        for r in duck.itertuples(index=False)
    ]  # fmt: skip
    theirs = [(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[5]), r[4]) for r in pg_rows]
    same = len(mine) == len(theirs) and all(
        a[:5] == b[:5] and ((_none(a[5]) and _none(b[5])) or abs(a[5] - b[5]) < 1e-6)
        for a, b in zip(mine, theirs, strict=True)
    )
    return {"cases": cases, "copy_s": copy_s, "duckdb_s": duck_s, "postgres_s": pg_s, "same": same, "pages": page_s}


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'cases':>9} {'copy at start s':>15} {'grid rates on the copy s':>24} {'in PostgreSQL s':>15} "
             f"{'PostgreSQL ÷ copy':>17} {'same counts':>11}"]  # fmt: skip
    for r in rows:
        lines.append(f"{r['cases']:>9,} {r['copy_s']:>15.2f} {r['duckdb_s']:>24.3f} {r['postgres_s']:>15.3f} "
                     f"{r['postgres_s'] / r['duckdb_s']:>17.1f} {'yes' if r['same'] else 'NO':>11}")  # fmt: skip
    names = list(rows[0]["pages"]) if rows else []
    lines += ["", "each page's data work on the shared store, warm (s)",
              f"{'cases':>9} " + " ".join(f"{n:>14}" for n in names)]  # fmt: skip
    lines += [f"{r['cases']:>9,} " + " ".join(f"{r['pages'][n]:>14.3f}" for n in names) for r in rows]
    return "\n".join(lines)
