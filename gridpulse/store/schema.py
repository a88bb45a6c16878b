"""The database's tables, and writing a whole street into a new file.

DuckDB SQL; a second backend (PostgreSQL) would bring its own DDL beside this one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from gridpulse import clock

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
# ``placement`` is not listed: importers derive it apart (ingest.run); write_street writes it
# when the cases frame has it, NULL otherwise.
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
    no half-written database behind. A failure is a ``dbopen.DatabaseError`` saying why, in Chinese.
    """
    try:
        _write_street(path, grids, cases, resources, meta, users)
    except (OSError, duckdb.Error) as err:
        from gridpulse import dbopen

        raise dbopen.creation_problem(err, path) from err


def _write_street(
    path: Path,
    grids: pd.DataFrame,
    cases: pd.DataFrame,
    resources: pd.DataFrame,
    meta: Mapping[str, str],
    users: list[dict[str, Any]] | None,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(SCHEMA)
        for table, frame, cols in (
            ("grids", grids, GRID_COLUMNS),
            ("cases", cases, [*CASE_COLUMNS, "placement"]),
            ("resources", resources, RESOURCE_COLUMNS),
        ):
            if table == "cases" and "placement" not in frame:  # optional: NULL when the frame has none
                frame = frame.assign(placement=pd.Series(None, index=frame.index, dtype=object))
            con.register("incoming", frame[cols])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.executemany("INSERT INTO meta VALUES (?, ?)", [[k, str(v)] for k, v in meta.items()])
        for user in users or ():
            con.execute(USER_INSERT, {"created_at": clock.now(), **user})
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


USER_INSERT = """
    INSERT INTO users (username, display_name, role, communities, grids, department, password_hash, demo, created_at)
    VALUES ($username, $display_name, $role, $communities, $grids, $department, $password_hash, $demo, $created_at)
"""
