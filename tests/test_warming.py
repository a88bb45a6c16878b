"""A new data version from another process is made ready before it is shown (gridpulse/ui/cache.py)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gridpulse.ui import cache

COMPUTED: list[tuple[str, int]] = []


def _figure(store: Any, label: str, value: int) -> pd.DataFrame:
    """A view, as the cache calls it: counts its computations."""
    COMPUTED.append((label, value))
    return pd.DataFrame({"v": [value]})


@pytest.fixture
def shared(db_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warming of the shared store (several processes), on a fresh state."""
    monkeypatch.setattr(cache, "is_shared", lambda _target: True)
    monkeypatch.setattr(cache, "_asked", {})
    monkeypatch.setattr(cache, "_warming", {"shown": None, "next": None, "since": 0.0})
    COMPUTED.clear()
    cache._cached.clear()


def _finish_warming() -> None:
    for thread in threading.enumerate():
        if thread.name == "gridpulse-warm":
            thread.join(timeout=30)


def test_the_figures_asked_for_are_computed_under_the_new_version_before_it_is_shown(shared: None) -> None:
    assert cache._served("v1") == "v1"
    cache._call("v1", _figure, None, ("a", 1), ())
    cache._call("v1", _figure, None, ("b", 2), ())
    assert COMPUTED == [("a", 1), ("b", 2)]

    assert cache._served("v2") == "v1"  # another process imported: the version before is drawn meanwhile
    _finish_warming()
    assert sorted(COMPUTED[2:]) == [("a", 1), ("b", 2)]  # both computed again, for v2, in the background
    assert cache._served("v2") == "v2"
    cache._call("v2", _figure, None, ("a", 1), ())
    cache._call("v2", _figure, None, ("b", 2), ())
    assert len(COMPUTED) == 4  # the pages find them ready


def test_the_new_version_is_shown_after_the_longest_wait_however_far_the_warming_got(
    shared: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache._served("v1") == "v1"
    monkeypatch.setattr(cache, "_warm", lambda _newest: None)  # a warming that never ends
    assert cache._served("v2") == "v1"
    cache._warming["since"] -= cache.WARM_MAX_S + 1
    assert cache._served("v2") == "v2"


def test_the_embedded_store_shows_its_own_imports_at_once(db_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_warming", {"shown": "v1", "next": None, "since": 0.0})
    assert cache._served("v2") == "v2"
    assert cache._warming["next"] is None
