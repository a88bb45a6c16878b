"""A new data version from another process is made ready before it is shown (gridpulse/ui/cache.py)."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gridpulse.ui import cache

COMPUTED: list[tuple[str, int]] = []


def _figure(store: Any, label: str, value: Any) -> pd.DataFrame:
    """A view, as the cache calls it: counts its computations."""
    COMPUTED.append((label, value))
    return pd.DataFrame({"v": [str(value)]})


THEN = datetime(2026, 3, 31, 9, 41)  # the as-of of the runs that asked (a real street: the clock's minute)


@pytest.fixture
def shared(db_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warming of the shared store (several processes), on a fresh state."""
    monkeypatch.setattr(cache, "is_shared", lambda _target: True)
    monkeypatch.setattr(cache, "as_of", lambda: THEN)
    monkeypatch.setattr(cache, "_asked", {})
    monkeypatch.setattr(cache, "_warming", {"shown": None, "next": None, "since": 0.0})
    COMPUTED.clear()
    cache._cached.clear()


def _finish_warming() -> None:
    for thread in threading.enumerate():
        if thread.name == "gridpulse-warm":
            thread.join(timeout=30)


def _asks(db_key: str, label: str, value: Any) -> None:
    """A page's view call (``cache.view`` without the session): remembered, then answered."""
    cache._note(_figure, None, (label, value), ())
    cache._call(db_key, _figure, None, (label, value), ())


def test_the_figures_asked_for_are_computed_under_the_new_version_before_it_is_shown(shared: None) -> None:
    assert cache._served("v1") == "v1"
    _asks("v1", "a", 1)
    _asks("v1", "b", THEN)  # a figure taken as of the run's moment
    assert COMPUTED == [("a", 1), ("b", THEN)]

    assert cache._served("v2") == "v1"  # another process imported: the version before is drawn meanwhile
    _finish_warming()
    now = cache.store().as_of(cache.store().meta())  # the as-of when the new version was made ready
    assert sorted(COMPUTED[2:], key=str) == sorted([("a", 1), ("b", now)], key=str)
    assert cache._served("v2") == "v2"
    cache._call("v2", _figure, None, ("a", 1), ())
    cache._call("v2", _figure, None, ("b", now), ())
    assert len(COMPUTED) == 4  # the pages find them ready


def test_remembered_calls_stay_bounded(shared: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cache._served("v1")
    monkeypatch.setattr(cache, "ASKED_MAX", 10)
    for i in range(25):
        cache._note(_figure, None, ("a", i), ())
    assert len(cache._asked) <= 10
    assert any("24" in key for key in cache._asked)  # the latest are kept


def test_the_new_version_is_shown_after_the_longest_wait_however_far_the_warming_got(
    shared: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache._served("v1") == "v1"
    monkeypatch.setattr(cache, "_warm", lambda _newest: None)  # a warming that never ends
    assert cache._served("v2") == "v1"
    assert cache._served("v3") == "v1"  # a further import does not put the switch off
    cache._warming["since"] -= cache.WARM_MAX_S + 1
    assert cache._served("v3") == "v3"


def test_the_embedded_store_shows_its_own_imports_at_once(db_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_warming", {"shown": "v1", "next": None, "since": 0.0})
    assert cache._served("v2") == "v2"
    assert cache._warming["next"] is None
