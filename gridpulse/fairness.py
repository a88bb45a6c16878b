"""Comparing units of very different size fairly (analysis.md, "Fair comparison").

- ``fit_prior``: a beta prior fitted to all units' counts (beta-binomial maximum likelihood);
- ``shrink``: each unit's rate pulled towards the prior by as much as its sample is small
  (empirical Bayes: the posterior mean), with its 95 % interval;
- ``funnel_class``: is a unit's raw rate out of line with the pooled rate, beyond what chance
  gives a unit of its size (exact binomial tests at the funnel plot's 95 % and 99.8 % limits);
- ``funnel_curve``: those control limits for drawing the funnel plot.

No Streamlit and no database: counts in, numbers out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

INTERVAL = 0.95  # the interval shown beside each shrunken rate
WARN_ALPHA = 0.05  # funnel plot's inner limits (two-sided 95 %)
ALARM_ALPHA = 0.002  # outer limits (two-sided 99.8 %, "3 sigma")
# Units agreeing more than chance allows push the fitted spread to zero (an infinite prior
# weight): cap it, so every unit then shrinks almost to the pooled rate, which is the honest answer.
MAX_PRIOR_WEIGHT = 1e5
MIN_PRIOR_WEIGHT = 0.5

# Funnel classes: below the outer limit, below the inner one, within, above the inner, above the outer.
WORSE_ALARM, WORSE, WITHIN, BETTER, BETTER_ALARM = -2, -1, 0, 1, 2


@dataclass(frozen=True)
class BetaPrior:
    """Beta(a, b): the spread of the true rates of all units; a + b is worth that many cases."""

    a: float
    b: float

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def weight(self) -> float:
        return self.a + self.b


def fit_prior(successes: np.ndarray, trials: np.ndarray) -> BetaPrior | None:
    """Beta-binomial maximum likelihood over the units with cases; None with fewer than two such units.

    Fitted on (pooled mean, log weight); the weight is held within
    [MIN_PRIOR_WEIGHT, MAX_PRIOR_WEIGHT].
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    if len(n) < 2:
        return None
    pooled = float(k.sum() / n.sum())
    # A pooled rate of exactly 0 or 1 leaves nothing to spread: a tight prior at (nearly) that rate.
    eps = 0.5 / float(n.sum())
    pooled = min(max(pooled, eps), 1 - eps)

    # scipy's betabinom.logpmf, term for term, without its argument checks: the optimiser calls it
    # some sixty times a fit, and a page's ranking fits six rates (the same figures, a third of the time).
    combiln = -np.log(n + 1) - special.betaln(n - k + 1, k + 1)

    def nll(theta: np.ndarray) -> float:
        mean = 1 / (1 + math.exp(-theta[0]))
        weight = math.exp(theta[1])
        a, b = mean * weight, (1 - mean) * weight
        return -float((combiln + special.betaln(k + a, n - k + b) - special.betaln(a, b)).sum())

    start = np.array([math.log(pooled / (1 - pooled)), math.log(50.0)])
    bounds = [(-12.0, 12.0), (math.log(MIN_PRIOR_WEIGHT), math.log(MAX_PRIOR_WEIGHT))]
    best = optimize.minimize(nll, start, method="L-BFGS-B", bounds=bounds)
    mean = 1 / (1 + math.exp(-best.x[0]))
    weight = math.exp(best.x[1])
    return BetaPrior(mean * weight, (1 - mean) * weight)


def shrink(successes: np.ndarray, trials: np.ndarray, prior: BetaPrior | None) -> pd.DataFrame:
    """Posterior mean and 95 % interval of each unit's rate (columns ``shrunk``, ``low``, ``high``).

    Without a prior (fewer than two units with cases) the raw rate is returned, with the
    interval of a flat prior; a unit without cases gets the prior's mean and spread.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    a, b = (prior.a, prior.b) if prior is not None else (1.0, 1.0)
    post_a, post_b = a + k, b + n - k
    tail = (1 - INTERVAL) / 2
    shrunk = post_a / (post_a + post_b)
    if prior is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            shrunk = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    return pd.DataFrame(
        {
            "shrunk": shrunk,
            "low": stats.beta.ppf(tail, post_a, post_b),
            "high": stats.beta.ppf(1 - tail, post_a, post_b),
        }
    )


def funnel_class(successes: int, trials: int, pooled: float | None) -> int | None:
    """Where a unit's raw rate falls on the funnel plot around ``pooled`` (one of the five classes).

    Exact binomial tail probabilities: below the 95 % limits means P(X ≤ k) < 2.5 % for a unit
    of this size whose true rate is the pooled one; beyond 99.8 % means < 0.1 %. None without cases.
    """
    return funnel_classes(np.array([successes]), np.array([trials]), pooled)[0]


def funnel_classes(successes: np.ndarray, trials: np.ndarray, pooled: float | None) -> list[int | None]:
    """``funnel_class`` of every unit at once (the tail probabilities computed as one array)."""
    k = np.asarray(successes, dtype=np.int64)
    n = np.asarray(trials, dtype=np.int64)
    if pooled is None or pd.isna(pooled):
        return [None] * len(k)
    low_tails = stats.binom.cdf(k, n, pooled)
    high_tails = stats.binom.sf(k - 1, n, pooled)
    return [
        None if size <= 0 else _funnel_class(float(low), float(high))
        for size, low, high in zip(n, low_tails, high_tails, strict=True)
    ]


def _funnel_class(low_tail: float, high_tail: float) -> int:
    if low_tail < ALARM_ALPHA / 2:
        return WORSE_ALARM
    if low_tail < WARN_ALPHA / 2:
        return WORSE
    if high_tail < ALARM_ALPHA / 2:
        return BETTER_ALARM
    if high_tail < WARN_ALPHA / 2:
        return BETTER
    return WITHIN


def funnel_curve(pooled: float, max_trials: int, points: int = 60, min_trials: int = 1) -> pd.DataFrame:
    """Control limits of the funnel plot: for each sample size, the rates at the 95 % and 99.8 % limits."""
    low = max(1, min(min_trials, max_trials))
    sizes = np.unique(np.round(np.geomspace(low, max(max_trials, low + 1), points)).astype(int))
    out = {"trials": sizes}
    for name, alpha in (("warn", WARN_ALPHA), ("alarm", ALARM_ALPHA)):
        out[f"{name}_low"] = stats.binom.ppf(alpha / 2, sizes, pooled) / sizes
        out[f"{name}_high"] = stats.binom.ppf(1 - alpha / 2, sizes, pooled) / sizes
    return pd.DataFrame(out)


def below_target(successes: int, trials: int, target: float, alpha: float = 0.05) -> bool:
    """Is the rate significantly below ``target``: P(X ≤ k | n, target) < alpha (one-sided exact test)."""
    if trials <= 0:
        return False
    return float(stats.binom.cdf(successes, trials, target)) < alpha


def above_target(successes: int, trials: int, target: float, alpha: float = 0.05) -> bool:
    """Is the rate significantly above ``target`` (for a rate where lower is better, e.g. rework)."""
    if trials <= 0:
        return False
    return float(stats.binom.sf(successes - 1, trials, target)) < alpha
