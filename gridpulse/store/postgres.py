"""PostgreSQL: the store that several server processes, on one machine or several, share.

Selected by ``GRIDPULSE_DB=postgresql://user:password@host:port/dbname``; the embedded DuckDB
file stays the default. PostgreSQL holds every record: the street (grids, cases, resources)
and what every process writes (users, log-in sessions, tickets, failed log-ins, the audit
log, imports and their rejects, targets, the data version).

The figures are not computed in PostgreSQL. Each process keeps a copy of the street (grids,
cases, resources) in a DuckDB file of its own and runs on it the same SQL as the embedded
store (analytics.py, accountability.py): one dialect for every figure, and a column store
for the scans. The copy follows the data version: every row an import writes carries the
version it was written at, and a process that reads a newer version in ``meta`` (it reads
``meta`` on every page run) first fetches the rows written since, one ``COPY`` per table, and
applies them in one DuckDB transaction. Why this design and not all figures in PostgreSQL:
README, "多进程与 PostgreSQL", measured with ``python -m gridpulse bench-store``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import numpy as np
import pandas as pd
import psycopg
import psycopg_pool

from gridpulse import clock, dbopen
from gridpulse.store import schema
from gridpulse.store.accountability import Accountability
from gridpulse.store.accounts import Accounts
from gridpulse.store.analysis import Analysis
from gridpulse.store.connection import Connection
from gridpulse.store.imports import IMPORT_TABLES, Imports, count_moved, grids_record, renumbered, rows_record
from gridpulse.store.settings import Settings
from gridpulse.strings import t

SCHEMES = ("postgresql://", "postgres://")

PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS grids (
    grid_code TEXT PRIMARY KEY, grid_name TEXT NOT NULL, community TEXT NOT NULL, households INTEGER,
    grid_head TEXT, geometry BYTEA NOT NULL,
    version BIGINT NOT NULL DEFAULT 0           -- the data version this row was written at
);
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY, source TEXT, category TEXT, description TEXT,
    lon DOUBLE PRECISION, lat DOUBLE PRECISION, grid_code TEXT,
    reported_at TIMESTAMP NOT NULL, dispatched_at TIMESTAMP, accepted_at TIMESTAMP, resolved_at TIMESTAMP,
    rated_at TIMESTAMP, deadline_at TIMESTAMP, status TEXT, handled_level SMALLINT, department TEXT,
    satisfaction SMALLINT, reopened BOOLEAN DEFAULT FALSE, reporter_name TEXT, reporter_phone TEXT,
    address TEXT, placement TEXT,
    version BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cases_version ON cases (version);
CREATE TABLE IF NOT EXISTS resources (
    resource_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, level SMALLINT,
    lon DOUBLE PRECISION, lat DOUBLE PRECISION, grid_code TEXT,
    version BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS resources_version ON resources (version);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL,
    communities TEXT[] DEFAULT '{}', grids TEXT[] DEFAULT '{}', department TEXT,
    password_hash TEXT NOT NULL, disabled BOOLEAN DEFAULT FALSE, demo BOOLEAN DEFAULT FALSE,
    failed_count INTEGER DEFAULT 0, locked_until TIMESTAMP, created_at TIMESTAMP DEFAULT localtimestamp
);
CREATE TABLE IF NOT EXISTS audit (ts TIMESTAMP NOT NULL, username TEXT, action TEXT NOT NULL, scope TEXT, detail TEXT);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
CREATE SEQUENCE IF NOT EXISTS import_ids START 1;
CREATE TABLE IF NOT EXISTS imports (
    import_id BIGINT PRIMARY KEY, ts TIMESTAMP NOT NULL, username TEXT, kind TEXT NOT NULL, file_name TEXT NOT NULL,
    format TEXT, encoding TEXT, rows_read BIGINT, inserted BIGINT, updated BIGINT, unchanged BIGINT,
    rejected BIGINT, warnings TEXT
);
CREATE TABLE IF NOT EXISTS import_rejects (
    import_id BIGINT NOT NULL, file_name TEXT NOT NULL, row_number BIGINT, raw TEXT, reasons TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS import_rejects_id ON import_rejects (import_id);
CREATE TABLE IF NOT EXISTS sessions (
    sid_hash TEXT PRIMARY KEY, username TEXT NOT NULL, created_at TIMESTAMP NOT NULL, last_seen TIMESTAMP NOT NULL,
    user_agent TEXT
);
CREATE TABLE IF NOT EXISTS login_tickets (ticket_hash TEXT PRIMARY KEY, username TEXT NOT NULL,
                                          expires_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,
                                           last_at TIMESTAMP NOT NULL);
"""

