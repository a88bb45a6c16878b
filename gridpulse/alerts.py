"""Early warning (预警): this week's cases of each grid and category against what is normal for them now.

Counts are taken in rolling weeks ending at the as-of moment (week 0: the last 7 days). Two
detectors, chosen per category by how much history the street has:

- **Seasonal (improved Farrington, Noufaily et al. 2013)** when at least a year and a window of
  weeks lie behind the weeks tested. Per category, one quasi-Poisson regression (statsmodels GLM,
  Poisson family, dispersion from Pearson's chi-square) over every grid's past weeks:
  ``log E[count] = grid effect + season period``, with a 10-level period factor whose level 0 is
  the weeks of past years around the weeks tested (so a rise that happens every November is
  expected in November) and 9 further periods cutting the rest of the year. The last
  ``GUARD_WEEKS`` weeks are left out of the fit so an outbreak does not raise its own baseline.
  The threshold is the ``1 - ALPHA`` quantile of a negative binomial with the fitted mean and
  the category's over-dispersion (SciPy), a Poisson one when there is none.
- **Short baseline (EARS C2 style)** otherwise: the mean and standard deviation of weeks
  2–9 before the week tested, threshold mean + 3 sd (sd at least ``MIN_SD``).

A week is alerted when its count exceeds the threshold and is at least ``MIN_CASES``. An alert is
listed when week 0 is alerted; "since" is the start of the unbroken run of alerted weeks ending
in week 0 (up to ``RUN_WEEKS`` back).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from scipy import stats

WEEK_DAYS = 7
YEAR_WEEKS = 52  # 364 days: the same weekday a year back
WINDOW = 3  # weeks either side of the tested weeks in past years (Farrington's w)
RUN_WEEKS = 4  # weeks tested: week 0 and the three before it (for "since when")
GUARD_WEEKS = RUN_WEEKS  # left out of the seasonal fit
PERIODS = 10  # Noufaily's seasonal factor levels
ALPHA = 0.005  # upper quantile of the threshold
MIN_CASES = 3  # fewer cases in a week is never an alert
EARS_LAG = 2  # short baseline: weeks k+2 .. k+9 before week k
EARS_WEEKS = 8
EARS_SD = 3.0
MIN_SD = 1.0
SEASONAL_MIN_WEEKS = YEAR_WEEKS + RUN_WEEKS + GUARD_WEEKS  # history: last year's window of every tested week


@dataclass(frozen=True)
class Expected:
    """Per grid × category × tested week (0 = last 7 days): expected count and alert threshold."""

    expected: np.ndarray  # shape (grids, categories, RUN_WEEKS)
    threshold: np.ndarray
    method: list[str]  # per category: "seasonal" or "short"


def season_levels(n_weeks: int, k: int = 0) -> np.ndarray:
    """The seasonal factor level of each week ago (0..n_weeks-1) when week ``k`` is tested: Noufaily's 10 periods.

    Level 0: the weeks within ``WINDOW`` of week ``k``'s place in the year, in every year back; the
    rest of the year is cut into ``PERIODS - 1`` consecutive periods.
    """
    offset = (np.arange(n_weeks) - k) % YEAR_WEEKS  # 0 = week k's place in the year
    centre = (offset + WINDOW) % YEAR_WEEKS  # the window [-WINDOW, WINDOW] becomes [0, 2 * WINDOW]
    in_window = centre <= 2 * WINDOW
    rest = YEAR_WEEKS - (2 * WINDOW + 1)
    pos = centre - (2 * WINDOW + 1)
    level = 1 + np.minimum(pos * (PERIODS - 1) // rest, PERIODS - 2)
    return np.where(in_window, 0, level).astype(int)


def _seasonal(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Expected counts and thresholds for weeks 0..RUN_WEEKS-1 of one category (grids × weeks ago), or None.

    One fit per tested week ``k``: on the weeks from ``k + GUARD_WEEKS`` back, with the seasonal
    window around week ``k``'s place in the year.
    """
    n_grids, n_weeks = counts.shape
    if n_weeks < SEASONAL_MIN_WEEKS:
        return None
    mu = np.zeros((n_grids, RUN_WEEKS))
    thr = np.zeros((n_grids, RUN_WEEKS))
    for k in range(RUN_WEEKS):
        fitted = _fit(counts, k)
        if fitted is None:
            return None
        mu[:, k], phi = fitted
        thr[:, k] = _quantile(mu[:, k], phi)
    return mu, thr


