"""The street-wide memo (gridpulse/street_memo.py): computed once for many askers, again for new data."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from gridpulse import street_memo
from gridpulse.store import Store


def _slow(calls: list[int], value: int) -> pd.DataFrame:
    calls.append(value)
    time.sleep(0.2)  # long enough for every other asker to arrive while it is computed
    return pd.DataFrame({"v": [value]})


def test_askers_at_once_share_one_computation_and_each_gets_its_own_copy(fixture_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "street.duckdb"
    shutil.copy(fixture_db, db)
    store = Store(db, write=True)
    calls: list[int] = []
    got: list[pd.DataFrame] = []
    threads = [
        threading.Thread(target=lambda: got.append(street_memo.shared(store, ("t", 1), lambda: _slow(calls, 1))))
        for _ in range(8)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert calls == [1]
    assert [int(g["v"][0]) for g in got] == [1] * 8
    got[0].loc[0, "v"] = 99  # a caller's change stays its own
    assert int(street_memo.shared(store, ("t", 1), lambda: _slow(calls, 2))["v"][0]) == 1
    assert calls == [1]
    # another key, and new data (an import bumps the data version): computed again
    assert int(street_memo.shared(store, ("t", 2), lambda: _slow(calls, 3))["v"][0]) == 3
    store.bump_data_version()
    assert int(street_memo.shared(store, ("t", 1), lambda: _slow(calls, 4))["v"][0]) == 4
    assert calls == [1, 3, 4]
    store.close()


def test_a_failed_computation_is_not_kept(fixture_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "street.duckdb"  # its own file: other tests of this process hold the fixture open
    shutil.copy(fixture_db, db)
    store = Store(db, write=False)

    def broken() -> pd.DataFrame:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        street_memo.shared(store, ("broken",), broken)
    assert int(street_memo.shared(store, ("broken",), lambda: pd.DataFrame({"v": [7]}))["v"][0]) == 7
    store.close()