STREET_TABLES = {
    "grids": ("grid_code", schema.GRID_COLUMNS),
    "cases": ("case_id", [*schema.CASE_COLUMNS, "placement"]),
    "resources": ("resource_id", schema.RESOURCE_COLUMNS),
}
ALL_TABLES = ("meta", "grids", "cases", "resources", "users", "audit", "imports", "import_rejects", "sessions",
              "login_tickets", "login_failures")  # fmt: skip
INTEGER_COLUMNS = frozenset({"households", "handled_level", "satisfaction", "level", "row_number"})
# One writer of the street at a time, over every process and machine (imports, grid layers, a new street).
_WRITE_LOCK = "SELECT pg_advisory_xact_lock(20261123)"
_PARAM = re.compile(r"\$(\w+)")
_TIMESTAMP_OIDS = (1114, 1184)


def is_url(target: object) -> bool:
    return str(target).startswith(SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def pg_sql(text: str) -> str:
    """The project's ``$name`` parameters as psycopg's ``%(name)s`` (a literal ``%`` doubled)."""
    return _PARAM.sub(r"%(\1)s", text.replace("%", "%%"))


def unreachable(url: str, err: BaseException) -> dbopen.DatabaseError:
    detail = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
    where = redacted(url)
    return dbopen.DatabaseError(
        "pg_unreachable", where, t("dberr_pg_unreachable", url=where, detail=detail),
        t("dberr_pg_unreachable_hint", detail=detail),
        detail,
    )  # fmt: skip


COPY_PREFIX = "gridpulse-copy-"


def _remove_orphans() -> None:
    """Copies left by server processes that were killed (their process id is in the folder's name)."""
    if not Path("/proc/self").exists():  # no way to tell a live process here: leave them
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{COPY_PREFIX}*-*"):
        pid = folder.name.removeprefix(COPY_PREFIX).split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def empty(url: str) -> dbopen.DatabaseError:
    """The server answers but holds no street yet."""
    where = redacted(url)
    return dbopen.DatabaseError("pg_empty", where, t("dberr_pg_empty", url=where), t("dberr_pg_empty_hint"))


def has_street(url: str) -> bool:
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            ensure_schema(conn)
            return conn.execute("SELECT 1 FROM meta WHERE key = 'street_name'").fetchone() is not None
    except psycopg.OperationalError as err:
        raise unreachable(url, err) from err


def new_generation(url: str) -> None:
    """Every process reads its copy of the street whole again (after a restore: versions may have gone back)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO meta VALUES ('generation', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (uuid.uuid4().hex,),
        )


def clear(url: str) -> None:
    """Remove the street a failed first import made (the database was empty before it)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute(_WRITE_LOCK)
        conn.execute(f"TRUNCATE {', '.join(ALL_TABLES)}")


def _plain(value: Any, integer: bool) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):  # a list column (users' grids and communities)
        return [_plain(v, False) for v in value]
    if value is None or value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if integer and isinstance(value, float):
        return int(value)
    return value


