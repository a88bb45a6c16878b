"""The one module that talks to DuckDB: connection, schema, writes and every query.

Pages never import duckdb. Every value from outside reaches SQL as a bound parameter.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from gridpulse import config
from gridpulse.filters import Filters, case_conditions, grid_conditions

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);
CREATE TABLE IF NOT EXISTS grids (
    grid_code VARCHAR PRIMARY KEY,     -- 15 digits: district(6) street(3) community(3) grid(3)
    grid_name VARCHAR NOT NULL,
    community VARCHAR NOT NULL,
    households INTEGER,
    grid_head VARCHAR,
    geometry BLOB NOT NULL             -- WKB polygon or multipolygon, WGS-84 lon/lat
);
CREATE TABLE IF NOT EXISTS cases (
    case_id VARCHAR PRIMARY KEY,
    source VARCHAR,
    category VARCHAR,
    description VARCHAR,
    lon DOUBLE,
    lat DOUBLE,
    grid_code VARCHAR,                 -- NULL: in no grid ("unassigned")
    reported_at TIMESTAMP NOT NULL,
    dispatched_at TIMESTAMP,
    accepted_at TIMESTAMP,
    resolved_at TIMESTAMP,
    rated_at TIMESTAMP,
    deadline_at TIMESTAMP,
    status VARCHAR,                    -- reported|dispatched|accepted|resolved|rated
    handled_level TINYINT,             -- 1 grid, 2 community, 3 departments
    department VARCHAR,
    satisfaction TINYINT,              -- 1..5 stars, NULL when not rated
    reopened BOOLEAN DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS resources (
    resource_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    level TINYINT,                     -- 1..4 four-level service matrix; NULL for other kinds
    lon DOUBLE,
    lat DOUBLE,
    grid_code VARCHAR
);
"""

CASE_COLUMNS = [
    "case_id", "source", "category", "description", "lon", "lat", "grid_code",
    "reported_at", "dispatched_at", "accepted_at", "resolved_at", "rated_at", "deadline_at",
    "status", "handled_level", "department", "satisfaction", "reopened",
]  # fmt: skip
GRID_COLUMNS = ["grid_code", "grid_name", "community", "households", "grid_head", "geometry"]
RESOURCE_COLUMNS = ["resource_id", "name", "kind", "level", "lon", "lat", "grid_code"]


