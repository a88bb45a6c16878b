"""``python -m gridpulse bench``: how the dashboard's data work scales with the number of cases.

Each street size runs in its own process (so peak memory is that size's own) and
reports: demo generation time; grid assignment throughput (raster index vs GeoPandas
sjoin, same answers); each page's data work through the functions the page calls,
cold (just opened) and warm (again, Streamlit's cache aside: what a filter change
costs); each map's HTML size; peak RSS. A naive baseline is measured in the same
run: every rerun loads all cases into pandas and computes there, and the heat layer
gets raw points. Figures are medians of repeats.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import HeatMap

from geo import join, shapes
from gridpulse import config, demo, maps, views
from gridpulse.filters import Filters, default_period
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.strings import t

SIZES = (20_000, 200_000, 1_000_000)
QUICK_SIZES = (20_000, 100_000)
FULL_EXTRA = (5_000_000,)
REPEATS = 5
STREET = Scope.street()
LEVELS = {lv: f"L{lv}" for lv in views.MATRIX_LEVELS}


def _period(store: Store) -> Filters:
    """The dashboard's default period: the last six months up to the data's 'now'."""
    as_of = store.as_of().date()
    start, end = default_period(as_of, date(2000, 1, 1))
    return Filters(start, end)


def page_work(store: Store, f: Filters) -> dict[str, Callable[[], Any]]:
    """The data work of each page: the same view and map functions the page calls."""
    as_of = store.as_of()

    def overview() -> Any:
        return (views.overview_kpis(store, STREET, f, as_of), views.monthly_trend(store, STREET, f),
                views.top_categories(store, STREET, f), views.filter_options(store, STREET))  # fmt: skip

    def heatmap() -> str:
        perf = views.grid_performance(store, STREET, f, as_of)
        m, _ = maps.grid_metric_map(views.grid_shapes(store, STREET, f), perf, "cases_per_100",
                                    views.heat_cells(store, STREET, f))  # fmt: skip
        return maps.map_html(m)

    def service_matrix() -> str:
        views.service_matrix_by_community(store, STREET, f)
        by_grid = views.service_matrix_by_grid(store, STREET, f)
        m = maps.service_matrix_map(views.grid_shapes(store, STREET, f), by_grid,
                                    views.service_points(store, STREET, f), LEVELS)  # fmt: skip
        return maps.map_html(m)

    def resolution() -> str:
        perf = views.grid_performance(store, STREET, f, as_of)
        views.ranking_table(perf)
        views.level_shares(perf)
        m, _ = maps.grid_metric_map(views.grid_shapes(store, STREET, f), perf, "resolution_rate")
        return maps.map_html(m)

    return {"overview": overview, "heatmap": heatmap, "service_matrix": service_matrix, "resolution": resolution}


def naive_work(store: Store, f: Filters) -> dict[str, Callable[[], Any]]:
    """The baseline a quick prototype would be: all rows into pandas on every rerun."""

    def load() -> pd.DataFrame:
        return store.query("SELECT * FROM cases")  # the whole table, every time

    def overview() -> Any:
        df = load()
        rep = df[(df["reported_at"] >= f.start_ts) & (df["reported_at"] < f.end_ts)]
        res = df[(df["resolved_at"] >= f.start_ts) & (df["resolved_at"] < f.end_ts)]
        return len(rep), len(res), (res["resolved_at"] <= res["deadline_at"]).mean(), rep["category"].value_counts()

    def heatmap() -> str:
        df = load()
        rep = df[(df["reported_at"] >= f.start_ts) & (df["reported_at"] < f.end_ts)].dropna(subset=["lat", "lon"])
        grids = shapes.grids_frame(store.grid_shapes(STREET))
        rep = rep.drop(columns="grid_code")  # the naive way joins again on every rerun
        pts = gpd.GeoDataFrame(rep, geometry=gpd.points_from_xy(rep["lon"], rep["lat"]), crs=shapes.WGS84)
        counts = gpd.sjoin(pts, grids[["grid_code", "geometry"]], predicate="intersects")["grid_code"].value_counts()
        m = folium.Map(tiles=None)
        folium.GeoJson(grids.assign(cases=grids["grid_code"].map(counts).fillna(0)).to_json()).add_to(m)
        HeatMap(rep[["lat", "lon"]].to_numpy().tolist()).add_to(m)
        return m.get_root().render()

    return {"overview": overview, "heatmap": heatmap}


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_one(n: int, workdir: Path, seed: int = config.DEMO_SEED) -> dict[str, Any]:
    """Generate one street (in its own process, so its memory peak is its own)."""
    began = time.perf_counter()
    demo.generate(workdir / f"bench_{n}.duckdb", n, seed)
    return {"generate_s": time.perf_counter() - began, "rss_generate_mb": _peak_rss_mb()}


def _child(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "gridpulse", "bench", *args], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_one(n: int, workdir: Path) -> dict[str, Any]:
    """Every figure for one street size; the street is generated by a child process first."""
    path = workdir / f"bench_{n}.duckdb"
    out: dict[str, Any] = {"cases": n, **_child("--generate", str(n), "--workdir", str(workdir))}

    store = Store(path)  # cold: a newly opened database, nothing cached
    f = _period(store)
    work = page_work(store, f)
    for page, fn in work.items():
        began = time.perf_counter()
        result = fn()
        out[f"{page}_cold_s"] = time.perf_counter() - began
        out[f"{page}_warm_s"], result = _median_time(fn, REPEATS)
        if isinstance(result, str):
            out[f"{page}_map_bytes"] = len(result.encode())
    out["rss_mb"] = _peak_rss_mb()  # the dashboard's own work: before the naive baseline loads everything
    pts = store.query("SELECT lon, lat FROM cases")
    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    grids = shapes.grids_frame(store.grid_shapes(STREET))
    began = time.perf_counter()
    index = join.GridIndex(grids)
    out["index_build_s"] = time.perf_counter() - began
    fast_s, fast = _median_time(lambda: index.assign(lon, lat), 3)
    sample = min(n, 1_000_000)  # GeoPandas at 5M would take minutes: its rate is measured on 1M
    gpd_s, ref = _median_time(lambda: join.assign_grids(lon[:sample], lat[:sample], grids), 1)
    out["join_pts_per_s"] = n / fast_s
    out["join_gpd_pts_per_s"] = sample / gpd_s
    out["join_identical"] = bool(np.array_equal(fast[:sample], ref))

    for page, fn in naive_work(store, f).items():
        out[f"naive_{page}_s"], result = _median_time(fn, 3 if n <= 1_000_000 else 1)
        if isinstance(result, str):
            out[f"naive_{page}_map_bytes"] = len(result.encode())
    store.close()
    path.unlink(missing_ok=True)
    return out


ROWS = [
    # (label's text key, key, unit, naive key): the table's rows
    ("bench_generate", "generate_s", "s", None),
    ("bench_join_index", "join_pts_per_s", "pts/s", "join_gpd_pts_per_s"),
    ("bench_join_gpd", "join_gpd_pts_per_s", "pts/s", None),
    ("bench_index_build", "index_build_s", "s", None),
    ("bench_overview_cold", "overview_cold_s", "s", "naive_overview_s"),
    ("bench_overview_warm", "overview_warm_s", "s", "naive_overview_s"),
    ("bench_heatmap_cold", "heatmap_cold_s", "s", "naive_heatmap_s"),
    ("bench_heatmap_warm", "heatmap_warm_s", "s", "naive_heatmap_s"),
    ("bench_matrix_cold", "service_matrix_cold_s", "s", None),
    ("bench_matrix_warm", "service_matrix_warm_s", "s", None),
    ("bench_resolution_cold", "resolution_cold_s", "s", None),
    ("bench_resolution_warm", "resolution_warm_s", "s", None),
    ("bench_heatmap_html", "heatmap_map_bytes", "B", "naive_heatmap_map_bytes"),
    ("bench_matrix_html", "service_matrix_map_bytes", "B", None),
    ("bench_resolution_html", "resolution_map_bytes", "B", None),
    ("bench_rss_pages", "rss_mb", "MB", None),
    ("bench_rss_generate", "rss_generate_mb", "MB", None),
]


def _fmt(value: float, unit: str) -> str:
    if unit == "pts/s":
        return f"{value / 1e6:.2f}M/s"
    if unit == "B":
        return f"{value / 1024:.0f}KB"
    if unit == "MB":
        return f"{value:.0f}MB"
    return f"{value:.3f}s" if value < 10 else f"{value:.1f}s"


def table(results: list[dict[str, Any]]) -> str:
    """One row per figure, one column per size: value (×vs first size; ×vs naive)."""
    base = results[0]
    head = [t("bench_metric")] + [f"{r['cases']:,}" for r in results]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for label, key, unit, naive in ROWS:
        cells = [t(label)]
        for r in results:
            v = r.get(key)
            if v is None:
                cells.append("—")
                continue
            cell = _fmt(v, unit) + f" (×{v / base[key]:.2f} vs {base['cases'] // 1000}k"
            if naive and r.get(naive):
                cell += f"; ×{v / r[naive]:.3f} vs naive"
            cells.append(cell + ")")
        lines.append(" | ".join(cells))
    ok = all(r["join_identical"] for r in results)
    lines.append("\n" + t("bench_join_identical", answer=t("bench_yes" if ok else "bench_no")))
    return "\n".join(lines)


def run(sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            print(t("bench_progress", n=n), file=sys.stderr, flush=True)
            results.append(_child("--one", str(n), "--workdir", tmp))
    return results
