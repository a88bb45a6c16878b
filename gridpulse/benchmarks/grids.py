"""``python -m gridpulse bench-grids``: how long a district's grid layer takes to import, with its report.

A street with the demo street's grids and ``--cases`` imported cases is written; then, for each
size, a layer of that many grids tiling the street's extent (Voronoi cells, densified to about
240 vertices a grid, as surveyed boundaries are; 40 communities) is written as GeoJSON and
imported the product's way: read, repaired where invalid, overlaps and gaps reported, the layer
replacing the old one and every case joined to it again, in one transaction. The baseline,
measured in the same run on the same file, is what a plain script would do: GeoPandas reads the
file and ``sjoin`` places the cases, with no checks, no report and nothing written. Printed:
grids, vertices, file size, seconds (ours and the baseline) and their ratio.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from gridpulse.strings import t

SIZES = (1_000, 5_000)
CASES = 100_000
VERTICES_PER_GRID = 240


def write_layer(path: Path, n: int, bounds: tuple[float, float, float, float], seed: int = 3) -> int:
    """``n`` grids tiling ``bounds`` as GeoJSON; returns the number of vertices."""
    import geopandas as gpd
    import shapely

    from geo import shapes

    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    points = shapely.points(x0 + rng.random(n) * (x1 - x0), y0 + rng.random(n) * (y1 - y0))
    extent = shapely.box(x0, y0, x1, y1)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points),
                                                                            extend_to=extent)), extent)  # fmt: skip
    side = np.sqrt((x1 - x0) * (y1 - y0) / n)
    cells = shapely.segmentize(cells, side * 4 / VERTICES_PER_GRID)
    numbers = range(1, len(cells) + 1)
    layer = gpd.GeoDataFrame(
        {"网格编码": [f"B{i:05d}" for i in numbers], "网格名称": [f"第{i}网格" for i in numbers],
         "所属社区": [f"第{i % 40 + 1}社区" for i in numbers], "户数": 300},
        geometry=cells, crs=shapes.WGS84,
    )  # fmt: skip
    layer.to_file(path, driver="GeoJSON")
    return int(shapely.get_num_coordinates(cells).sum())


def measure_ours(db: Path, layer: Path) -> dict[str, Any]:
    from gridpulse.ingest import grids
    from gridpulse.store import open_store

    store = open_store(db)
    try:
        started = time.perf_counter()
        summary = grids.import_grids(store, layer)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    return {"seconds": seconds, "grids": summary.record["inserted"] + summary.record["updated"],
            "rejoined": summary.record["rejoined"], "report": len(summary.warnings)}  # fmt: skip


def measure_baseline(db: Path, layer: Path) -> dict[str, Any]:
    import geopandas as gpd

    from gridpulse.store import open_store

    store = open_store(db)
    try:
        cases = store.query("SELECT case_id, lon, lat FROM cases WHERE lon IS NOT NULL")
    finally:
        store.close()
    started = time.perf_counter()
    frame = gpd.read_file(layer, engine="pyogrio")
    points = gpd.GeoDataFrame(cases, geometry=gpd.points_from_xy(cases["lon"], cases["lat"]), crs=frame.crs)
    joined = gpd.sjoin(points, frame[["网格编码", "geometry"]], how="left", predicate="within")
    return {"seconds": time.perf_counter() - started, "placed": int(joined["网格编码"].notna().sum())}


def run(sizes: tuple[int, ...] = SIZES, cases: int = CASES) -> list[dict[str, Any]]:
    from gridpulse.benchmarks import imports
    from gridpulse.ingest import run as import_run
    from gridpulse.store import open_store

    results = []
    with tempfile.TemporaryDirectory(prefix="gridpulse-bench-grids-") as tmp:
        folder = Path(tmp)
        for n in sizes:
            db = folder / f"street-{n}.duckdb"
            bounds = imports.write_street(db)
            csv = folder / "cases.csv"
            imports.write_csv(csv, cases, bounds)
            store = open_store(db)
            try:
                import_run.import_file(store, "cases", csv)
            finally:
                store.close()
            layer = folder / f"grids-{n}.geojson"
            vertices = write_layer(layer, n, bounds)
            baseline = measure_baseline(db, layer)
            ours = measure_ours(db, layer)
            results.append({"n": n, "vertices": vertices, "mb": layer.stat().st_size / 1e6, "cases": cases,
                            "ours": ours, "baseline": baseline})  # fmt: skip
            print("  " + t("bench_grids_done", n=n), file=sys.stderr, flush=True)
    return results


def table(results: list[dict[str, Any]]) -> str:
    head = t("bench_grids_header")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for r in results:
        ours, base = r["ours"], r["baseline"]
        lines.append(
            f"| {r['n']:,} | {r['vertices']:,} | {r['mb']:.1f} | {r['cases']:,} | {ours['seconds']:.1f} | "
            f"{base['seconds']:.1f} | {ours['seconds'] / base['seconds']:.1f} | {ours['rejoined']:,} |"
        )
    return "\n".join(lines) + "\n" + t("bench_grids_note")


def main(argv: list[str]) -> int:
    sizes = tuple(int(a) for a in argv) or SIZES
    print(table(run(sizes)))
    return 0
