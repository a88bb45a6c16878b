"""The one place that caches: a store per database file, view results per filter set.

Keys include the database file's path and modification time, so a regenerated or
re-imported database is never answered from an old cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import streamlit as st

from gridpulse import config
from gridpulse.db import Store
from gridpulse.scope import Scope

P = ParamSpec("P")
R = TypeVar("R")


_stores: dict[str, tuple[float, Store]] = {}
_stores_lock = threading.Lock()


def store() -> Store:
    """The open store for the configured database; reopened when the file is replaced.

    DuckDB keeps one instance per path, so the old connection is closed before the new
    file is opened, or the new one would still read the replaced file.
    """
    path = config.db_path()
    mtime = path.stat().st_mtime
    with _stores_lock:
        known = _stores.get(str(path))
        if known and known[0] == mtime:
            return known[1]
        if known:
            known[1].close()
        opened = Store(path)
        _stores[str(path)] = (mtime, opened)
        return opened


def _db_key() -> str:
    path = config.db_path()
    return f"{path}:{path.stat().st_mtime}"


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
