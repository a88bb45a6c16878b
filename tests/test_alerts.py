"""Early warning: seasonal baseline, short baseline, "since when", and a normal seasonal rise that is no alert."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from gridpulse import alerts

AS_OF = datetime(2026, 11, 20, 10, 0)


def _street(n_grids: int = 20, n_weeks: int = 120, seed: int = 1, level: float = 6.0) -> np.ndarray:
    """Poisson weekly counts (grids × 2 categories × weeks ago): category 0 flat, category 1 tripling
    every year in the weeks around week 0 (a heating season), as the same weeks of past years show."""
    rng = np.random.default_rng(seed)
    place = np.arange(n_weeks) % alerts.YEAR_WEEKS  # weeks before this week's place in the year
    season = np.where((place == 0) | (place >= 46), 3.0, 1.0)  # a season starting this week, as every year
    grid_level = rng.uniform(0.5, 1.5, n_grids)[:, None] * level
    flat = rng.poisson(grid_level * np.ones(n_weeks))
    heating = rng.poisson(grid_level * season[None, :])
    return np.stack([flat, heating], axis=1).astype(float)


def test_season_levels_are_noufailys_ten_periods() -> None:
    levels = alerts.season_levels(120)
    assert set(levels) == set(range(alerts.PERIODS))
    # level 0: week 0's place in the year and 3 weeks either side, in this year and every year back
    assert list(np.flatnonzero(levels[:60] == 0)) == [0, 1, 2, 3, 49, 50, 51, 52, 53, 54, 55]
    assert list(np.flatnonzero(alerts.season_levels(60, k=2) == 0)) == [0, 1, 2, 3, 4, 5, 51, 52, 53, 54, 55, 56, 57]
    assert levels[4] == 1
    assert levels[48] == alerts.PERIODS - 1


def test_a_normal_seasonal_rise_is_no_alert_and_a_planted_surge_is() -> None:
    counts = _street()
    assert alerts.expected(counts).method == ["seasonal", "seasonal"]
    clean = alerts.alerted(counts, alerts.expected(counts))[:, :, 0]
    # The season triples category 1 from this week on, as every year: the naive rule (last four
    # weeks) takes it for an outbreak nearly everywhere; against last year's same weeks it is (mostly) normal.
    assert alerts.naive(counts)[:, 1].sum() >= 15
    assert clean[:, 1].sum() <= 3
    assert clean[:, 0].sum() <= 1  # the flat category: at most chance
    surged = counts.copy()
    surged[3, 0, :2] = 4 * surged[3, 0, 10:12].mean() + 10  # grid 3, category 0: the last two weeks
    table = alerts.alert_table(surged, _grids(20), ["flat", "heating"], AS_OF)
    row = table[(table["grid_code"] == "G03") & (table["category"] == "flat")].iloc[0]
    assert row["method"] == "seasonal"
    assert row["observed"] > row["threshold"] > row["expected"]
    assert row["weeks"] == 2
    assert str(row["since"]) == "2026-11-06"  # two weeks before the as-of


def test_the_table_fit_equals_statsmodels_fit_on_every_grid_week() -> None:
    """The seasonal model fitted on grid × period totals gives the grid-week GLM's estimates and dispersion."""
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    counts = rng.poisson(_street(n_grids=8, n_weeks=130, seed=4)[:, 1, :] * rng.gamma(2.0, 0.5, (8, 130)))
    counts = counts.astype(float)
    counts[2] = 0  # a grid with no past case: expected 0
    for k in (0, 2):
        mu, phi = alerts._fit(counts, k)
        weeks = np.arange(k + alerts.GUARD_WEEKS, counts.shape[1])
        levels = alerts.season_levels(counts.shape[1], k)[weeks]
        used = [g for g in range(8) if g != 2]
        grid = pd.Categorical(np.repeat(used, len(weeks)))
        period = pd.Categorical(np.tile(levels, len(used)))
        x = pd.concat([pd.get_dummies(grid, dtype=float), pd.get_dummies(period, dtype=float, drop_first=True)], axis=1)
        full = sm.GLM(counts[np.ix_(used, weeks)].reshape(-1), x.to_numpy(), family=sm.families.Poisson())
        fit = full.fit(scale="X2")
        assert np.allclose(mu[used], np.exp(fit.params[: len(used)]), rtol=1e-6)
        assert mu[2] == 0
        assert fit.scale > 1.5  # over-dispersed: the dispersion is compared, not the floor of 1
        assert np.isclose(phi, fit.scale, rtol=1e-6)


def test_a_young_street_uses_the_short_baseline() -> None:
    counts = _street(n_weeks=30)
    exp = alerts.expected(counts)
    assert exp.method == ["short", "short"]
    counts[5, 0, 0] = 60
    table = alerts.alert_table(counts, _grids(20), ["flat", "heating"], AS_OF)
    assert ("G05", "flat") in set(zip(table["grid_code"], table["category"], strict=True))
    assert (table["method"] == "short").all()


def test_few_cases_are_never_an_alert() -> None:
    counts = np.zeros((3, 1, 80))
    counts[0, 0, 0] = alerts.MIN_CASES - 1  # from nothing to 2: far over a zero baseline, but too few
    table = alerts.alert_table(counts, _grids(3), ["x"], AS_OF)
    assert table.empty


def test_dense_places_long_counts() -> None:
    long = pd.DataFrame(
        {"grid_code": ["G01", "G00", "G09"], "category": ["b", "a", "a"], "weeks_ago": [0, 3, 1], "cases": [2, 5, 7]}
    )
    out = alerts.dense(long, ["G00", "G01"], ["a", "b"], 4)
    assert out[1, 1, 0] == 2
    assert out[0, 0, 3] == 5
    assert out.sum() == 7  # G09 is not one of the grids


def _grids(n: int) -> pd.DataFrame:
    codes = [f"G{i:02d}" for i in range(n)]
    return pd.DataFrame({"grid_code": codes, "grid_name": [f"{c}网格" for c in codes]})
