"""The one module that talks to DuckDB: connection, schema, writes and every query.

Pages never import duckdb. Every value from outside reaches SQL as a bound parameter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from gridpulse import clock, config, privacy
from gridpulse.filters import Filters, case_conditions, grid_conditions
from gridpulse.scope import Scope, scope_case_conditions, scope_grid_conditions
from gridpulse.strings import t

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
    reopened BOOLEAN DEFAULT FALSE,
    reporter_name VARCHAR,             -- personal data: masked for roles that do not need it
    reporter_phone VARCHAR,
    address VARCHAR,
    placement VARCHAR                  -- how grid_code was found: point | name (no coordinates) | NULL
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
CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY,
    display_name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    communities VARCHAR[] DEFAULT [],
    grids VARCHAR[] DEFAULT [],
    department VARCHAR,
    password_hash VARCHAR NOT NULL,    -- argon2id
    disabled BOOLEAN DEFAULT FALSE,
    demo BOOLEAN DEFAULT FALSE,        -- demo users log in only while the database is the demo street
    failed_count INTEGER DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS audit (
    ts TIMESTAMP NOT NULL,
    username VARCHAR,
    action VARCHAR NOT NULL,           -- login, login_failed, login_locked, logout, export, import, user_*
    scope VARCHAR,
    detail VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS import_ids START 1;
CREATE TABLE IF NOT EXISTS imports (
    import_id BIGINT PRIMARY KEY,
    ts TIMESTAMP NOT NULL,
    username VARCHAR,
    kind VARCHAR NOT NULL,             -- cases | resources | grids
    file_name VARCHAR NOT NULL,
    format VARCHAR,
    encoding VARCHAR,
    rows_read BIGINT,
    inserted BIGINT,
    updated BIGINT,
    unchanged BIGINT,
    rejected BIGINT,
    warnings VARCHAR                   -- JSON: warning text -> rows
);
CREATE TABLE IF NOT EXISTS import_rejects (
    import_id BIGINT NOT NULL,
    file_name VARCHAR NOT NULL,
    row_number BIGINT,                 -- as in a spreadsheet: the header is row 1
    raw VARCHAR,                       -- the row as read, JSON
    reasons VARCHAR NOT NULL
);
"""

# Log-in sessions, one-time tickets and failed log-ins: in the database file, or, where the file
# cannot be written (read-only, a full disk), in memory for this process, so log-in still works.
AUTH_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    sid_hash VARCHAR PRIMARY KEY,      -- sha256 of the session id in the signed cookie
    username VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    user_agent VARCHAR
);
CREATE TABLE IF NOT EXISTS login_tickets (
    ticket_hash VARCHAR PRIMARY KEY,   -- one-time, exchanged for the session cookie within a minute
    username VARCHAR NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key VARCHAR PRIMARY KEY,           -- account:<name> | client:<address> | pair:<address>|<name>
    failures INTEGER NOT NULL,
    last_at TIMESTAMP NOT NULL
);
"""
SCHEMA += AUTH_SCHEMA

CASE_COLUMNS = [
    "case_id", "source", "category", "description", "lon", "lat", "grid_code",
    "reported_at", "dispatched_at", "accepted_at", "resolved_at", "rated_at", "deadline_at",
    "status", "handled_level", "department", "satisfaction", "reopened",
    "reporter_name", "reporter_phone", "address",
]  # fmt: skip
GRID_COLUMNS = ["grid_code", "grid_name", "community", "households", "grid_head", "geometry"]
RESOURCE_COLUMNS = ["resource_id", "name", "kind", "level", "lon", "lat", "grid_code"]


def write_street(
    path: Path,
    grids: pd.DataFrame,
    cases: pd.DataFrame,
    resources: pd.DataFrame,
    meta: Mapping[str, str],
    users: list[dict[str, Any]] | None = None,
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
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.executemany("INSERT INTO meta VALUES (?, ?)", [[k, str(v)] for k, v in meta.items()])
        for user in users or ():
            con.execute(_USER_INSERT, {"created_at": clock.now(), **user})
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)


def create_empty(path: Path, street_name: str) -> None:
    """A new database for a real street: the schema and its name, no data yet."""
    empty = {
        "grids": pd.DataFrame(columns=GRID_COLUMNS),
        "cases": pd.DataFrame(columns=CASE_COLUMNS),
        "resources": pd.DataFrame(columns=RESOURCE_COLUMNS),
    }
    write_street(
        path, empty["grids"], empty["cases"], empty["resources"], {"street_name": street_name, "source": "import"}
    )


_USER_INSERT = """
    INSERT INTO users (username, display_name, role, communities, grids, department, password_hash, demo, created_at)
    VALUES ($username, $display_name, $role, $communities, $grids, $department, $password_hash, $demo, $created_at)
