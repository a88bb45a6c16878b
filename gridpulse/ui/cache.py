"""The one place that caches: view results per function, scope and filter set.

Keys include the database file's path and identity (a regenerated file is another file)
and its data version, which every import bumps in its own transaction: a re-imported
street is never answered from an old cache, and nothing else (a checkpoint, an audit
line, a log-in) throws the cache away. Figures taken "now" on a street without a fixed
as-of are keyed by the minute (``Store.as_of``), not the second.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time
from time import monotonic
from typing import Any, ParamSpec, TypeVar

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gridpulse import config
from gridpulse.scope import Scope
from gridpulse.store import is_shared
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


Keywords = tuple[tuple[str, Any], ...]


def _call_key(fn: Callable[..., Any], scope: Scope | None, args: tuple[Any, ...], kwargs: Keywords) -> str:
    """A view call written out: function, scope, arguments (without the data key)."""
    return f"{fn.__module__}.{fn.__qualname__}|{_key_part(scope)}|{_key_part(args)}|{_key_part(kwargs)}"


def _call(db_key: str, fn: Callable[..., Any], scope: Scope | None, args: tuple[Any, ...], kwargs: Keywords) -> Any:
    """``fn(store, [scope,] *args, **kwargs)`` through the cache; the function is called by reference."""
    return _fresh(_cached(f"{db_key}|{_call_key(fn, scope, args, kwargs)}", fn, scope, args, kwargs))


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
    scope, keywords = session.current_scope(), tuple(sorted(kwargs.items()))
    _note(fn, scope, args, keywords)
    return _call(data_key(), fn, scope, args, keywords)


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
    _note(fn, None, args, ())
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
    """The data key and the as-of from one read of the meta data (the data key: the one served, ``_served``)."""
    meta = store().meta(wait=False)  # a page run draws what the copy holds while it catches up (PostgreSQL)
    return _served(database.data_key(meta)), store().as_of(meta)


# ---- a new data version from another process, made ready before it is shown ----------------------------
# On the shared store (PostgreSQL, several processes), an import in another process changes the data version
# under every process at once; each would compute every figure its users ask for again, all at the same
# moment (in the benchmark, 50 sessions waited 10 s a click after a 100k-row import). Instead, each process
# keeps drawing the figures it holds for the version before, while one thread of its own computes the figures
# asked for in the last minutes under the new version; then it shows the new version. A figure nobody had asked
# for before is computed meanwhile from the rows there are (the new ones). Pages say so (``updating``). The new
# version is shown after ``WARM_MAX_S`` however far the thread got.
# The embedded store has one process, which makes its imports itself: it shows them at once.

WARM_RECENT_S = 600  # figures asked for in the last ten minutes are computed before the switch
WARM_MAX_S = 30.0  # the longest a newer version waits to be shown, however far the computing got
ASKED_MAX = 2048
_AS_OF = "\x00as_of"  # in a remembered call: the as-of of the run, which is the clock's minute on a real street
_asked: dict[str, tuple[float, Callable[..., Any], Scope | None, tuple[Any, ...], Keywords]] = {}
_warming_lock = threading.Lock()
_warming: dict[str, Any] = {"shown": None, "next": None, "since": 0.0}


def _note(fn: Callable[..., Any], scope: Scope | None, args: tuple[Any, ...], kwargs: Keywords) -> None:
    """Remember a page's call, to compute it again for a newer data version (shared store only).

    The run's as-of stands in the call as a mark, which the computing for the newer version replaces with its
    own as-of: a real street's figures are taken as of the clock's minute, which will have moved on by then.
    """
    if _warming["shown"] is None:  # the embedded store (``_served`` keeps nothing): nothing to make ready
        return
    moment = as_of()
    args = tuple(_AS_OF if a == moment else a for a in args)
    now = monotonic()
    _asked[_call_key(fn, scope, args, kwargs)] = (now, fn, scope, args, kwargs)
    if len(_asked) > ASKED_MAX:  # too many: the older half is forgotten
        for rest, _value in sorted(_asked.items(), key=lambda kv: kv[1][0])[: len(_asked) - ASKED_MAX // 2]:
            _asked.pop(rest, None)


def _served(newest: str) -> str:
    """The data key this run draws from: ``newest``, or the one before while the newest is made ready."""
    if not is_shared(config.db_target()):
        return newest
    with _warming_lock:
        shown = _warming["shown"]
        if shown is None or shown == newest:
            _warming.update(shown=newest, next=None)
            return newest
        if _warming["next"] is None:  # behind since now (imports that follow do not put the switch off)
            _warming["since"] = monotonic()
        if _warming["next"] != newest:
            _warming["next"] = newest
            threading.Thread(target=_warm, args=(newest,), name="gridpulse-warm", daemon=True).start()
        if monotonic() - _warming["since"] > WARM_MAX_S:
            _warming.update(shown=newest, next=None)
            return newest
        return shown


def _warm(newest: str) -> None:
    """Compute the recently asked figures under ``newest`` (most recent first), then show it."""
    began = monotonic()
    moment = store().as_of(store().meta())
    asked = sorted((v for v in list(_asked.values()) if began - v[0] < WARM_RECENT_S), key=lambda v: -v[0])
    done = 0
    for _at, fn, scope, args, kwargs in asked:
        if monotonic() - began > WARM_MAX_S or _warming["next"] != newest:
            break
        try:
            _call(newest, fn, scope, tuple(moment if a == _AS_OF else a for a in args), kwargs)
            done += 1
        except Exception:  # the page that asks for it again shows the error; the rest are still made
            logging.getLogger("gridpulse").exception("computing a figure for a new data version failed")
    with _warming_lock:
        if _warming["next"] == newest:
            _warming.update(shown=newest, next=None)
    logging.getLogger("gridpulse").info(
        "data version %s shown: %d of %d figures computed in %.1f s", newest, done, len(asked), monotonic() - began
    )


def updating() -> bool:
    """Whether a newer data version is being made ready while this run draws the one before."""
    return _warming["next"] is not None and _warming["shown"] == data_key()


def data_key() -> str:
    """What cached figures are keyed by (``database.data_key``), as read at the start of this run."""
    return _this_run()[0]


def as_of() -> datetime:
    """Not cached between runs: without a stored ``as_of`` it is the clock, which must not stand still."""
    return _this_run()[1]
