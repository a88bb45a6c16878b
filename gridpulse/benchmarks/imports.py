"""``python -m gridpulse bench-import``: import speed and memory for 12345-style CSV files.

For each size a GBK CSV with Chinese headers is written (1 % of rows with a bad date,
points spread over the demo street's extent so some fall in no grid) and imported
into a new street database, each in its own process so peak memory is that import's
own. A naive baseline runs in the same way on the same file: the whole file read with
pandas at once and joined with GeoPandas ``sjoin``. Printed: seconds, rows per second,
peak RSS, the share of rows assigned to a grid, and ratios against the smallest size
and against the baseline.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridpulse.strings import t

SIZES = (100_000, 1_000_000)
CATEGORIES = ("环境卫生", "设施维修", "排水积水", "物业服务", "停车管理", "噪声扰民")
WRITE_CHUNK = 100_000


def write_street(path: Path, seed: int = 1) -> tuple[float, float, float, float]:
    """A new (non-demo) database with the demo street's grids; returns their bounds."""
    from gridpulse import demo
    from gridpulse import store as store_pkg

    grids = demo.build_grids(np.random.default_rng(seed))
    rows = pd.DataFrame(grids.drop(columns="geometry"))
    import shapely

    rows["geometry"] = shapely.to_wkb(grids.geometry.values)
    empty_cases = pd.DataFrame(columns=store_pkg.CASE_COLUMNS)
    empty_res = pd.DataFrame(columns=store_pkg.RESOURCE_COLUMNS)
    store_pkg.write_street(path, rows, empty_cases, empty_res, {"street_name": "基准街道", "source": "import"})
    return tuple(grids.total_bounds)  # type: ignore[return-value]


def write_csv(path: Path, n: int, bounds: tuple[float, float, float, float], seed: int = 2) -> None:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    start = pd.Timestamp("2025-01-01").value // 10**9
    with path.open("wb") as fh:
        fh.write("工单编号,受理时间,诉求类别,诉求内容,办结时间,处理状态,经度,纬度,承办单位,满意度\n".encode("gbk"))
        for first in range(0, n, WRITE_CHUNK):
            k = min(WRITE_CHUNK, n - first)
            reported = pd.to_datetime(start + rng.integers(0, 600 * 86400, k), unit="s")
            resolved = reported + pd.to_timedelta(rng.integers(3600, 5 * 86400, k), unit="s")
            done = rng.random(k) < 0.9
            frame = pd.DataFrame({
                "工单编号": [f"B{first + i:08d}" for i in range(k)],
                "受理时间": reported.strftime("%Y-%m-%d %H:%M:%S"),
                "诉求类别": rng.choice(CATEGORIES, k),
                "诉求内容": "楼道堆物影响通行，请尽快处理",
                "办结时间": np.where(done, resolved.strftime("%Y-%m-%d %H:%M:%S"), ""),
                "处理状态": np.where(done, "已办结", "办理中"),
                "经度": np.round(rng.uniform(x0, x1, k), 6), "纬度": np.round(rng.uniform(y0, y1, k), 6),
                "承办单位": "街道城管科", "满意度": rng.choice(["满意", "基本满意", "不满意", ""], k),
            })  # fmt: skip
            bad = rng.random(k) < 0.01
            frame.loc[bad, "受理时间"] = "待补录"
            fh.write(frame.to_csv(index=False, header=False).encode("gbk"))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_ours(db_path: Path, csv_path: Path) -> dict[str, Any]:
    from gridpulse.ingest import run
    from gridpulse.store import Store

    store = Store(db_path)
    try:
        started = time.perf_counter()
        summary = run.import_file(store, "cases", csv_path)
        seconds = time.perf_counter() - started
        assigned = store.query("SELECT count(grid_code) AS a, count(*) AS n FROM cases").iloc[0]
    finally:
        store.close()
    r = summary.record
    return {"seconds": seconds, "rows": r["rows_read"], "inserted": r["inserted"], "rejected": r["rejected"],
            "assigned_share": float(assigned["a"]) / max(int(assigned["n"]), 1), "rss_mb": _peak_rss_mb()}  # fmt: skip


def measure_naive(db_path: Path, csv_path: Path) -> dict[str, Any]:
    """The whole file at once in pandas, joined with GeoPandas sjoin: what a quick script would do."""
    import geopandas as gpd

    from geo import join, shapes
    from gridpulse.scope import Scope
    from gridpulse.store import Store

    store = Store(db_path)
    grids = shapes.grids_frame(store.grid_shapes(Scope.street()))
    store.close()
    started = time.perf_counter()
    frame = pd.read_csv(csv_path, encoding="gb18030", dtype=str, keep_default_na=False)
    frame["reported_at"] = pd.to_datetime(frame["受理时间"], errors="coerce")
    lon, lat = pd.to_numeric(frame["经度"]).to_numpy(), pd.to_numeric(frame["纬度"]).to_numpy()
    frame["grid_code"] = join.assign_grids(lon, lat, gpd.GeoDataFrame(grids))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(frame), "rss_mb": _peak_rss_mb()}


def _child(mode: str, db_path: Path, csv_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "gridpulse.benchmarks.imports", mode, str(db_path), str(csv_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(t("bench_child_failed", mode=mode, stderr=out.stderr[-3000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in sizes:
            template = work / f"street-{n}.duckdb"
            bounds = write_street(template)
            csv_path = work / f"12345-{n}.csv"
            write_csv(csv_path, n, bounds)
            ours = _child("ours", template, csv_path)
            naive = _child("naive", template, csv_path)
            results.append({"n": n, "mb": csv_path.stat().st_size / 1e6, "ours": ours, "naive": naive})
            print("  " + t("bench_import_done", n=n), file=sys.stderr, flush=True)
    return results


def table(results: list[dict[str, Any]]) -> str:
    base = results[0]
    lines = [t("bench_import_header")]
    for r in results:
        o, b = r["ours"], r["naive"]
        rate = o["rows"] / o["seconds"]
        base_rate = base["ours"]["rows"] / base["ours"]["seconds"]
        lines.append(
            f"{r['n']:>10,} {r['mb']:>8.1f} {o['seconds']:>7.1f} {rate:>9,.0f} {o['rss_mb']:>11.0f} "
            f"{o['assigned_share']:>10.1%} {o['rejected']:>6,} | {b['seconds']:>7.1f} {b['rss_mb']:>7.0f} | "
            f"{o['rss_mb'] / b['rss_mb']:>14.2f} {rate / base_rate:>18.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("ours", "naive"):
        fn = measure_ours if argv[0] == "ours" else measure_naive
        print(json.dumps(fn(Path(argv[1]), Path(argv[2]))))
        return 0
    sizes = tuple(int(a) for a in argv) or SIZES
    print(table(run(sizes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
