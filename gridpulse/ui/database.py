"""The open database of this server process: one ``Store`` per file (or PostgreSQL URL), shared by every session.

Reopened only when the file is replaced by another; never closed under other users' queries.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from gridpulse import config, serving
from gridpulse.store import Store, is_shared, open_store

# Session-state key of this run's (data key, as-of): see ``cache.data_key``; forgotten at every run's start.
RUN_MEMO = "gp_run_data"

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

    target = config.db_target()
    if is_shared(target):  # PostgreSQL: one store per server process, following the data version itself
        with _stores_lock:
            known = _stores.get(str(target))
            if known is None:
                known = ((0, 0), open_store(target))
                _stores[str(target)] = known
            return known[1]
    path = Path(target)
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


def data_key(meta: Mapping[str, str] | None = None) -> str:
    """What cached figures of this database are keyed by: the file, its identity and its data version.

    ``meta``: the store's meta data if already read (``Store.meta``).
    """
    opened = store()
    target = config.db_target()
    if is_shared(target):
        return f"pg:{id(opened)}:{opened.data_version(meta)}"
    dev, ino = _identity(Path(target))
    return f"{target}:{dev}:{ino}:{opened.data_version(meta)}"
