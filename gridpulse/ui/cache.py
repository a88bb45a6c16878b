"""The one place that caches: a store per database file, view results per filter set.

Keys include the database file's path and modification time, so a regenerated or
re-imported database is never answered from an old cache.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import streamlit as st

from gridpulse import config
from gridpulse.db import Store

P = ParamSpec("P")
R = TypeVar("R")


@st.cache_resource(show_spinner=False)
def _open(path: str, _mtime: float) -> Store:
    return Store(path)


def store() -> Store:
    path = config.db_path()
    return _open(str(path), path.stat().st_mtime)


def _db_key() -> str:
    path = config.db_path()
    return f"{path}:{path.stat().st_mtime}"


@st.cache_data(show_spinner=False, ttl=3600, max_entries=256)
def _call(db_key: str, fn_name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    from gridpulse import views

    return getattr(views, fn_name)(store(), *args, **dict(kwargs))


def view(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Call ``views.<fn>(store, *args, **kwargs)`` through the cache."""
    return _call(_db_key(), fn.__name__, args, tuple(sorted(kwargs.items())))


def as_of() -> datetime:
    return _call(_db_key(), "as_of", (), ())