def write_street(
    path: Path,
    grids: pd.DataFrame,
    cases: pd.DataFrame,
    resources: pd.DataFrame,
    meta: Mapping[str, str],
) -> None:
    """Write a whole street into a new database file, atomically.

    The file is built beside its target and renamed at the end, so a failure leaves
    no half-written database behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(SCHEMA)
        for table, frame, cols in (
            ("grids", grids, GRID_COLUMNS),
            ("cases", cases, CASE_COLUMNS),
            ("resources", resources, RESOURCE_COLUMNS),
        ):
            con.register("incoming", frame[cols])
            con.execute(f"INSERT INTO {table} SELECT * FROM incoming")
            con.unregister("incoming")
        con.executemany("INSERT INTO meta VALUES (?, ?)", [[k, str(v)] for k, v in meta.items()])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)


class Store:
    """Read access to one GridPulse database. Thread-safe: each query takes its own cursor."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(self.path)
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._con.close()

    def _df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        with self._lock:
            cur = self._con.cursor()
        try:
            return cur.execute(sql, dict(params or {})).df()
        finally:
            cur.close()

    # ---- reference data -------------------------------------------------

    def meta(self) -> dict[str, str]:
        rows = self._df("SELECT key, value FROM meta")
        return dict(zip(rows["key"], rows["value"], strict=True))

    def as_of(self) -> datetime:
        """The moment figures are taken at: the demo's fixed 'now', else the clock."""
        value = self.meta().get("as_of")
        return datetime.fromisoformat(value) if value else datetime.now().replace(microsecond=0)

    def grids(self, f: Filters | None = None) -> pd.DataFrame:
        """Grid attributes (no geometry), ordered by code."""
        conds, params = grid_conditions(f) if f else ([], {})
        where = f"WHERE {' AND '.join(conds)}" if conds else ""
        return self._df(
            f"SELECT grid_code, grid_name, community, households, grid_head FROM grids g {where} ORDER BY grid_code",
            params,
        )

    def grid_shapes(self, f: Filters | None = None) -> pd.DataFrame:
        """Grid attributes with WKB geometry, ordered by code."""
        conds, params = grid_conditions(f) if f else ([], {})
        where = f"WHERE {' AND '.join(conds)}" if conds else ""
        return self._df(
            f"SELECT grid_code, grid_name, community, households, grid_head, geometry "
            f"FROM grids g {where} ORDER BY grid_code",
            params,
        )

    def communities(self) -> list[str]:
        return self._df("SELECT DISTINCT community FROM grids ORDER BY community")["community"].tolist()

    def distinct_values(self, column: str) -> list[str]:
        """Distinct non-null values of a case column offered in filters."""
        if column not in ("category", "source", "department"):
            raise ValueError(column)
        sql = f"SELECT DISTINCT {column} AS v FROM cases WHERE {column} IS NOT NULL ORDER BY v"
        return self._df(sql)["v"].tolist()

    def reported_range(self) -> tuple[datetime, datetime] | None:
        row = self._df("SELECT min(reported_at) AS lo, max(reported_at) AS hi FROM cases")
        if row.empty or pd.isna(row.at[0, "lo"]):
            return None
        return row.at[0, "lo"].to_pydatetime(), row.at[0, "hi"].to_pydatetime()

    # ---- case figures ---------------------------------------------------

    def case_components(self, f: Filters, as_of: datetime, by: str | None = None) -> pd.DataFrame:
        """The counts every rate is built from, for the whole selection or per ``by``.

        ``by`` is None, ``"grid_code"`` or ``"category"``. Each count says which event
        falls in the period: reported (cases), resolved (resolved, on_time, level1-3,
        reopened, median_hours), deadline (due, due_resolved) or rated (rated,
        satisfied). A missing deadline is ``DEFAULT_DEADLINE_HOURS`` after reporting.
        Backlog and overdue are taken at the period's end or ``as_of``, whichever is
        earlier.
        """
        if by not in (None, "grid_code", "category"):
            raise ValueError(by)
        conds, params = case_conditions(f)
        stamp = min(f.end_ts, as_of)
        params |= {
            "start": f.start_ts,
            "end": f.end_ts,
            "stamp": stamp,
            "sat": config.SATISFIED_MIN_STARS,
            "default_deadline_h": config.DEFAULT_DEADLINE_HOURS,
        }
        # A case imported without a deadline gets the platform's default one.
        deadline = "coalesce(deadline_at, reported_at + to_hours($default_deadline_h))"
        rep = "reported_at >= $start AND reported_at < $end"
        res = "resolved_at >= $start AND resolved_at < $end"
        due = f"{deadline} >= $start AND {deadline} < $stamp"
        rat = "rated_at >= $start AND rated_at < $end AND satisfaction IS NOT NULL"
        open_at = "reported_at < $stamp AND (resolved_at IS NULL OR resolved_at >= $stamp)"
        key = f"c.{by} AS key," if by else ""
        group = "GROUP BY ALL ORDER BY key" if by else ""
        where = f"WHERE {' AND '.join(conds)}" if conds else ""
        sql = f"""
            SELECT {key}
              count(*) FILTER ({rep}) AS cases,
              count(*) FILTER ({res}) AS resolved,
              count(*) FILTER ({res} AND resolved_at <= {deadline}) AS on_time,
              count(*) FILTER ({res} AND handled_level = 1) AS level1,
              count(*) FILTER ({res} AND handled_level = 2) AS level2,
              count(*) FILTER ({res} AND handled_level = 3) AS level3,
              count(*) FILTER ({res} AND reopened) AS reopened,
              median(epoch(resolved_at - reported_at) / 3600.0) FILTER ({res}) AS median_hours,
              count(*) FILTER ({due}) AS due,
              count(*) FILTER ({due} AND resolved_at IS NOT NULL AND resolved_at < $stamp)
                  AS due_resolved,
              count(*) FILTER ({rat}) AS rated,
              count(*) FILTER ({rat} AND satisfaction >= $sat) AS satisfied,
              count(*) FILTER ({open_at}) AS backlog,
              count(*) FILTER ({open_at} AND {deadline} < $stamp) AS overdue,
              count(*) FILTER ({rep} AND c.grid_code IS NULL) AS unassigned
            FROM cases c {where} {group}
        """
        return self._df(sql, params)

    def monthly_counts(self, f: Filters) -> pd.DataFrame:
        """Cases reported and resolved per calendar month of the period."""
        conds, params = case_conditions(f)
        params |= {"start": f.start_ts, "end": f.end_ts}
        extra = "".join(f" AND {c}" for c in conds)
        sql = f"""
            WITH rep AS (
                SELECT date_trunc('month', reported_at) AS month, count(*) AS reported
                FROM cases c WHERE reported_at >= $start AND reported_at < $end {extra}
                GROUP BY 1),
            res AS (
                SELECT date_trunc('month', resolved_at) AS month, count(*) AS resolved
                FROM cases c WHERE resolved_at >= $start AND resolved_at < $end {extra}
                GROUP BY 1)
            SELECT coalesce(rep.month, res.month) AS month,
                   coalesce(reported, 0) AS reported, coalesce(resolved, 0) AS resolved
            FROM rep FULL OUTER JOIN res ON rep.month = res.month
            ORDER BY month
        """
        return self._df(sql, params)

    def category_counts(self, f: Filters, limit: int = 10) -> pd.DataFrame:
        """The most frequent categories among cases reported in the period."""
        conds, params = case_conditions(f)
        params |= {"start": f.start_ts, "end": f.end_ts, "limit": limit}
        extra = "".join(f" AND {c}" for c in conds)
        sql = f"""
            SELECT coalesce(category, '未分类') AS category, count(*) AS cases
            FROM cases c WHERE reported_at >= $start AND reported_at < $end {extra}
            GROUP BY 1 ORDER BY cases DESC, category LIMIT $limit
        """
        return self._df(sql, params)

    def heat_cells(self, f: Filters) -> pd.DataFrame:
        """Cases reported in the period binned into ~33 m cells: lat, lon, weight.

        The heat layer gets these cells, never raw points, so its size is bounded by
        the street's area, not by the number of cases.
        """
        conds, params = case_conditions(f)
        rng = self._df("SELECT avg(lat) AS lat FROM cases")
        lat0 = float(rng.at[0, "lat"]) if not pd.isna(rng.at[0, "lat"]) else 0.0
        params |= {
            "start": f.start_ts,
            "end": f.end_ts,
            "dlat": config.HEAT_CELL_DEG,
            "dlon": config.HEAT_CELL_DEG / max(math.cos(math.radians(lat0)), 0.1),
        }
        extra = "".join(f" AND {c}" for c in conds)
        sql = f"""
            SELECT (floor(lat / $dlat) + 0.5) * $dlat AS lat,
                   (floor(lon / $dlon) + 0.5) * $dlon AS lon,
                   count(*) AS weight
            FROM cases c
            WHERE reported_at >= $start AND reported_at < $end
              AND lat IS NOT NULL AND lon IS NOT NULL {extra}
            GROUP BY ALL ORDER BY weight DESC
        """
        return self._df(sql, params)

    def case_list(self, f: Filters, grid_code: str, limit: int = config.MAX_TABLE_ROWS) -> pd.DataFrame:
        """One grid's cases reported in the period, newest first, at most ``limit`` rows."""
        conds, params = case_conditions(f)
        params |= {"start": f.start_ts, "end": f.end_ts, "grid": grid_code, "limit": limit}
        extra = "".join(f" AND {c}" for c in conds)
        sql = f"""
            SELECT case_id, reported_at, source, category, description, status,
                   handled_level, department, deadline_at, resolved_at, satisfaction, reopened
            FROM cases c
            WHERE reported_at >= $start AND reported_at < $end AND c.grid_code = $grid {extra}
            ORDER BY reported_at DESC, case_id LIMIT $limit
        """
        return self._df(sql, params)

    # ---- resources -------------------------------------------------------

    def resources(self, f: Filters | None = None) -> pd.DataFrame:
        """Service points and teams in the filtered grids (all when no area filter)."""
        conds, params = grid_conditions(f) if f else ([], {})
        where = ""
        if conds:
            where = f"WHERE r.grid_code IN (SELECT grid_code FROM grids g WHERE {' AND '.join(conds)})"
        return self._df(
            f"SELECT resource_id, name, kind, level, lon, lat, grid_code FROM resources r {where} ORDER BY resource_id",
            params,
        )
