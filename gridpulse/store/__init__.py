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
- ``settings``: what an admin sets while the street runs (targets and weights);
- ``accounts``: users, log-in sessions and throttling counters, the audit log;
- ``imports``: imports and grid replacement, in one transaction each.
"""

from __future__ import annotations

from gridpulse.store.accountability import Accountability
from gridpulse.store.accounts import Accounts
from gridpulse.store.connection import StoreError
from gridpulse.store.imports import IMPORT_TABLES, Imports
from gridpulse.store.schema import CASE_COLUMNS, GRID_COLUMNS, RESOURCE_COLUMNS, create_empty, write_street
from gridpulse.store.settings import Settings


class Store(Accountability, Accounts, Imports, Settings):
    """One GridPulse database: everything the dashboard, the CLI and the importers read and write."""


__all__ = [
    "CASE_COLUMNS",
    "GRID_COLUMNS",
    "IMPORT_TABLES",
    "RESOURCE_COLUMNS",
    "Store",
    "StoreError",
    "create_empty",
    "write_street",
]
