"""The open database of this server process: one ``Store`` per file, shared by every session.

Reopened only when the file is replaced by another; never closed under other users' queries.
"""

from __future__ import annotations

import threading
from pathlib import Path

from gridpulse import config, serving
from gridpulse.store import Store

_stores: dict[str, tuple[tuple[int, int], Store]] = {}
_stores_lock = threading.Lock()


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def store() -> Store:
    """The open store for the configured database; reopened only when the file is replaced.

    An import writes through this same store, so its connection stays open for everyone
    (closing it under other users' queries gave them "Connection already closed!"). Only a
    file replaced by another (a regenerated demo street) is reopened: DuckDB keeps one
    instance per path, so the old connection must be closed first, or the new one would
    still read the replaced file.

    A database that cannot be opened raises ``dbopen.DatabaseError`` (Chinese message and hint):
    missing, unreadable, locked by another program, damaged. Nothing is cached then, so the
    next run tries again (e.g. once the command holding the lock has ended).
    """
    from gridpulse import dbopen

    path = config.db_path()
    try:
        identity = _identity(path)
    except OSError as err:
        raise (dbopen.translate(err, path) or dbopen.problem("io", path, str(err))) from err
    with _stores_lock:
        known = _stores.get(str(path))
        if known and known[0] == identity:
            return known[1]
        if known:
            known[1].close()
        opened = Store(path)
        _stores[str(path)] = (identity, opened)
        if not opened.read_only:
            serving.opened(path)  # the command-line tools may now ask this process (gridpulse/serving.py)
        return opened


def data_key() -> str:
    """What cached figures of this database are keyed by: the file, its identity and its data version."""
    path = config.db_path()
    dev, ino = _identity(path)
    return f"{path}:{dev}:{ino}:{store().data_version()}"
