"""An irregular street outline tiled into grids and communities with no gaps or overlaps."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQUATOR = 111_320.0


def street_outline(rng: np.random.Generator, semi_axes_m: tuple[float, float]) -> Polygon:
    """An irregular, roughly elliptic outline in local metres around (0, 0)."""
    n = 36
    angles = np.linspace(0, 2 * math.pi, n, endpoint=False)
    # Smooth noise: a few low harmonics with random phases, so the edge wanders like roads do.
    wobble = sum(rng.uniform(0.03, 0.09) * np.sin(k * angles + rng.uniform(0, 2 * math.pi)) for k in (2, 3, 5))
    radius = 1 + wobble
    xs = semi_axes_m[0] * radius * np.cos(angles)
    ys = semi_axes_m[1] * radius * np.sin(angles)
    return shapely.make_valid(Polygon(np.column_stack([xs, ys])))


def _random_points_in(poly: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(n * 2, 2))
        cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        found.append(cand)
        total += len(cand)
    return np.concatenate(found)[:n]


def voronoi_tiles(outline: Polygon, n: int, rng: np.random.Generator, relax: int = 2) -> list[Polygon]:
    """``n`` Voronoi cells clipped to the outline, after a little Lloyd relaxation.

    Relaxation evens out the sizes (grids hold 300-600 households) while keeping the
    shapes irregular.
    """
    seeds = _random_points_in(outline, n, rng)
    cells: list[Polygon] = []
    for step in range(relax + 1):
        diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline, ordered=True)
        cells = [cell.intersection(outline) for cell in diagram.geoms]
        if step < relax:
            seeds = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return cells


def group_tiles(cells: list[Polygon], k: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster cells into ``k`` contiguous-ish communities (k-means on centroids)."""
    pts = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    centres = pts[rng.choice(len(pts), size=k, replace=False)]
    labels = np.zeros(len(pts), dtype=int)
    capacity = -(-len(pts) // k) + 1  # communities of similar size, as streets draw them
    for _ in range(25):
        d = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        labels = _assign_with_capacity(d, capacity)
        centres = np.array([pts[labels == j].mean(axis=0) if (labels == j).any() else centres[j] for j in range(k)])
    # Number communities west to east, north to south, as a map reader expects.
    order = np.lexsort((-centres[:, 1], centres[:, 0]))
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    return rank[labels]


def _assign_with_capacity(dist: np.ndarray, capacity: int) -> np.ndarray:
    """Nearest centre for each point, greedily, no centre taking more than ``capacity``."""
    labels = np.full(dist.shape[0], -1)
    load = np.zeros(dist.shape[1], dtype=int)
    for flat in np.argsort(dist, axis=None, kind="stable"):
        i, j = divmod(int(flat), dist.shape[1])
        if labels[i] < 0 and load[j] < capacity:
            labels[i] = j
            load[j] += 1
    return labels


def to_lonlat(geom: shapely.Geometry, lon0: float, lat0: float) -> shapely.Geometry:
    """Local metres around (lon0, lat0) to WGS-84 degrees."""
    kx = 1 / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)))
    ky = 1 / M_PER_DEG_LAT
    return shapely.transform(geom, lambda xy: np.column_stack([lon0 + xy[:, 0] * kx, lat0 + xy[:, 1] * ky]))


def metres_to_deg(dx: np.ndarray, dy: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets in metres to offsets in degrees (lon, lat) near latitude ``lat0``."""
    return dx / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))), dy / M_PER_DEG_LAT
