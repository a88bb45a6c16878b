"""The one place that caches: a store per database file, view results per filter set.

Keys include the database file's path and identity (a regenerated file is another file)
and its data version, which every import bumps in its own transaction: a re-imported
street is never answered from an old cache, and nothing else (a checkpoint, an audit
line, a log-in) throws the cache away. Figures taken "now" on a street without a fixed
as-of are keyed by the minute (``Store.as_of``), not the second.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import streamlit as st

from gridpulse import config
from gridpulse.db import Store
from gridpulse.scope import Scope

P = ParamSpec("P")
R = TypeVar("R")


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
        return opened


def _db_key() -> str:
    path = config.db_path()
    dev, ino = _identity(path)
    return f"{path}:{dev}:{ino}:{store().data_version()}"


@st.cache_data(show_spinner=False, ttl=3600, max_entries=256)
def _call(
    db_key: str, fn_name: str, scope: Scope | None, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]
) -> Any:
    from gridpulse import views  # resolved at call time: views imports nothing of the UI

    fn = getattr(views, fn_name)
    return fn(store(), *args, **dict(kwargs)) if scope is None else fn(store(), scope, *args, **dict(kwargs))


def view(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Call ``views.<fn>(store, scope, *args, **kwargs)`` through the cache.

    The scope is the logged-in user's, looked up on the server, and is part of the
    cache key: one user is never answered from another's cache.
    """
    from gridpulse.ui import session  # session imports this module

    return _call(_db_key(), fn.__name__, session.current_scope(), args, tuple(sorted(kwargs.items())))


def deferred(fn: Callable[..., R], *args: Any, **kwargs: Any) -> Callable[[], R]:
    """``views.<fn>`` bound now to this run's store and scope, to be called later.

    For a download button's deferred data: Streamlit calls it outside the script run,
    where the session (and so the scope) cannot be looked up.
    """
    from gridpulse.ui import session  # session imports this module

    bound_store, scope = store(), session.current_scope()
    return lambda: fn(bound_store, scope, *args, **kwargs)


def unscoped(fn: Callable[..., R], *args: Any) -> R:
    """Call a view that takes no scope (it returns street-wide aggregates only)."""
    return _call(_db_key(), fn.__name__, None, args, ())


def as_of() -> datetime:
    """Not cached: without a stored ``as_of`` it is the clock, which must not stand still."""
    return store().as_of()
