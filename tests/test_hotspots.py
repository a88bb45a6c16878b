"""Hot spots: Gi* classes with FDR on a lattice with a planted cluster; emerging categories worked by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridpulse import hotspots


def _lattice(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    ix, iy = np.meshgrid(np.arange(n), np.arange(n))
    return ix.ravel(), iy.ravel()


def test_a_planted_cluster_is_hot_and_noise_is_not() -> None:
    ix, iy = _lattice()
    rng = np.random.default_rng(3)
    y = rng.poisson(3, len(ix)).astype(float)
    block = (ix >= 3) & (ix <= 5) & (iy >= 6) & (iy <= 8)
    y[block] += 12
    result = hotspots.gi_star(y, hotspots.lattice(ix, iy))
    assert (result.confidence[block] >= 90).all()  # the whole block is hot
    assert (result.confidence[block] >= 95).sum() >= 5  # most of it at 95 % or more
    far = (np.abs(ix - 4) > 3) | (np.abs(iy - 7) > 3)
    assert (result.confidence[far] > 0).sum() == 0  # nothing hot away from it
    noise = hotspots.gi_star(rng.poisson(3, len(ix)).astype(float), hotspots.lattice(ix, iy))
    assert (noise.confidence != 0).sum() <= 2  # FDR: random counts give (almost) nothing


def test_fdr_is_stricter_than_each_test_alone() -> None:
    p = np.array([0.001, 0.02, 0.04, 0.045, 0.2, 0.5, 0.7, 0.9])
    z = np.ones_like(p)
    classes = hotspots.classify(z, p)
    # Benjamini-Hochberg over 8 tests: at 1 % the cut-off is 0.001, at 5 % still 0.001, at 10 % 0.045.
    assert classes.tolist() == [99, 90, 90, 90, 0, 0, 0, 0]  # 0.02 and 0.04 alone would be "95 %"
    assert hotspots.classify(-z, p)[0] == -99


def test_grid_hotspots_use_rates_per_100_households() -> None:
    boxes = [shapely.box(i, j, i + 1, j + 1) for j in range(5) for i in range(5)]
    shapes = gpd.GeoDataFrame(
        {"grid_code": [f"G{k:02d}" for k in range(25)], "grid_name": "网格", "community": "社区", "households": 100},
        geometry=boxes,
    )
    shapes.loc[24, "households"] = 0
    counts = pd.Series({"G00": 40, "G01": 38, "G05": 41, "G06": 39} | {f"G{k:02d}": 5 for k in range(7, 24)})
    out = hotspots.grid_hotspots(shapes, counts)
    assert out.loc[out["grid_code"] == "G00", "rate"].iloc[0] == 40.0
    assert np.isnan(out.loc[24, "rate"])
    assert out.loc[24, "confidence"] == 0
    assert out.loc[out["grid_code"].isin(["G00", "G01", "G05", "G06"]), "confidence"].gt(0).all()


@pytest.mark.parametrize(
    ("steps", "trend", "expected"),
    [
        ([0, 0, 0, 0, 0, 95], "no trend", "new_hot"),
        ([0, 0, 0, 90, 95, 99], "increasing", "consecutive_hot"),
        ([99] * 12, "increasing", "intensifying_hot"),
        ([95] * 12, "no trend", "persistent_hot"),
        ([99] * 12, "decreasing", "diminishing_hot"),
        ([0, 95, 0, 0, 90, 0, 95], "no trend", "sporadic_hot"),
        ([0, -95, 0, 0, 90, 0, 95], "no trend", "oscillating_hot"),
        ([95] * 11 + [0], "no trend", "historical_hot"),
        ([0, 0, 0, 0, -99], "no trend", "new_cold"),
        ([-99] * 12, "decreasing", "intensifying_cold"),
        ([0, 0, 0, 0, 0, 0], "no trend", "none"),
        ([95, 0, 0, 0, 0, 0], "no trend", "none"),
    ],
)
def test_emerging_categories(steps: list[int], trend: str, expected: str) -> None:
    assert hotspots.emerging_class(np.array(steps), trend) == expected
