"""Street-wide results shared by every user's views, computed once per data version and kept for a while.

Several figures are taken over the whole street whatever the user's scope (the fair ranking, the
early-warning baseline) and only then cut to the rows the scope may see. Each scope's view is cached
apart (``gridpulse.ui.cache``), so without this the street-wide work was redone once per grid head.
Keyed by the database's identity (a replaced file is never answered from here) and its data version,
plus whatever the caller names; bounded, least recently used first out.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import pandas as pd

from gridpulse.store import Store

KEPT = 64

_MEMO: OrderedDict[tuple[Any, ...], pd.DataFrame] = OrderedDict()
_LOCK = threading.Lock()
_COMPUTING: dict[tuple[Any, ...], threading.Lock] = {}  # one lock per key being computed


def street_key(store: Store, meta: Mapping[str, str] | None = None) -> tuple[Any, ...]:
    """The database's identity and its data version (from ``meta`` if the caller has read it already)."""
    info = os.stat(store.path)
    return str(store.path), info.st_dev, info.st_ino, store.data_version(meta)


def shared(
    store: Store,
    key: tuple[Hashable, ...],
    compute: Callable[[], pd.DataFrame],
    meta: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``compute()``, or a copy of what it gave for the same street, data version and ``key``.

    ``meta``: the store's meta data if the caller read it already (one read, not two, per call).
    """
    full = (*street_key(store, meta), *key)
    with _LOCK:
        computing = _COMPUTING.setdefault(full, threading.Lock())
    with computing:  # the first asker computes; the others (a dozen grid heads logging in at once) wait for it
        with _LOCK:
            known = _MEMO.get(full)
            if known is not None:
                _MEMO.move_to_end(full)
                return known.copy()
        try:
            rows = compute()
        except BaseException:
            with _LOCK:
                _COMPUTING.pop(full, None)
            raise
        with _LOCK:  # kept before its lock goes: a later asker finds it
            _MEMO[full] = rows
            _COMPUTING.pop(full, None)
            while len(_MEMO) > KEPT:
                _MEMO.popitem(last=False)
    return rows.copy()