def _rows(frame: pd.DataFrame, cols: list[str], extra: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    columns = [
        [_plain(v, c in INTEGER_COLUMNS) for v in frame[c].astype(object).tolist()]
        if c in frame
        else [None] * len(frame)
        for c in cols
    ]
    for values in zip(*columns, strict=True):
        yield (*values, *extra)


def copy_in(cur: psycopg.Cursor, table: str, frame: pd.DataFrame, cols: list[str], version: int | None = None) -> None:
    """Rows of ``frame`` into ``table`` with one COPY (``version`` appended when given)."""
    names = [*cols, "version"] if version is not None else cols
    extra = (version,) if version is not None else ()
    with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in _rows(frame, cols, extra):
            copy.write_row(row)


def _frame(cur: psycopg.Cursor) -> pd.DataFrame:
    desc = cur.description or []
    names = [d.name for d in desc]
    frame = pd.DataFrame.from_records(cur.fetchall(), columns=names)
    for d in desc:
        if d.type_code in _TIMESTAMP_OIDS:
            frame[d.name] = pd.to_datetime(frame[d.name])
    return frame


class PgCursor:
    """A psycopg cursor that takes the project's ``$name`` SQL (the shared records' SQL is written for both)."""

    def __init__(self, cur: psycopg.Cursor) -> None:
        self._cur = cur

    def execute(self, text: str, params: Mapping[str, Any] | None = None) -> PgCursor:
        self._cur.execute(pg_sql(text), dict(params or {}))
        return self

    @property
    def description(self) -> Any:
        return [(d.name,) for d in self._cur.description or []]

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    def df(self) -> pd.DataFrame:
        return _frame(self._cur)


def ensure_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(_WRITE_LOCK)  # two processes starting at once would race on CREATE ... IF NOT EXISTS
        conn.execute(PG_SCHEMA)


def write_street(
    url: str,
    grids: pd.DataFrame,
    cases: pd.DataFrame,
    resources: pd.DataFrame,
    meta: Mapping[str, str],
    users: list[dict[str, Any]] | None = None,
    *,
    replace: bool = False,
    records: Mapping[str, pd.DataFrame] | None = None,
) -> None:
    """A whole street into the PostgreSQL database at ``url``, in one transaction.

    A database that holds a street already is refused unless ``replace`` (then everything in it,
    users and audit included, is replaced): nobody's street is overwritten by a first start.
    ``records``: whole tables copied as they are (users, audit, imports, import_rejects: ``copy_street``).
    """
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            ensure_schema(conn)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(_WRITE_LOCK)
                cur.execute("SELECT value FROM meta WHERE key = 'street_name'")
                found = cur.fetchone()
                if found is not None and not replace:
                    raise dbopen.DatabaseError(
                        "pg_not_empty", redacted(url), t("dberr_pg_not_empty", url=redacted(url), street=found[0]),
                        t("dberr_pg_not_empty_hint"),
                    )  # fmt: skip
                cur.execute(f"TRUNCATE {', '.join(ALL_TABLES)}")
                for table, frame in (("grids", grids), ("cases", cases), ("resources", resources)):
                    copy_in(cur, table, frame, STREET_TABLES[table][1], version=1)
                rows = {**{k: str(v) for k, v in meta.items()}, "data_version": "1", "generation": uuid.uuid4().hex}
                cur.executemany("INSERT INTO meta VALUES (%s, %s)", list(rows.items()))
                for user in users or ():
                    cur.execute(pg_sql(schema.USER_INSERT), {"created_at": clock.now(), **user})
                for table, frame in (records or {}).items():
                    copy_in(cur, table, frame, list(frame.columns))
                cur.execute("SELECT setval('import_ids', coalesce((SELECT max(import_id) FROM imports), 0) + 1, false)")
    except psycopg.OperationalError as err:
        raise unreachable(url, err) from err


COPIED_RECORDS = ("users", "audit", "imports", "import_rejects")


def copy_street(source: Any, url: str, *, replace: bool = False) -> dict[str, int]:
    """Everything in a DuckDB street (``source``, a ``Store``) into PostgreSQL: the street, its users
    (with their password hashes), audit log and imports. Log-in sessions are not copied: users log in again."""
    street = {name: source.query(f"SELECT * FROM {name}") for name in STREET_TABLES}
    records = {name: source.records_query(f"SELECT * FROM {name}") for name in COPIED_RECORDS}
    meta = {k: v for k, v in source.meta().items() if k != "data_version"}
    write_street(url, street["grids"], street["cases"], street["resources"], meta, replace=replace, records=records)
    return {name: len(frame) for name, frame in {**street, **records}.items()}


class PgStore(Accountability, Analysis, Accounts, Imports, Settings):
    """The street in PostgreSQL; the figures from this process's DuckDB copy of it (see the module's text)."""

    def __init__(self, url: str, *, write: bool | None = None, pool_size: int = 8) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._import_lock = threading.Lock()
        self._auth_lock = threading.RLock()
        self._sync_lock = threading.Lock()
        self._sync_failed = False  # the last bringing up to date in the background failed
        self.write_problem = None
        self.read_only_reason = None
        self.read_only = False
        self._version: int | None = None  # the data version the copy holds
        self._generation: str | None = None  # which street it is a copy of (new on every write_street, restore)
        self._grid_count = 0
        try:
            self._pool = psycopg_pool.ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                kwargs={"autocommit": True},
                open=True,
                timeout=15,
                # a connection broken by a server restart is replaced before use, not handed to a page
                check=psycopg_pool.ConnectionPool.check_connection,
            )
            self._pool.wait(timeout=10)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as err:
            with contextlib.suppress(Exception):
                self._pool.close()
            raise unreachable(url, err) from err
        _remove_orphans()
        self._dir = Path(tempfile.mkdtemp(prefix=f"{COPY_PREFIX}{os.getpid()}-"))
        self.path = self._dir / "street.duckdb"  # this process's copy of the street, read when first needed
        self._con = duckdb.connect(str(self.path))
        self._con.execute(schema.SCHEMA)
        with self._pool.connection() as conn:
            ensure_schema(conn)
        atexit.register(self.close)  # a stopped server takes its copy away (a killed one: _remove_orphans)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._pool.close()
        self._close_file()
        self._con = None
        shutil.rmtree(self._dir, ignore_errors=True)
        atexit.unregister(self.close)

    def __repr__(self) -> str:
        return f"PgStore({redacted(self.url)!r})"

    # ---- PostgreSQL -----------------------------------------------------------------

    @contextlib.contextmanager
    def _pg(self) -> Iterator[psycopg.Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as err:
            raise unreachable(self.url, err) from err

    def records_query(self, text: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        with self._pg() as conn, conn.cursor() as cur:
            cur.execute(pg_sql(text), dict(params or {}))
            return _frame(cur)

    def records_rows(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._pg() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            cur.execute(pg_sql(text), dict(params or {}))
            return list(cur.fetchall())

    def records_exec(self, text: str, params: Mapping[str, Any] | None = None) -> None:
        with self._pg() as conn:
            conn.execute(pg_sql(text), dict(params or {}))

    @contextlib.contextmanager
    def records_transaction(self) -> Iterator[Any]:
        with self._pg() as conn, conn.transaction(), conn.cursor() as cur:
            yield PgCursor(cur)

    def meta(self, wait: bool = True) -> dict[str, str]:
        """The street's meta data from PostgreSQL; the data version is the copy's, brought up to date first.

        Figures are cached under the data version: it must be the one of the rows they were computed from.
        """
        with self._pg() as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if self._version is None:  # no figure read yet (a command that only changes users): no copy either
            return meta
        if int(meta.get("data_version") or 0) != self._version or meta.get("generation") != self._generation:
            if wait:
                self.sync()
            else:
                self._sync_behind()
        meta["data_version"] = str(self._version)
        return meta

    def _sync_behind(self) -> None:
        """Bring the copy up to date in a thread of its own, unless one is at it already; return at once.

        A page run asks this way (``meta(wait=False)``): it draws the figures it holds for the version the copy
        holds (the copy takes the new rows in one transaction), instead of every page run of the process
        waiting for the rows of a big import. A figure not cached yet waits (``cursor``) and is computed from
        the new rows. If the last try in the background failed, this one is made here, and its error shown.
        """
        if self._sync_failed:
            self._sync_failed = False
            self.sync()
            return
        if not self._sync_lock.acquire(blocking=False):
            return

        def run() -> None:
            try:
                self._sync()
            except Exception:  # the next page run tries again, in its own run, and shows the error
                self._sync_failed = True
                logging.getLogger("gridpulse.db").exception("bringing the copy of the street up to date failed")
            finally:
                self._sync_lock.release()

        try:
            threading.Thread(target=run, name="gridpulse-sync", daemon=True).start()
        except BaseException:
            self._sync_lock.release()
            raise

    def cursor(self) -> Any:
        """A cursor on this process's copy of the street, brought up to the server's data version first.

        One small read per query (the version and generation); the copy itself is read on first use
        and then only the rows written since.
        """
        if self._version is None or self._behind():
            self.sync()
        return super().cursor()

    def _behind(self) -> bool:
        with self._pg() as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('data_version', 'generation')"))
        return int(meta.get("data_version") or 0) != self._version or meta.get("generation") != self._generation

    def _refresh(self) -> None:
        """After a write through this store: the copy follows, if this process keeps one."""
        if self._version is not None:
            self.sync()

    def bump_data_version(self) -> None:
        with self._pg() as conn, conn.transaction():
            _bump(conn.cursor())

    def drop_fixed_as_of(self) -> None:
        self.records_exec("DELETE FROM meta WHERE key = 'as_of'")
        self.bump_data_version()

    # ---- this process's copy of the street ---------------------------------------------

    def sync(self) -> int:
        """Bring the copy up to the data version in PostgreSQL: the rows written since, in one transaction.

        A street written anew or restored from a backup has a new ``generation``: the copy is then read whole.
        One sync at a time per process, from reading the server to applying the rows: page runs of
        other sessions that find the version changed wait here, then find the copy up to date.
        """
        with self._sync_lock:
            return self._sync()

    def _sync(self) -> int:
        with self._pg() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")  # one snapshot of all tables
            meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('data_version', 'generation')"))
            version, generation = int(meta.get("data_version") or 0), meta.get("generation")
            if version == self._version and generation == self._generation:
                return version
            whole = self._version is None or generation != self._generation
            since = -1 if whole else self._version
            count, newest = conn.execute("SELECT count(*), coalesce(max(version), -1) FROM grids").fetchone()
            whole_grids = whole or newest > since or count != self._grid_count
            files = {}
            for table, (_key, cols) in STREET_TABLES.items():
                if table == "grids" and not whole_grids:
                    continue
                where = "" if table == "grids" else f"WHERE version > {int(since)}"
                target = self._dir / f"{table}.csv"
                sql = f"COPY (SELECT {', '.join(cols)} FROM {table} {where}) TO STDOUT (FORMAT csv)"
                with conn.cursor().copy(sql) as copy, open(target, "wb") as fh:
                    for block in copy:
                        fh.write(block)
                files[table] = target
        self._apply(files, whole=whole)
        self._version, self._generation, self._grid_count = version, generation, count
        for target in files.values():
            target.unlink(missing_ok=True)
        return version

    def _apply(self, files: Mapping[str, Path], whole: bool) -> None:
        with Connection.cursor(self) as cur:
            cur.begin()
            try:
                for table, target in files.items():
                    _key, cols = STREET_TABLES[table]
                    types = dict(cur.execute(f"SELECT column_name, data_type FROM duckdb_columns() "
                                             f"WHERE table_name = '{table}' AND database_name = current_database()"
                                             ).fetchall())  # fmt: skip
                    read = {c: "VARCHAR" if types[c] == "BLOB" else types[c] for c in cols}
                    select = ", ".join(f"unhex(substr({c}, 3)) AS {c}" if types[c] == "BLOB" else c for c in cols)
                    source = (
                        f"SELECT {select} FROM read_csv($file, header = false, columns = $columns, "
                        f"allow_quoted_nulls = false, auto_detect = false, quote = '\"', escape = '\"', delim = ',', "
                        f"new_line = '\\n')"
                    )
                    if whole or table == "grids":
                        cur.execute(f"DELETE FROM {table}")
                    verb = "INSERT" if whole or table == "grids" else "INSERT OR REPLACE"
                    cur.execute(f"{verb} INTO {table} ({', '.join(cols)}) {source}", {"file": str(target),
                                                                                        "columns": read})  # fmt: skip
                cur.commit()
            except BaseException:
                cur.rollback()
                raise

    # ---- imports: the street written in PostgreSQL, in one transaction -------------------

    def import_rows(
        self,
        kind: str,
        batches: Iterable[tuple[pd.DataFrame, pd.DataFrame]],
        columns: list[str],
        info: Mapping[str, Any],
        warnings: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """As the embedded store's (imports.py): the same counts, rejects and audit line, in PostgreSQL."""
        table, key = IMPORT_TABLES[kind]
        cols = STREET_TABLES[table][1]
        with self._import_lock, self._pg() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(_WRITE_LOCK)  # imports from every process queue here
            cur.execute(f"CREATE TEMP TABLE stage ON COMMIT DROP AS "
                        f"SELECT 0::BIGINT AS row_number, {', '.join(cols)} FROM {table} LIMIT 0")  # fmt: skip
            cur.execute("CREATE TEMP TABLE stage_rejects (row_number BIGINT, raw TEXT, reasons TEXT) ON COMMIT DROP")
            for rows, rejects in batches:
                if len(rows):
                    copy_in(cur, "stage", rows, ["row_number", *[c for c in cols if c in rows]])
                if len(rejects):
                    copy_in(cur, "stage_rejects", rejects, ["row_number", "raw", "reasons"])
            cur.execute(f"CREATE TEMP TABLE stage_last ON COMMIT DROP AS SELECT {key}, max(row_number) AS keep "
                        f"FROM stage GROUP BY {key} HAVING count(*) > 1")  # fmt: skip
            cur.execute(
                f"""INSERT INTO stage_rejects
                    SELECT s.row_number, row_to_json(s)::TEXT, replace(%(reason)s, '{{row}}', l.keep::TEXT)
                    FROM stage s JOIN stage_last l USING ({key}) WHERE s.row_number < l.keep""",
                {"reason": t("rej_duplicate_id", row="{row}")},
            )
            duplicates = cur.rowcount
            cur.execute(f"DELETE FROM stage s USING stage_last l WHERE s.{key} = l.{key} AND s.row_number < l.keep")
            changed = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in columns if c != key) or "FALSE"
            cur.execute(f"""
                SELECT count(*) FILTER (WHERE t.{key} IS NULL),
                       count(*) FILTER (WHERE t.{key} IS NOT NULL AND ({changed})),
                       count(*) FILTER (WHERE t.{key} IS NOT NULL AND NOT ({changed}))
                FROM stage s LEFT JOIN {table} t USING ({key})""")
            inserted, updated, unchanged = (int(v) for v in cur.fetchone())
            version = _bump(cur)
            cur.execute(  # new rows: every staged column (what the file gave and what the importer derived)
                f"""INSERT INTO {table} ({", ".join(cols)}, version)
                    SELECT {", ".join(f"s.{c}" for c in cols)}, %(v)s FROM stage s
                    WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{key})""",
                {"v": version},
            )
            assignments = ", ".join(f"{c} = s.{c}" for c in columns if c != key)
            if assignments and updated:
                cur.execute(
                    f"UPDATE {table} t SET {assignments}, version = %(v)s FROM stage s "
                    f"WHERE t.{key} = s.{key} AND ({changed})",
                    {"v": version},
                )
            cur.execute("SELECT count(*) FROM stage_rejects")
            rejected = int(cur.fetchone()[0])
            record = rows_record(info, kind, (inserted, updated, unchanged, rejected), duplicates, warnings)
            self._log_import(PgCursor(cur), record, "stage_rejects", bump=False)
        self._refresh()
        return record

    def replace_grids(
        self,
        grids: pd.DataFrame,
        rejects: pd.DataFrame,
        info: Mapping[str, Any],
        assign: Callable[[Any, Any], Any],
        chunk: int = 500_000,
    ) -> dict[str, Any]:
        """As the embedded store's: a new layer, every case and resource joined to it again, in one transaction."""
        with self._import_lock, self._pg() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(_WRITE_LOCK)
            version = _bump(cur)
            cur.execute("SELECT grid_code, grid_name, community FROM grids")
            old = _frame(cur)
            existing = set(old["grid_code"]) if len(old) else set()
            cur.execute("DELETE FROM grids")
            copy_in(cur, "grids", grids, schema.GRID_COLUMNS, version=version)
            moved = 0
            for table, key in (("cases", "case_id"), ("resources", "resource_id")):
                moved += _rejoin(cur, table, key, assign, chunk, version)
            renamed = renumbered(old, grids) if len(old) else pd.DataFrame(columns=["old_code", "new_code"])
            if len(renamed):  # placed by name in a grid the new layer renumbered: the grid of that name
                cur.execute("CREATE TEMP TABLE renumbered (old_code TEXT, new_code TEXT) ON COMMIT DROP")
                copy_in(cur, "renumbered", renamed, ["old_code", "new_code"])
                cur.execute(
                    """UPDATE cases c SET grid_code = r.new_code, version = %(v)s FROM renumbered r
                       WHERE c.placement = 'name' AND c.grid_code = r.old_code""",
                    {"v": version},
                )
            cur.execute(
                """UPDATE cases SET grid_code = NULL, placement = NULL, version = %(v)s
                   WHERE placement = 'name' AND grid_code NOT IN (SELECT grid_code FROM grids)""",
                {"v": version},
            )
            record = grids_record(info, grids, rejects, existing, moved)
            cur.execute("CREATE TEMP TABLE incoming_rejects (row_number BIGINT, raw TEXT, reasons TEXT) ON COMMIT DROP")
            copy_in(cur, "incoming_rejects", rejects.reindex(columns=["row_number", "raw", "reasons"]),
                    ["row_number", "raw", "reasons"])  # fmt: skip
            self._log_import(PgCursor(cur), record, "incoming_rejects", bump=False)
        self._refresh()
        return record


def _bump(cur: psycopg.Cursor) -> int:
    """The next data version, written in the caller's transaction (whose rows are stamped with it)."""
    cur.execute(
        """INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT (key)
           DO UPDATE SET value = (coalesce(meta.value, '0')::BIGINT + 1)::TEXT RETURNING value"""
    )
    return int(cur.fetchone()[0])


def _rejoin(
    cur: psycopg.Cursor, table: str, key: str, assign: Callable[[Any, Any], Any], chunk: int, version: int
) -> int:
    """Join every located row of ``table`` to the new grids; returns how many changed grid."""
    extra = ", placement" if table == "cases" else ""
    cur.execute(f"SELECT {key}, lon, lat, grid_code{extra} FROM {table} WHERE lon IS NOT NULL")
    rows = _frame(cur)
    if rows.empty:
        return 0
    cur.execute(f"CREATE TEMP TABLE incoming_{table} ({key} TEXT, grid_code TEXT) ON COMMIT DROP")
    moved = 0
    for start in range(0, len(rows), chunk):
        part = rows.iloc[start : start + chunk]
        new = pd.DataFrame(
            {key: part[key].to_numpy(), "grid_code": assign(part["lon"].to_numpy(), part["lat"].to_numpy())}
        )
        moved += count_moved(part["grid_code"], new["grid_code"])
        copy_in(cur, f"incoming_{table}", new, [key, "grid_code"])
    placement = ", placement = CASE WHEN n.grid_code IS NULL THEN NULL ELSE 'point' END" if extra else ""
    differs = "t.grid_code IS DISTINCT FROM n.grid_code" + (
        " OR t.placement IS DISTINCT FROM (CASE WHEN n.grid_code IS NULL THEN NULL ELSE 'point' END)" if extra else ""
    )
    cur.execute(
        f"UPDATE {table} t SET grid_code = n.grid_code{placement}, version = %(v)s FROM incoming_{table} n "
        f"WHERE t.{key} = n.{key} AND ({differs})",
        {"v": version},
    )
    return moved
