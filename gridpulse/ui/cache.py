"""The one place that caches: view results per function, scope and filter set.

Keys include the database file's path and identity (a regenerated file is another file)
and its data version, which every import bumps in its own transaction: a re-imported
street is never answered from an old cache, and nothing else (a checkpoint, an audit
line, a log-in) throws the cache away. Figures taken "now" on a street without a fixed
as-of are keyed by the minute (``Store.as_of``), not the second.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, ParamSpec, TypeVar

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gridpulse.scope import Scope
from gridpulse.ui import database, session
from gridpulse.ui.database import store

__all__ = ["as_of", "built", "data_key", "deferred", "store", "unscoped", "view"]

P = ParamSpec("P")
R = TypeVar("R")


_PLAIN = (str, int, float, bool, type(None), date, time)  # datetime is a date


def _key_part(value: Any) -> str:
    """A cache key part written out: plain values, tuples of them and dataclasses of them (filters, scopes).

    Streamlit hashes a string at once, where a dataclass goes through pickling on every call;
    anything whose ``repr`` might not say all of it (a DataFrame) is refused rather than keyed wrongly.
    """
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, tuple | list):
        return "(" + ",".join(_key_part(v) for v in value) + ")"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = ",".join(f"{f.name}={_key_part(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__name__}({parts})"
    raise TypeError(f"cannot key a cached figure by a {type(value).__name__}")


def _call(
    db_key: str, fn: Callable[..., Any], scope: Scope | None, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]
) -> Any:
    """``fn(store, [scope,] *args, **kwargs)`` through the cache; the function is called by reference."""
    key = f"{db_key}|{fn.__module__}.{fn.__qualname__}|{_key_part(scope)}|{_key_part(args)}|{_key_part(kwargs)}"
    return _fresh(_cached(key, fn, scope, args, kwargs))


def _fresh(value: Any) -> Any:
    """A cached figure as the caller's own: frames and series are shallow copies (pandas copies on write,
    so a page that changes one changes only its copy); dicts, lists and tuples of them likewise.

    The caches keep the objects themselves (``st.cache_resource``): a hit costs no unpickling, which was
    a tenth of a loaded server's time with ``st.cache_data``. Strings, numbers and frozen dataclasses
    cannot be changed, so they are shared as they are.
    """
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=False)
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return type(value)(_fresh(v) for v in value)
    return value


# Both caches are Streamlit's in-process one: an entry per key (per-key compute lock: one computes, the rest
# wait), at most a day-part's entries, dropped after an hour.
@st.cache_resource(show_spinner=False, ttl=3600, max_entries=4096)
def _cached(
    key: str,
    _fn: Callable[..., Any],
    _scope: Scope | None,
    _args: tuple[Any, ...],
    _kwargs: tuple[tuple[str, Any], ...],
) -> Any:
    """Keyed by ``key`` alone (data key, function, scope, arguments written out): Streamlit hashes no objects."""
    kwargs = dict(_kwargs)
    return _fn(store(), *_args, **kwargs) if _scope is None else _fn(store(), _scope, *_args, **kwargs)


def view(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Call ``fn(store, scope, *args, **kwargs)`` (a function of ``gridpulse.views``) through the cache.

    The scope is the logged-in user's, looked up on the server, and is part of the
    cache key: one user is never answered from another's cache.
    """
    return _call(data_key(), fn, session.current_scope(), args, tuple(sorted(kwargs.items())))


@st.cache_resource(show_spinner=False, ttl=3600, max_entries=4096)
def _built(key: str, _build: Callable[[], Any]) -> Any:
    return _build()


def built(what: tuple[Any, ...], build: Callable[[], R]) -> R:
    """Something a page draws from cached views (a rendered map, a chart's spec, a shaped table), built once.

    Kept per data version, the user's scope and ``what``, which must name everything ``build``
    depends on besides them (the filters, the as-of, the user's choices on the page).
    """
    return _fresh(_built(f"{data_key()}|{_key_part(session.current_scope())}|{_key_part(what)}", build))


def deferred(fn: Callable[..., R], *args: Any, **kwargs: Any) -> Callable[[], R]:
    """``views.<fn>`` bound now to this run's store and scope, to be called later.

    For a download button's deferred data: Streamlit calls it outside the script run,
    where the session (and so the scope) cannot be looked up.
    """
    bound_store, scope = store(), session.current_scope()
    return lambda: fn(bound_store, scope, *args, **kwargs)


def unscoped(fn: Callable[..., R], *args: Any) -> R:
    """Call a view that takes no scope (it returns street-wide aggregates only)."""
    return _call(data_key(), fn, None, args, ())


def _this_run() -> tuple[str, datetime]:
    """The data key and as-of of this script run, read once per run (a page makes dozens of view calls).

    ``session.resolve_user`` forgets them at the start of every run and every fragment rerun, so a
    newer data version (an import in another process) or the next minute is seen at the next click.
    """
    if get_script_run_ctx() is None:  # outside a page run (tools, tests): read now
        return _read_run_key()
    known = st.session_state.get(database.RUN_MEMO)
    if known is None:
        known = _read_run_key()
        st.session_state[database.RUN_MEMO] = known
    return known


def _read_run_key() -> tuple[str, datetime]:
    """The data key and the as-of from one read of the meta data."""
    meta = store().meta()
    return database.data_key(meta), store().as_of(meta)


def data_key() -> str:
    """What cached figures are keyed by (``database.data_key``), as read at the start of this run."""
    return _this_run()[0]


def as_of() -> datetime:
    """Not cached between runs: without a stored ``as_of`` it is the clock, which must not stand still."""
    return _this_run()[1]
