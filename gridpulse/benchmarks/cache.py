"""``python -m gridpulse bench-cache``: how often the view cache answers on a street without a fixed as-of.

A real street has no stored "now": figures are taken as of the clock. This replays office
hours through the dashboard's real cache (``gridpulse.ui.cache``, Streamlit's
``st.cache_resource``): ``users`` people of mixed roles each click every ``every`` seconds
(a click reruns the page; every fourth click opens another page) for ``minutes`` minutes
of a simulated clock, and an import lands half way.
Every view call is counted, and so is every computation behind it (a miss). Two keys are
measured in the same run on the same street:

- today's: figures "as of" the current minute, and the data version an import bumps;
- the baseline (how it was): figures "as of" the current second.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gridpulse import clock, config, demo, views
from gridpulse.filters import Filters, default_period
from gridpulse.scope import GRID_HEAD, SECRETARY, Scope
from gridpulse.strings import t

# The views a page run asks for, with whether they take the moment (as_of).
PAGE_VIEWS: dict[str, list[tuple[str, bool]]] = {
    "overview": [("overview_kpis", True), ("monthly_trend", False), ("top_categories", False)],
    "heatmap": [("grid_performance", True), ("heat_cells", False), ("grid_shapes", False)],
    "resolution": [("grid_performance", True), ("level_totals", True)],
    "open_cases": [("open_cases", True)],
}


@contextmanager
def _simulated_clock(start: datetime) -> Iterator[Callable[[float], None]]:
    """Replace the one clock by a simulated one; yields ``advance(seconds)``."""
    moment = [start]
    real = clock.now
    clock.now = lambda: moment[0].replace(microsecond=0)  # type: ignore[assignment]

    def advance(seconds: float) -> None:
        moment[0] += timedelta(seconds=seconds)

    try:
        yield advance
    finally:
        clock.now = real  # type: ignore[assignment]


@contextmanager
def _counting(names: set[str]) -> Iterator[Counter[str]]:
    """Count the computations of the named views (the cache calls them only on a miss)."""
    computed: Counter[str] = Counter()
    originals = {name: getattr(views, name) for name in names}

    def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            computed[name] += 1
            return fn(*args, **kwargs)

        wrapper.__name__ = name
        return wrapper

    for name, fn in originals.items():
        setattr(views, name, counted(name, fn))
    try:
        yield computed
    finally:
        for name, fn in originals.items():
            setattr(views, name, fn)


def _scopes(store: Any) -> list[Scope]:
    grids = store.grids(Scope.street())
    communities = sorted(grids["community"].unique())
    codes = sorted(grids["grid_code"])
    return (
        [Scope.street()]
        + [Scope(SECRETARY, communities=(c,)) for c in communities[:3]]
        + [Scope(GRID_HEAD, grids=(codes[i], codes[i + 1])) for i in range(0, min(len(codes) - 1, 12), 2)]
    )


def replay(path: Path, users: int, minutes: int, every: int, per_second: bool) -> dict[str, Any]:
    """One office morning through the UI cache; returns calls, computations and seconds spent."""
    from gridpulse.ui import cache

    cache._cached.clear()
    store = cache.store()
    scopes = _scopes(store)
    start = datetime.combine(clock.now().date(), datetime.min.time()) + timedelta(hours=9)
    names = {name for page in PAGE_VIEWS.values() for name, _ in page}
    calls = 0
    spent = 0.0
    pages = list(PAGE_VIEWS)
    with _simulated_clock(start) as advance, _counting(names) as computed:
        for step in range(minutes * 60 // every):
            if step == (minutes * 60 // every) // 2:
                store.bump_data_version()  # an import lands
            for user in range(users):
                scope = scopes[user % len(scopes)]
                as_of = clock.now() if per_second else store.as_of()
                first = date(2000, 1, 1)
                f = Filters(*default_period(as_of.date(), first))
                # A click reruns the page (a map click, a table sort); every fourth one opens another page.
                for name, takes_moment in PAGE_VIEWS[pages[(user + step // 4) % len(pages)]]:
                    args: tuple[Any, ...] = (f, as_of) if takes_moment else (f,)
                    began = time.perf_counter()
                    cache._call(cache.data_key(), getattr(views, name), scope, args, ())
                    spent += time.perf_counter() - began
                    calls += 1
                advance(every / users)
    misses = sum(computed.values())
    return {"calls": calls, "misses": misses, "hit_rate": 1 - misses / calls, "seconds": spent}


def main(cases: int, users: int, minutes: int, every: int) -> str:
    os.environ.setdefault("STREAMLIT_LOG_LEVEL", "error")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "live.duckdb"
        print(t("bench_cache_generating", cases=cases), file=sys.stderr, flush=True)
        demo.generate(path, cases, config.DEMO_SEED)
        os.environ["GRIDPULSE_DB"] = str(path)
        from gridpulse.ui import cache

        cache.store().drop_fixed_as_of()
        today = replay(path, users, minutes, every, per_second=False)
        baseline = replay(path, users, minutes, every, per_second=True)
        cache.store().close()
    lines = [
        t("bench_cache_setup", users=users, every=every, minutes=minutes, cases=cases),
        t("bench_cache_header"),
        "--- | --- | --- | --- | ---",
    ]
    for label, r in ((t("bench_cache_current"), today), (t("bench_cache_baseline"), baseline)):
        lines.append(f"{label} | {r['calls']} | {r['misses']} | {r['hit_rate']:.1%} | {r['seconds']:.1f}s")
    ratio = baseline["seconds"] / today["seconds"] if today["seconds"] else float("inf")
    lines.append("\n" + t("bench_cache_ratio", ratio=ratio))
    return "\n".join(lines)