def _fit(counts: np.ndarray, k: int) -> tuple[np.ndarray, float] | None:
    """Quasi-Poisson GLM ``log E = grid + season period`` for tested week ``k``: expected per grid, dispersion.

    With a grid factor and a period factor only, the fitted values match the grid totals and the
    period totals (the log-linear independence model). So the period effects are fitted by
    statsmodels on the street's period totals (log weeks in the period as offset), and each grid's
    effect is its total over its expected share — the same estimates as the GLM on every
    grid-week, at a cost that does not grow with the number of grids squared. The dispersion is
    Pearson's chi-square over every grid-week over its residual degrees of freedom, as
    ``GLM.fit(scale="X2")`` gives it; ``tests/test_alerts.py`` checks both against that fit.
    """
    import statsmodels.api as sm

    n_grids, n_weeks = counts.shape
    weeks = np.arange(k + GUARD_WEEKS, n_weeks)
    levels = season_levels(n_weeks, k)[weeks]
    active = counts[:, weeks].sum(axis=1) > 0  # a grid with no past case: expected 0, nothing to fit
    if not active.any() or not (levels == 0).any():
        return None
    used = np.flatnonzero(active)
    present, level_of_week = np.unique(levels, return_inverse=True)  # level 0 first: the reference
    past = counts[np.ix_(used, weeks)]
    totals = np.bincount(level_of_week, weights=past.sum(axis=0), minlength=len(present))
    exposure = np.bincount(level_of_week, minlength=len(present)).astype(float)
    design = np.column_stack([np.ones(len(present)), np.eye(len(present))[:, 1:]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(totals, design, family=sm.families.Poisson(), offset=np.log(exposure)).fit()
    season = np.exp(np.concatenate([[0.0], fit.params[1:]]))  # relative to level 0 (the weeks around now)
    grid_effect = past.sum(axis=1) / float((season * exposure).sum())  # expected a week at level 0
    weekly = grid_effect[:, None] * season[None, level_of_week]  # expected count of every past grid-week
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(weekly > 0, (past - weekly) ** 2 / weekly, 0.0).sum()
    dof = past.size - (len(used) + len(present) - 1)
    mu = np.zeros(n_grids)
    mu[used] = grid_effect
    return mu, max(float(pearson / dof) if dof > 0 else 1.0, 1.0)


def _quantile(mu: np.ndarray, phi: float) -> np.ndarray:
    """The ``1 - ALPHA`` quantile of counts with mean ``mu`` and dispersion ``phi`` (NB; Poisson if phi = 1)."""
    if phi <= 1.0 + 1e-9:
        return stats.poisson.ppf(1 - ALPHA, mu)
    size = mu / (phi - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # mu = 0: no cases expected, threshold 0
        p = size / (size + mu)
        q = stats.nbinom.ppf(1 - ALPHA, np.maximum(size, 1e-9), np.clip(p, 1e-12, 1.0))
    return np.where(mu > 0, q, 0.0)


def _short(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EARS C2 style: weeks k+2..k+9 before each tested week k; threshold mean + 3 sd."""
    n_grids, _n_weeks = counts.shape
    mu = np.zeros((n_grids, RUN_WEEKS))
    thr = np.zeros((n_grids, RUN_WEEKS))
    for k in range(RUN_WEEKS):
        base = counts[:, k + EARS_LAG : k + EARS_LAG + EARS_WEEKS]
        if base.shape[1] < 2:
            mu[:, k], thr[:, k] = np.nan, np.nan
            continue
        mu[:, k] = base.mean(axis=1)
        thr[:, k] = mu[:, k] + EARS_SD * np.maximum(base.std(axis=1, ddof=1), MIN_SD)
    return mu, thr


def expected(counts: np.ndarray) -> Expected:
    """Expected counts and thresholds for ``counts`` (grids × categories × weeks ago, week 0 first)."""
    n_grids, n_cats, _ = counts.shape
    mu = np.zeros((n_grids, n_cats, RUN_WEEKS))
    thr = np.zeros((n_grids, n_cats, RUN_WEEKS))
    methods = []
    for c in range(n_cats):
        seasonal = _seasonal(counts[:, c, :])
        if seasonal is None:
            mu[:, c], thr[:, c] = _short(counts[:, c, :])
            methods.append("short")
        else:
            mu[:, c], thr[:, c] = seasonal
            methods.append("seasonal")
    return Expected(mu, thr, methods)


def alerted(counts: np.ndarray, exp: Expected) -> np.ndarray:
    """Which grid × category × tested week is over its threshold (and has at least ``MIN_CASES``)."""
    observed = counts[:, :, :RUN_WEEKS]
    return (observed > exp.threshold) & (observed >= MIN_CASES) & np.isfinite(exp.threshold)


def dense(weekly: pd.DataFrame, grids: list[str], categories: list[str], n_weeks: int) -> np.ndarray:
    """Long weekly counts (grid_code, category, weeks_ago, cases) as an array grids × categories × weeks ago."""
    out = np.zeros((len(grids), len(categories), n_weeks))
    if weekly.empty:
        return out
    gi = pd.Index(grids).get_indexer(weekly["grid_code"])
    ci = pd.Index(categories).get_indexer(weekly["category"])
    wi = weekly["weeks_ago"].to_numpy(dtype=int)
    ok = (gi >= 0) & (ci >= 0) & (wi >= 0) & (wi < n_weeks)
    np.add.at(out, (gi[ok], ci[ok], wi[ok]), weekly["cases"].to_numpy(dtype=float)[ok])
    return out


def alert_table(counts: np.ndarray, grids: pd.DataFrame, categories: list[str], as_of: datetime) -> pd.DataFrame:
    """The alerts of week 0: grid, category, observed, expected, threshold, since when, how it was judged.

    ``grids`` has ``grid_code`` and ``grid_name`` in the order of ``counts``' first axis.
    Sorted by how far over the threshold (observed ÷ expected), then by grid and category.
    """
    exp = expected(counts)
    flags = alerted(counts, exp)
    rows = []
    for g, c in zip(*np.nonzero(flags[:, :, 0]), strict=True):
        run = 1
        while run < RUN_WEEKS and flags[g, c, run]:
            run += 1
        observed = float(counts[g, c, 0])
        rows.append(
            {
                "grid_code": grids["grid_code"].iloc[g],
                "grid_name": grids["grid_name"].iloc[g],
                "category": categories[c],
                "observed": int(observed),
                "expected": round(float(exp.expected[g, c, 0]), 2),
                "threshold": float(exp.threshold[g, c, 0]),
                "since": (as_of - timedelta(days=WEEK_DAYS * run)).date(),
                "weeks": run,
                "method": exp.method[c],
                "ratio": observed / max(float(exp.expected[g, c, 0]), 0.1),
            }
        )
    columns = [
        "grid_code",
        "grid_name",
        "category",
        "observed",
        "expected",
        "threshold",
        "since",
        "weeks",
        "method",
        "ratio",
    ]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["ratio", "grid_code", "category"], ascending=[False, True, True], ignore_index=True)


def naive(counts: np.ndarray) -> np.ndarray:
    """The naive rule beside which the detectors are measured: this week over the last four weeks' mean + 2 sd.

    Returns alerted grid × category for week 0 (with at least ``MIN_CASES``, as the detectors).
    """
    last4 = counts[:, :, 1:5]
    limit = last4.mean(axis=2) + 2 * last4.std(axis=2, ddof=1)
    return (counts[:, :, 0] > limit) & (counts[:, :, 0] >= MIN_CASES)