"""


# A case imported without a deadline gets the 12345 platform's default one.
DEADLINE_SQL = "coalesce({a}deadline_at, {a}reported_at + to_hours($default_deadline_h))"


def _deadline(alias: str = "") -> str:
    return DEADLINE_SQL.format(a=f"{alias}." if alias else "")


def _masked(rows: pd.DataFrame, scope: Scope, mask: bool) -> pd.DataFrame:
    """Personal data masked unless the role needs it; ``mask`` masks it for everybody."""
    return privacy.mask_cases(rows) if mask or not scope.sees_personal_data else rows


def _where(conds: list[str]) -> str:
    return f"WHERE {' AND '.join(conds)}" if conds else ""


def _and(conds: list[str]) -> str:
    return "".join(f" AND {c}" for c in conds)


class Store:
    """One GridPulse database. Thread-safe: each query takes its own cursor.

    Every read of cases, grids or resources takes the caller's ``Scope`` first and
    applies it here, so no page can forget it.
    """

    def __init__(self, path: Path | str, *, write: bool | None = None) -> None:
        """Open the database at ``path``; a file that cannot be used raises ``dbopen.DatabaseError``.

        ``write``: True must be able to write (the CLI's user changes and imports), False opens
        read-only, None (the dashboard) writes when it can and else opens read-only: then
        ``read_only_reason`` says why, and writes through ``_exec`` (audit lines, log-in counters)
        are not saved but logged, and kept in ``write_problem`` for the page to show; so are
        writes that fail on a full disk. The file is never changed before it has been read whole.
        """
        from gridpulse import dbopen  # opening, and what to say when it fails, live there

        self.path = Path(path)
        self._lock = threading.Lock()
        self._import_lock = threading.Lock()
        # Log-in tables are read and written by many page runs at once (two tabs touching one session,
        # parallel guesses): one at a time per process, so no update conflicts and no lost counts.
        self._auth_lock = threading.RLock()
        self.write_problem: dbopen.DatabaseError | None = None
        self._con, self.read_only_reason = dbopen.open_database(self.path, write)
        self.read_only = self.read_only_reason is not None
        try:
            if not self.read_only:
                self._con.execute(SCHEMA)  # databases made before a table existed get it now
                self._migrate()
                dbopen.remove_leftovers(self.path)  # of imports killed midway: they hold residents' data
        except duckdb.Error as err:
            self._con.close()
            raise (dbopen.translate(err, self.path) or dbopen.problem("io", self.path, str(err)[:300])) from err
        if write is not True:
            self._exec = dbopen.soft_writes(self, self._exec)  # type: ignore[method-assign]

    def _migrate(self) -> None:
        for col in ("reporter_name", "reporter_phone", "address", "placement"):
            self._con.execute(f"ALTER TABLE cases ADD COLUMN IF NOT EXISTS {col} VARCHAR")

    def close(self) -> None:
        if getattr(self, "_auth_con", None) is not None:
            self._auth_con.close()
        self._close_file()

    def _close_file(self) -> None:
        """Close the connection; again is harmless. A final checkpoint that fails (a full disk) is
        only logged: what was committed stays in the database's log and is read on the next open."""
        from gridpulse import dbopen

        con = getattr(self, "_con", None)
        if con is None:
            return
        try:
            con.close()
        except duckdb.Error as err:
            dbopen.log.warning("closing %s: %s", self.path, err)

    def _df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        with self._lock:
            cur = self._con.cursor()
        try:
            return cur.execute(sql, dict(params or {})).df()
        finally:
            cur.close()

    def _exec(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self._lock:
            cur = self._con.cursor()
        try:
            cur.execute(sql, dict(params or {}))
        finally:
            cur.close()

    @staticmethod
    def _cases_where(scope: Scope, f: Filters | None) -> tuple[list[str], dict[str, Any]]:
        conds, params = scope_case_conditions(scope)
        if f is not None:
            more, more_params = case_conditions(f)
            conds, params = conds + more, params | more_params
        return conds, params

    @staticmethod
    def _grids_where(scope: Scope, f: Filters | None, alias: str = "g") -> tuple[list[str], dict[str, Any]]:
        conds, params = scope_grid_conditions(scope, alias)
        if f is not None:
            more, more_params = grid_conditions(f, alias)
            conds, params = conds + more, params | more_params
        return conds, params

    # ---- reference data -------------------------------------------------

    def meta(self) -> dict[str, str]:
        rows = self._df("SELECT key, value FROM meta")
        return dict(zip(rows["key"], rows["value"], strict=True))

    def is_demo(self) -> bool:
        return self.meta().get("source") == "demo"

    def as_of(self) -> datetime:
        """The moment figures are taken at: the demo's fixed 'now', else the clock's minute (Beijing time).

        To the minute, not the second: it is part of every cache key of figures taken "now".
        """
        value = self.meta().get("as_of")
        return datetime.fromisoformat(value) if value else clock.this_minute()

    def data_version(self) -> str:
        """Bumped by every import in the import's own transaction: cached figures are keyed by it."""
        return self.meta().get("data_version", "0")

    def bump_data_version(self) -> None:
        """The data changed outside an import (imports bump it in their own transaction)."""
        self._exec(_BUMP_DATA_VERSION)

    def drop_fixed_as_of(self) -> None:
        """Take figures as of the clock from now on, as on a real street (the benchmark's live street)."""
        self._exec("DELETE FROM meta WHERE key = 'as_of'")

    def grids(self, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
        """Grid attributes (no geometry) the scope may see, ordered by code."""
        conds, params = self._grids_where(scope, f)
        return self._df(
            f"SELECT grid_code, grid_name, community, households, grid_head FROM grids g {_where(conds)} "
            "ORDER BY grid_code",
            params,
        )

    def grid_shapes(self, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
        """Grid attributes with WKB geometry, ordered by code."""
        conds, params = self._grids_where(scope, f)
        return self._df(
            f"SELECT grid_code, grid_name, community, households, grid_head, geometry "
            f"FROM grids g {_where(conds)} ORDER BY grid_code",
            params,
        )

    def communities(self, scope: Scope) -> list[str]:
        conds, params = self._grids_where(scope, None)
        sql = f"SELECT DISTINCT community FROM grids g {_where(conds)} ORDER BY community"
        return self._df(sql, params)["community"].tolist()

    def distinct_values(self, scope: Scope, column: str) -> list[str]:
        """Distinct non-null values of a case column among the cases the scope may see."""
        if column not in ("category", "source", "department"):
            raise ValueError(column)
        conds, params = self._cases_where(scope, None)
        sql = f"SELECT DISTINCT {column} AS v FROM cases c WHERE {column} IS NOT NULL{_and(conds)} ORDER BY v"
        return self._df(sql, params)["v"].tolist()

    def reported_range(self, scope: Scope) -> tuple[datetime, datetime] | None:
        conds, params = self._cases_where(scope, None)
        row = self._df(f"SELECT min(reported_at) AS lo, max(reported_at) AS hi FROM cases c {_where(conds)}", params)
        if row.empty or pd.isna(row.at[0, "lo"]):
            return None
        return row.at[0, "lo"].to_pydatetime(), row.at[0, "hi"].to_pydatetime()

    # ---- case figures ---------------------------------------------------

    def case_components(self, scope: Scope, f: Filters, as_of: datetime, by: str | None = None) -> pd.DataFrame:
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
        conds, params = self._cases_where(scope, f)
        stamp = min(f.end_ts, as_of)
        params |= {
            "start": f.start_ts,
            "end": f.end_ts,
            "stamp": stamp,
            "sat": config.SATISFIED_MIN_STARS,
            "default_deadline_h": config.DEFAULT_DEADLINE_HOURS,
        }
        deadline = _deadline()
        rep = "reported_at >= $start AND reported_at < $end"
        res = "resolved_at >= $start AND resolved_at < $end"
        due = f"{deadline} >= $start AND {deadline} < $stamp"
        rat = "rated_at >= $start AND rated_at < $end AND satisfaction IS NOT NULL"
        open_at = "reported_at < $stamp AND (resolved_at IS NULL OR resolved_at >= $stamp)"
        # Only cases with an event at or after the period's start can count in it: skip the
        # rest before aggregating (cases are stored in reporting order, so whole row
        # groups after the period are skipped too).
        conds = [
            *conds,
            "reported_at < $end",
            f"(resolved_at IS NULL OR resolved_at >= least($start, $stamp) OR rated_at >= $start"
            f" OR {deadline} >= $start)",
        ]
        key = f"c.{by} AS key," if by else ""
        group = "GROUP BY ALL ORDER BY key" if by else ""
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
            FROM cases c {_where(conds)} {group}
        """
        return self._df(sql, params)

    def monthly_counts(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases reported and resolved per calendar month of the period."""
        conds, params = self._cases_where(scope, f)
        params |= {"start": f.start_ts, "end": f.end_ts}
        extra = _and(conds)
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

    def category_counts(self, scope: Scope, f: Filters, limit: int = 10) -> pd.DataFrame:
        """The most frequent categories among cases reported in the period."""
        conds, params = self._cases_where(scope, f)
        params |= {"start": f.start_ts, "end": f.end_ts, "limit": limit}
        sql = f"""
            SELECT coalesce(category, '未分类') AS category, count(*) AS cases
            FROM cases c WHERE reported_at >= $start AND reported_at < $end {_and(conds)}
            GROUP BY 1 ORDER BY cases DESC, category LIMIT $limit
        """
        return self._df(sql, params)

    def category_month_counts(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases reported in the period by category and calendar month."""
        conds, params = self._cases_where(scope, f)
        params |= {"start": f.start_ts, "end": f.end_ts}
        sql = f"""
            SELECT coalesce(category, '未分类') AS category, date_trunc('month', reported_at) AS month,
                   count(*) AS cases
            FROM cases c WHERE reported_at >= $start AND reported_at < $end {_and(conds)}
            GROUP BY ALL ORDER BY month, category
        """
        return self._df(sql, params)

    def heat_cells(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases reported in the period binned into ~33 m cells: lat, lon, weight.

        The heat layer gets these cells, never raw points, so its size is bounded by
        the street's area, not by the number of cases.
        """
        conds, params = self._cases_where(scope, f)
        lat0 = self._reference_lat()
        params |= {
            "start": f.start_ts,
            "end": f.end_ts,
            "dlat": config.HEAT_CELL_DEG,
            "dlon": config.HEAT_CELL_DEG / max(math.cos(math.radians(lat0)), 0.1),
        }
        sql = f"""
            SELECT (floor(lat / $dlat) + 0.5) * $dlat AS lat,
                   (floor(lon / $dlon) + 0.5) * $dlon AS lon,
                   count(*) AS weight
            FROM cases c
            WHERE reported_at >= $start AND reported_at < $end
              AND lat IS NOT NULL AND lon IS NOT NULL {_and(conds)}
            GROUP BY ALL ORDER BY weight DESC
        """
        return self._df(sql, params)

    def _reference_lat(self) -> float:
        """A latitude for the street (mean of case latitudes) to size heat cells in metres."""
        row = self._df("SELECT avg(lat) AS lat FROM cases")
        return 0.0 if pd.isna(row.at[0, "lat"]) else float(row.at[0, "lat"])

    def case_list(
        self,
        scope: Scope,
        f: Filters,
        grid_code: str,
        limit: int = config.MAX_TABLE_ROWS,
        mask: bool = False,
    ) -> pd.DataFrame:
        """One grid's cases reported in the period, newest first, at most ``limit`` rows.

        Residents' personal data is masked unless the scope's role needs it; ``mask``
        masks it for everybody (meeting mode, exports).
        """
        conds, params = self._cases_where(scope, f)
        params |= {"start": f.start_ts, "end": f.end_ts, "grid": grid_code, "limit": limit}
        sql = f"""
            SELECT case_id, reported_at, source, category, description, address,
                   reporter_name, reporter_phone, status, handled_level, department,
                   deadline_at, resolved_at, satisfaction, reopened
            FROM cases c
            WHERE reported_at >= $start AND reported_at < $end AND c.grid_code = $grid {_and(conds)}
            ORDER BY reported_at DESC, case_id LIMIT $limit
        """
        return _masked(self._df(sql, params), scope, mask)

    def open_cases(
        self, scope: Scope, f: Filters, as_of: datetime, limit: int = config.MAX_TABLE_ROWS, mask: bool = False
    ) -> pd.DataFrame:
        """Cases open at the period's end (or ``as_of``), overdue first, then oldest first."""
        conds, params = self._cases_where(scope, f)
        params |= {
            "stamp": min(f.end_ts, as_of),
            "limit": limit,
            "default_deadline_h": config.DEFAULT_DEADLINE_HOURS,
        }
        sql = f"""
            SELECT c.case_id, c.reported_at, g.grid_name, c.category, c.description, c.address,
                   c.reporter_name, c.reporter_phone, c.status, c.handled_level, c.department,
                   {_deadline("c")} AS deadline_at, {_deadline("c")} < $stamp AS overdue
            FROM cases c LEFT JOIN grids g ON g.grid_code = c.grid_code
            WHERE c.reported_at < $stamp AND (c.resolved_at IS NULL OR c.resolved_at >= $stamp) {_and(conds)}
            ORDER BY overdue DESC, c.reported_at, c.case_id LIMIT $limit
        """
        return _masked(self._df(sql, params), scope, mask)

    # ---- resources -------------------------------------------------------

    def resources(self, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
        """Service points and teams in the grids the scope and filters cover."""
        conds, params = self._grids_where(scope, f)
        where = ""
        if conds:
            where = f"WHERE r.grid_code IN (SELECT grid_code FROM grids g WHERE {' AND '.join(conds)})"
        return self._df(
            f"SELECT resource_id, name, kind, level, lon, lat, grid_code FROM resources r {where} ORDER BY resource_id",
            params,
        )

    # ---- users and audit ------------------------------------------------

    def user(self, username: str) -> dict[str, Any] | None:
        """One users-table row as plain Python values, or None."""
        with self._lock:
            cur = self._con.cursor()
        try:
            cur.execute("SELECT * FROM users WHERE username = $u", {"u": username})
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        finally:
            cur.close()
        return None if row is None else dict(zip(names, row, strict=True))

    def users(self) -> pd.DataFrame:
        return self._df(
            "SELECT username, display_name, role, communities, grids, department, disabled, demo, "
            "failed_count, locked_until, created_at FROM users ORDER BY username"
        )

    def add_user(self, user: Mapping[str, Any]) -> None:
        self._exec(_USER_INSERT, {"demo": False, "created_at": clock.now(), **user})

    def set_password(self, username: str, password_hash: str) -> None:
        """A new password ends every session of the user and lifts any throttle on the account."""
        self._exec(
            "UPDATE users SET password_hash = $h, failed_count = 0, locked_until = NULL WHERE username = $u",
            {"u": username, "h": password_hash},
        )
        self.end_user_sessions(username)
        self.clear_throttle(username)

    def clear_throttle(self, username: str) -> None:
        """Forget the failures counted against an account (from every client)."""
        self._auth_exec(
            "DELETE FROM login_failures WHERE key = 'account:' || $u OR ends_with(key, '|' || $u)", {"u": username}
        )

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._exec("UPDATE users SET disabled = $d WHERE username = $u", {"u": username, "d": disabled})
        if disabled:
            self.end_user_sessions(username)

    def record_login_failure(self, username: str, failed_count: int, locked_until: datetime | None) -> None:
        self._exec(
            "UPDATE users SET failed_count = $n, locked_until = $l WHERE username = $u",
            {"u": username, "n": failed_count, "l": locked_until},
        )

    def record_login_success(self, username: str) -> None:
        self._exec("UPDATE users SET failed_count = 0, locked_until = NULL WHERE username = $u", {"u": username})

    # ---- log-in sessions and throttling (gridpulse.sessions, gridpulse.auth) ----

    def _auth_memory(self) -> Any:
        """The in-memory home of sessions, tickets and log-in failures, made on first need."""
        with self._auth_lock:
            return self._make_auth_memory()

    def _make_auth_memory(self) -> Any:
        if getattr(self, "_auth_con", None) is None:
            con = duckdb.connect(":memory:")
            con.execute(AUTH_SCHEMA)
            # Sessions in the file stay valid; those ended while it could not be written are listed here.
            con.execute("CREATE TABLE ended (sid_hash VARCHAR PRIMARY KEY)")
            con.execute("CREATE TABLE ended_users (username VARCHAR PRIMARY KEY)")
            self._auth_con = con
            self._memory_secret = secrets.token_hex(32)
            logging.getLogger("gridpulse.db").warning("%s cannot be written: log-in sessions kept in memory", self.path)
        return self._auth_con

    def _auth_in_memory(self) -> bool:
        return self.read_only or getattr(self, "_auth_con", None) is not None

    def _auth_df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        with self._auth_lock:
            if not self._auth_in_memory():
                return self._df(sql, params)
            cur = self._auth_memory().cursor()
            try:
                return cur.execute(sql, dict(params or {})).df()
            finally:
                cur.close()

    def _auth_exec(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """A write to the log-in tables; if the file will not take it, they move to memory and it is done there."""
        with self._auth_lock:
            if not self._auth_in_memory():
                self._exec(sql, params)
                if self.write_problem is None:
                    return
                self._auth_memory()
            self._auth_df(sql, params)

    def session_secret(self) -> str:
        """The key that signs session cookies: made once per database, so every server process shares it."""
        with self._auth_lock:
            secret = getattr(self, "_session_secret", None) or self.meta().get("session_secret")
            if secret is None and not self._auth_in_memory():
                self._exec("INSERT OR IGNORE INTO meta VALUES ('session_secret', $v)", {"v": secrets.token_hex(32)})
                secret = self.meta().get("session_secret")
            self._session_secret = secret
            if secret is None:  # the file cannot be written and has no key yet: this process's own
                self._auth_memory()
                secret = self._memory_secret
            return secret

    def add_ticket(self, ticket_hash: str, username: str, expires_at: datetime) -> None:
        self._auth_exec(
            "INSERT INTO login_tickets VALUES ($t, $u, $e)", {"t": ticket_hash, "u": username, "e": expires_at}
        )

    def take_ticket(self, ticket_hash: str, now: datetime) -> str | None:
        """The ticket's user if it is valid now; a ticket is deleted when taken (and stale ones with it)."""
        with self._auth_lock:
            rows = self._auth_df(
                "SELECT ticket_hash, username, expires_at FROM login_tickets WHERE ticket_hash = $t", {"t": ticket_hash}
            )
            self._auth_exec("DELETE FROM login_tickets WHERE ticket_hash = $t OR expires_at < $now",
                            {"t": ticket_hash, "now": now})  # fmt: skip
        mine = rows[rows["expires_at"] >= now]
        return None if mine.empty else str(mine["username"].iloc[0])

    def add_session(self, sid_hash: str, username: str, now: datetime, user_agent: str, stale: datetime) -> None:
        """A new session; sessions unused since ``stale`` (abandoned, never logged out) are dropped."""
        self._auth_exec("DELETE FROM sessions WHERE last_seen < $stale", {"stale": stale})
        self._auth_exec(
            "INSERT INTO sessions VALUES ($s, $u, $now, $now, $ua)",
            {"s": sid_hash, "u": username, "now": now, "ua": user_agent},
        )

    def session(self, sid_hash: str) -> dict[str, Any] | None:
        sql = "SELECT username, created_at, last_seen FROM sessions WHERE sid_hash = $s"
        rows = self._auth_df(sql, {"s": sid_hash})
        if rows.empty and self._auth_in_memory():  # a session opened while the file could be written
            if not self._auth_df("SELECT 1 FROM ended WHERE sid_hash = $s", {"s": sid_hash}).empty:
                return None
            rows = self._df(sql, {"s": sid_hash})
            if not rows.empty and not self._auth_df(
                "SELECT 1 FROM ended_users WHERE username = $u", {"u": rows["username"].iloc[0]}
            ).empty:
                return None
        if rows.empty:
            return None
        row = rows.iloc[0]
        return {"username": row["username"], "created_at": row["created_at"].to_pydatetime(),
                "last_seen": row["last_seen"].to_pydatetime()}  # fmt: skip

    def touch_session(self, sid_hash: str, now: datetime) -> None:
        if self._auth_in_memory() and (row := self.session(sid_hash)) is not None:
            self._auth_df(  # a session from the file continues in memory
                "INSERT OR REPLACE INTO sessions VALUES ($s, $u, $c, $now, '')",
                {"s": sid_hash, "u": row["username"], "c": row["created_at"], "now": now},
            )
            return
        self._auth_exec("UPDATE sessions SET last_seen = $now WHERE sid_hash = $s", {"s": sid_hash, "now": now})

    def delete_session(self, sid_hash: str) -> None:
        self._auth_exec("DELETE FROM sessions WHERE sid_hash = $s", {"s": sid_hash})
        if self._auth_in_memory():
            self._auth_df("INSERT OR IGNORE INTO ended VALUES ($s)", {"s": sid_hash})

    def end_user_sessions(self, username: str) -> None:
        """Every session of a user ends (disabled, password changed), and tickets not yet exchanged."""
        self._auth_exec("DELETE FROM sessions WHERE username = $u", {"u": username})
        self._auth_exec("DELETE FROM login_tickets WHERE username = $u", {"u": username})
        if self._auth_in_memory():
            self._auth_df("INSERT OR IGNORE INTO ended_users VALUES ($u)", {"u": username})

    def login_failures(self, keys: list[str]) -> dict[str, tuple[int, datetime]]:
        rows = self._auth_df(
            "SELECT key, failures, last_at FROM login_failures WHERE list_contains($k, key)", {"k": keys}
        )
        return {k: (int(n), ts.to_pydatetime()) for k, n, ts in rows.itertuples(index=False)}

    def add_login_failure(self, keys: list[str], now: datetime, forget_before: datetime) -> None:
        """Count one failure against each key (atomically: parallel guesses are all counted)."""
        with self._auth_lock:
            self._add_login_failure(keys, now, forget_before)

    def _add_login_failure(self, keys: list[str], now: datetime, forget_before: datetime) -> None:
        for key in keys:
            self._auth_exec(
                """INSERT INTO login_failures VALUES ($k, 1, $now) ON CONFLICT (key) DO UPDATE
                   SET failures = CASE WHEN login_failures.last_at < $forget THEN 1
                                       ELSE login_failures.failures + 1 END,
                       last_at = $now""",
                {"k": key, "now": now, "forget": forget_before},
            )
        self._auth_exec("DELETE FROM login_failures WHERE last_at < $forget", {"forget": forget_before})

    def clear_login_failures(self, keys: list[str]) -> None:
        self._auth_exec("DELETE FROM login_failures WHERE list_contains($k, key)", {"k": keys})

    def audit(self, ts: datetime, username: str | None, action: str, scope: str, detail: str = "") -> None:
        self._exec(
            "INSERT INTO audit VALUES ($ts, $u, $a, $s, $d)",
            {"ts": ts, "u": username, "a": action, "s": scope, "d": detail},
        )

    def audit_log(self, limit: int = 500) -> pd.DataFrame:
        return self._df("SELECT * FROM audit ORDER BY ts DESC LIMIT $n", {"n": limit})

    # ---- imports (gridpulse.ingest) ---------------------------------------

    def import_rows(
        self,
        kind: str,
        batches: Iterable[tuple[pd.DataFrame, pd.DataFrame]],
        columns: list[str],
        info: Mapping[str, Any],
        warnings: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """Upsert rows into ``cases`` or ``resources`` in one transaction; rejects kept with reasons.

        ``batches`` yields (rows with ``row_number``, rejects); ``columns`` are the columns the
        file provides: an existing row is updated in those only, so a later export without,
        say, ratings does not erase them. Within the file the last row of an id wins, the
        earlier ones are rejected. Any error rolls everything back.
        """
        with self._import_lock:  # one import at a time: two admins' uploads queue, they do not collide
            return self._import_rows(kind, batches, columns, info, warnings)

    def _import_rows(
        self,
        kind: str,
        batches: Iterable[tuple[pd.DataFrame, pd.DataFrame]],
        columns: list[str],
        info: Mapping[str, Any],
        warnings: Mapping[str, int] | None,
    ) -> dict[str, Any]:
        table, key = IMPORT_TABLES[kind]
        cur = self._con.cursor()
        # The file's rows are staged in a scratch database on disk, committed chunk by chunk, so a
        # million-row file does not sit in memory; the import itself is one transaction on ours.
        scratch = self.path.with_name(f"{self.path.name}.import-{uuid.uuid4().hex}.tmp")
        scratch.unlink(missing_ok=True)
        try:
            cur.execute("ATTACH $path AS scratch", {"path": str(scratch)})
            cur.execute(f"CREATE TABLE scratch.stage AS SELECT 0::BIGINT AS row_number, * FROM {table} LIMIT 0")
            cur.execute("CREATE TABLE scratch.stage_rejects (row_number BIGINT, raw VARCHAR, reasons VARCHAR)")
            for rows, rejects in batches:
                if len(rows):
                    cur.register("incoming", rows)
                    cur.execute("INSERT INTO scratch.stage BY NAME SELECT * FROM incoming")
                    cur.unregister("incoming")
                if len(rejects):
                    cur.register("incoming", rejects)
                    cur.execute("INSERT INTO scratch.stage_rejects BY NAME SELECT * FROM incoming")
                    cur.unregister("incoming")
            cur.execute(f"""
                CREATE TABLE scratch.stage_last AS
                SELECT {key}, max(row_number) AS keep FROM scratch.stage GROUP BY {key} HAVING count(*) > 1""")
            duplicates = int(cur.execute(f"""
                INSERT INTO scratch.stage_rejects
                SELECT s.row_number, to_json(s)::VARCHAR, replace($reason, '{{row}}', l.keep::VARCHAR)
                FROM scratch.stage s JOIN scratch.stage_last l USING ({key}) WHERE s.row_number < l.keep""",
                {"reason": t("rej_duplicate_id", row="{row}")}).fetchone()[0])  # fmt: skip
            cur.execute(f"""
                DELETE FROM scratch.stage
                WHERE row_number < (SELECT keep FROM scratch.stage_last l WHERE l.{key} = scratch.stage.{key})""")
            cur.begin()
            changed = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in columns if c != key) or "FALSE"
            counts = cur.execute(f"""
                SELECT count(*) FILTER (WHERE t.{key} IS NULL),
                       count(*) FILTER (WHERE t.{key} IS NOT NULL AND ({changed})),
                       count(*) FILTER (WHERE t.{key} IS NOT NULL AND NOT ({changed}))
                FROM scratch.stage s LEFT JOIN {table} t USING ({key})""").fetchone()
            inserted, updated, unchanged = (int(v) for v in counts)
            cur.execute(f"""
                INSERT INTO {table} BY NAME
                SELECT * EXCLUDE (row_number) FROM scratch.stage s
                WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{key})""")
            assignments = ", ".join(f"{c} = s.{c}" for c in columns if c != key)
            if assignments and updated:
                cur.execute(f"""
                    UPDATE {table} t SET {assignments} FROM scratch.stage s
                    WHERE t.{key} = s.{key} AND ({changed})""")
            rejected = int(cur.execute("SELECT count(*) FROM scratch.stage_rejects").fetchone()[0])
            record = {
                **info, "kind": kind, "inserted": inserted, "updated": updated,
                "unchanged": unchanged, "rejected": rejected, "rows_read": inserted + updated + unchanged + rejected,
                "duplicates": duplicates,
                "warnings": json.dumps(dict(warnings or {}), ensure_ascii=False),
            }  # fmt: skip
            self._log_import(cur, record, "scratch.stage_rejects")
            cur.commit()
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # nothing begun yet, or already rolled back
                cur.rollback()
            raise
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.execute("DETACH scratch")
            cur.close()
            scratch.unlink(missing_ok=True)
            scratch.with_name(scratch.name + ".wal").unlink(missing_ok=True)
        self._exec("CHECKPOINT")  # the file changes, so the app's caches (keyed by its mtime) refresh
        return record

    def replace_grids(
        self,
        grids: pd.DataFrame,
        rejects: pd.DataFrame,
        info: Mapping[str, Any],
        assign: Callable[[Any, Any], Any],
        chunk: int = 500_000,
    ) -> dict[str, Any]:
        """A new grid layer in place of the old, every case and resource joined to it again, atomically.

        Takes the import lock, like ``import_rows``.

        ``assign(lon, lat)`` gives the new grid code of each point. A case placed by name keeps
        its grid if the new layer still has that code.
        """
        with self._import_lock:
            return self._replace_grids(grids, rejects, info, assign, chunk)

    def _replace_grids(
        self,
        grids: pd.DataFrame,
        rejects: pd.DataFrame,
        info: Mapping[str, Any],
        assign: Callable[[Any, Any], Any],
        chunk: int,
    ) -> dict[str, Any]:
        cur = self._con.cursor()
        try:
            cur.begin()
            existing = set(cur.execute("SELECT grid_code FROM grids").df()["grid_code"])
            cur.execute("DELETE FROM grids")
            cur.register("incoming", grids[GRID_COLUMNS])
            cur.execute("INSERT INTO grids BY NAME SELECT * FROM incoming")
            cur.unregister("incoming")
            moved = 0
            for table, key in (("cases", "case_id"), ("resources", "resource_id")):
                moved += self._rejoin(cur, table, key, assign, chunk)
            cur.execute("""
                UPDATE cases SET grid_code = NULL, placement = NULL
                WHERE placement = 'name' AND grid_code NOT IN (SELECT grid_code FROM grids)""")
            new_codes = set(grids["grid_code"])
            record = {
                **info, "kind": "grids", "rows_read": len(grids) + len(rejects),
                "inserted": len(new_codes - existing), "updated": len(new_codes & existing),
                "unchanged": 0, "rejected": len(rejects), "replaced": len(existing), "rejoined": moved,
            }  # fmt: skip
            cur.register("incoming", rejects.reindex(columns=["row_number", "raw", "reasons"]))
            self._log_import(cur, record, "incoming")
            cur.unregister("incoming")
            cur.commit()
        except BaseException:
            cur.rollback()
            raise
        finally:
            cur.close()
        self._exec("CHECKPOINT")
        return record

    @staticmethod
    def _log_import(cur: Any, record: dict[str, Any], rejects_from: str) -> None:
        """Number the import, and write its summary, its rejects (from ``rejects_from``) and the audit line.

        Inside the import's transaction: they are kept exactly when its rows are.
        """
        record["import_id"] = int(cur.execute("SELECT nextval('import_ids')").fetchone()[0])
        cur.execute(_IMPORT_INSERT, {k: record[k] for k in _IMPORT_FIELDS})
        cur.execute(
            f"INSERT INTO import_rejects SELECT $id, $file, row_number, raw, reasons FROM {rejects_from}",
            {"id": record["import_id"], "file": record["file_name"]},
        )
        cur.execute(_BUMP_DATA_VERSION)
        detail = f"{record['kind']} {record['file_name']} #{record['import_id']}"
        cur.execute(
            "INSERT INTO audit VALUES ($ts, $u, 'import', '全街道', $d)",
            {"ts": record["ts"], "u": record.get("username"), "d": detail},
        )

    @staticmethod
    def _rejoin(cur: Any, table: str, key: str, assign: Callable[[Any, Any], Any], chunk: int) -> int:
        """Join every located row of ``table`` to the current grids again; returns how many changed grid."""
        extra = ", placement" if table == "cases" else ""
        rows = cur.execute(f"SELECT {key}, lon, lat, grid_code{extra} FROM {table} WHERE lon IS NOT NULL").df()
        moved = 0
        for start in range(0, len(rows), chunk):
            part = rows.iloc[start : start + chunk]
            new = pd.DataFrame(
                {key: part[key].to_numpy(), "grid_code": assign(part["lon"].to_numpy(), part["lat"].to_numpy())}
            )
            moved += int((new["grid_code"].to_numpy() != part["grid_code"].to_numpy()).sum())
            cur.register("incoming", new)
            placement = ", placement = CASE WHEN n.grid_code IS NULL THEN NULL ELSE 'point' END" if extra else ""
            cur.execute(
                f"UPDATE {table} t SET grid_code = n.grid_code{placement} FROM incoming n WHERE t.{key} = n.{key}"
            )
            cur.unregister("incoming")
        return moved

    def imports(self, limit: int = 50) -> pd.DataFrame:
        return self._df("SELECT * FROM imports ORDER BY import_id DESC LIMIT $n", {"n": limit})

    def import_rejects(self, import_id: int | None = None) -> pd.DataFrame:
        """Rejected rows of one import (the latest when None), in file order."""
        sql = """SELECT import_id, file_name, row_number, reasons, raw FROM import_rejects
                 WHERE import_id = coalesce($id, (SELECT max(import_id) FROM imports))
                 ORDER BY row_number"""
        return self._df(sql, {"id": import_id})


# Every import bumps the data version in its own transaction: the UI's cached figures are keyed by it.
_BUMP_DATA_VERSION = """
    INSERT OR REPLACE INTO meta
    SELECT 'data_version', (coalesce(max(TRY_CAST(value AS BIGINT)), 0) + 1)::VARCHAR
    FROM meta WHERE key = 'data_version'"""
_IMPORT_FIELDS = ("import_id", "ts", "username", "kind", "file_name", "format", "encoding", "rows_read", "inserted",
                  "updated", "unchanged", "rejected", "warnings")  # fmt: skip
IMPORT_TABLES = {"cases": ("cases", "case_id"), "resources": ("resources", "resource_id")}
_IMPORT_INSERT = """
    INSERT INTO imports (import_id, ts, username, kind, file_name, format, encoding, rows_read, inserted, updated,
                         unchanged, rejected, warnings)
    VALUES ($import_id, $ts, $username, $kind, $file_name, $format, $encoding, $rows_read, $inserted, $updated,
            $unchanged, $rejected, $warnings)
"""
