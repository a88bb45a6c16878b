"""The connection to one database file: opening it, a cursor under the lock, queries, the street's meta data.

Every other part of the store (analytics, accounts, imports) builds on ``Connection``
and reaches SQL only through ``cursor``, ``query`` and ``_exec``. A DuckDB error is
translated here into the project's own ``DatabaseError`` (gridpulse/dbopen.py) or
``StoreError``, so nothing above the store catches ``duckdb.*``. A second backend
(PostgreSQL, for several server processes sharing one database) would be another
``Connection`` with the same methods.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from gridpulse import clock, dbfiles, dbopen
from gridpulse.store import schema


class StoreError(Exception):
    """A database error that is not one of the kinds ``dbopen`` explains (a bug, or a broken query)."""


def translated(err: duckdb.Error, path: Path) -> Exception:
    """The project's own error for a DuckDB error: a ``DatabaseError`` with a Chinese message where one fits."""
    return dbopen.translate(err, path) or StoreError(str(err))


# Every import bumps the data version in its own transaction: the UI's cached figures are keyed by it.
# Plain SQL that DuckDB and PostgreSQL both run (gridpulse/store/postgres.py).
BUMP_DATA_VERSION = """
    INSERT INTO meta
    SELECT 'data_version', CAST(coalesce(max(CAST(value AS BIGINT)), 0) + 1 AS VARCHAR)
    FROM meta WHERE key = 'data_version'
    ON CONFLICT (key) DO UPDATE SET value = excluded.value"""


class Connection:
    """One GridPulse database file. Thread-safe: each query takes its own cursor."""

    def __init__(self, path: Path | str, *, write: bool | None = None) -> None:
        """Open the database at ``path``; a file that cannot be used raises ``dbopen.DatabaseError``.

        ``write``: True must be able to write (the CLI's user changes and imports), False opens
        read-only, None (the dashboard) writes when it can and else opens read-only: then
        ``read_only_reason`` says why, and writes through ``_exec`` (audit lines, log-in counters)
        are not saved but logged, and kept in ``write_problem`` for the page to show; so are
        writes that fail on a full disk. The file is never changed before it has been read whole.
        """
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
                self._con.execute(schema.SCHEMA)  # databases made before a table existed get it now
                self._migrate()
                dbfiles.remove_leftovers(self.path)  # of imports killed midway: they hold residents' data
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
        con = getattr(self, "_con", None)
        if con is None:
            return
        try:
            con.close()
        except duckdb.Error as err:
            dbopen.log.warning("closing %s: %s", self.path, err)

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor of its own for one piece of work: handed out under the lock, closed afterwards.

        DuckDB cursors of one connection may run side by side in threads; creating them may not.
        A DuckDB error raised while the cursor is in use leaves as the project's own (``translated``).
        """
        with self._lock:
            cur = self._con.cursor()
        try:
            yield cur
        except duckdb.Error as err:
            raise translated(err, self.path) from err
        finally:
            cur.close()

    def query(self, text: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Rows of one SQL query with bound parameters (benchmarks and tests read the store this way too)."""
        with self.cursor() as cur:
            return cur.execute(text, dict(params or {})).df()

    def _exec(self, text: str, params: Mapping[str, Any] | None = None) -> None:
        with self.cursor() as cur:
            cur.execute(text, dict(params or {}))

    # ---- the shared records: users, sessions, audit, imports, settings --------------
    # In the embedded store they are in the same file; the PostgreSQL store (postgres.py) sends
    # them to the server every process shares. Their SQL is written so that both run it.

    def records_query(self, text: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.query(text, params)

    def records_rows(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values (no DataFrame: read on every page run)."""
        with self.cursor() as cur:
            cur.execute(text, dict(params or {}))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def records_exec(self, text: str, params: Mapping[str, Any] | None = None) -> None:
        self._exec(text, params)

    @contextlib.contextmanager
    def records_transaction(self) -> Iterator[Any]:
        """A cursor whose statements commit together, or not at all."""
        with self.cursor() as cur:
            cur.begin()
            try:
                yield cur
                cur.commit()
            except BaseException:
                cur.rollback()
                raise

    def copy_to(self, out: Path) -> None:
        """A consistent copy of the whole database in a new file (``python -m gridpulse backup``)."""
        with self.cursor() as cur:
            name = str(cur.execute("SELECT current_database()").fetchone()[0]).replace('"', '""')
            cur.execute("ATTACH $out AS backup", {"out": str(out)})
            try:
                cur.execute(f'COPY FROM DATABASE "{name}" TO backup')
            finally:
                cur.execute("DETACH backup")

    # ---- reference data -------------------------------------------------

    def meta(self, wait: bool = True) -> dict[str, str]:
        """The street's meta data. Read on every view call (data version, as-of): plain rows, no DataFrame.

        ``wait``: for a store that keeps a copy (PostgreSQL), whether to wait for the copy to catch up.
        """
        with self.cursor() as cur:
            return dict(cur.execute("SELECT key, value FROM meta").fetchall())

    def is_demo(self) -> bool:
        return self.meta(wait=False).get("source") == "demo"  # the source is not a figure: no need to wait

    def as_of(self, meta: Mapping[str, str] | None = None) -> datetime:
        """The moment figures are taken at: the demo's fixed 'now', else the clock's minute (Beijing time).

        To the minute, not the second: it is part of every cache key of figures taken "now".
        ``meta``: the meta data already read in this page run (one read serves several questions).
        """
        value = (self.meta() if meta is None else meta).get("as_of")
        return datetime.fromisoformat(value) if value else clock.this_minute()

    def data_version(self, meta: Mapping[str, str] | None = None) -> str:
        """Bumped by every import in the import's own transaction: cached figures are keyed by it."""
        return (self.meta() if meta is None else meta).get("data_version", "0")

    def bump_data_version(self) -> None:
        """The data changed outside an import (imports bump it in their own transaction)."""
        self._exec(BUMP_DATA_VERSION)

    def drop_fixed_as_of(self) -> None:
        """Take figures as of the clock from now on, as on a real street (the benchmark's live street)."""
        self._exec("DELETE FROM meta WHERE key = 'as_of'")
