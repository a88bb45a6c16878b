"""The one place that talks to the database: schema, connection, scoped reads, accounts, imports.

Pages never open the database and nothing above this package imports ``duckdb``. Every
value from outside reaches SQL as a bound parameter; every read of cases, grids or
resources takes the caller's ``Scope`` first. ``Store`` is the facade the rest of the
project uses; each of its parts is a module with one job:

- ``schema``: the tables, and writing a whole street into a new file;
- ``connection``: opening the file, a cursor under the lock, ``query``, the street's meta data;
- ``sql``: the where-builder (scope, filters, period; the deadline expression; masking);
- ``analytics``: scoped reads the figures are computed from;
- ``accountability``: stage timings and the lists a leader acts on (scoped too);
- ``analysis``: weekly counts, cell counts and case points for hot spots, repeats and early warning;
- ``settings``: what an admin sets while the street runs (targets and weights);
- ``accounts``: users, log-in sessions and throttling counters, the audit log;
- ``imports``: imports and grid replacement, in one transaction each;
- ``postgres``: the same store over a PostgreSQL server several processes share (``GRIDPULSE_DB=postgresql://…``),
  its figures computed on a DuckDB copy of the street kept by each process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridpulse.store.accountability import Accountability
from gridpulse.store.accounts import Accounts
from gridpulse.store.analysis import Analysis
from gridpulse.store.connection import StoreError
from gridpulse.store.imports import IMPORT_TABLES, Imports
from gridpulse.store.schema import CASE_COLUMNS, GRID_COLUMNS, RESOURCE_COLUMNS
from gridpulse.store.schema import create_empty as _create_file
from gridpulse.store.schema import write_street as _write_file
from gridpulse.store.settings import Settings


class Store(Accountability, Analysis, Accounts, Imports, Settings):
    """One GridPulse database: everything the dashboard, the CLI and the importers read and write."""


def is_shared(target: object) -> bool:
    """True when ``target`` names a PostgreSQL server (``postgresql://…``) rather than a DuckDB file."""
    return str(target).startswith(("postgresql://", "postgres://"))


def open_store(target: Path | str, write: bool | None = None) -> Store:
    """The store at ``target``: a DuckDB file, or a PostgreSQL URL (the store several processes share)."""
    if is_shared(target):
        from gridpulse.store.postgres import PgStore

        return PgStore(str(target), write=write)  # type: ignore[return-value]
    return Store(Path(target), write=write)


def create_empty(target: Path | str, street_name: str) -> None:
    """A new street with no data yet: a new file, or an empty PostgreSQL database given its name."""
    if is_shared(target):
        import pandas as pd

        empty = {c: pd.DataFrame(columns=cols) for c, cols in
                 (("g", GRID_COLUMNS), ("c", CASE_COLUMNS), ("r", RESOURCE_COLUMNS))}  # fmt: skip
        write_street(target, empty["g"], empty["c"], empty["r"], {"street_name": street_name, "source": "import"})
    else:
        _create_file(Path(target), street_name)


def write_street(target: Path | str, *args: Any, **kwargs: Any) -> None:
    """A whole street into a new DuckDB file, or into a PostgreSQL database (see each ``write_street``)."""
    if is_shared(target):
        from gridpulse.store import postgres

        postgres.write_street(str(target), *args, **kwargs)
    else:
        _write_file(Path(target), *args, **kwargs)


__all__ = [
    "CASE_COLUMNS",
    "GRID_COLUMNS",
    "IMPORT_TABLES",
    "RESOURCE_COLUMNS",
    "Store",
    "StoreError",
    "create_empty",
    "is_shared",
    "open_store",
    "write_street",
]
