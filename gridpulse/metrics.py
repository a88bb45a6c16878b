"""Every rate the dashboard shows, defined once (domain.md, "Metrics").

Counts come from ``Store.case_components``; these functions turn them into rates.
A rate with an empty denominator is ``None`` (shown as "—"), never 0 or 100 %.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from gridpulse import config


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if denominator is None or pd.isna(denominator) or denominator <= 0:
        return None
    return float(numerator) / float(denominator)


def resolution_rate(due_resolved: int, due: int) -> float | None:
    """Resolved / cases due in the period (deadline in the period, up to now)."""
    return ratio(due_resolved, due)


def on_time_rate(on_time: int, resolved: int) -> float | None:
    """Resolved within the deadline / resolved in the period."""
    return ratio(on_time, resolved)


def self_resolved_share(level1: int, resolved: int) -> float | None:
    """Solved at grid level / resolved in the period (三级联动: 小事网格办)."""
    return ratio(level1, resolved)


def satisfaction_rate(satisfied: int, rated: int) -> float | None:
    """Satisfied ratings (≥ SATISFIED_MIN_STARS) / ratings given in the period."""
    return ratio(satisfied, rated)


def rework_rate(reopened: int, resolved: int) -> float | None:
    """Reopened / resolved in the period."""
    return ratio(reopened, resolved)


def accept_in_time_rate(accepted_in_time: int, accept_due: int) -> float | None:
    """及时签收率: accepted within the limit after dispatch / dispatched in the period whose limit has passed."""
    return ratio(accepted_in_time, accept_due)


def on_spot_share(on_spot: int, level1: int) -> float | None:
    """现场解决率: solved by the grid within ``ON_SPOT_HOURS`` of reporting / solved by the grid."""
    return ratio(on_spot, level1)


def wilson_lower_bound(successes: int, n: int, z: float = config.RANKING_Z) -> float | None:
    """Lower bound of the Wilson score interval: a rate that small samples cannot inflate.

    3 of 3 gives 0.44, while 190 of 200 gives 0.91, so a grid with a handful of cases
    cannot top a ranking.
    """
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / denom)


RATE_COLUMNS = {
    "resolution_rate": (resolution_rate, "due_resolved", "due"),
    "on_time_rate": (on_time_rate, "on_time", "resolved"),
    "self_resolved_share": (self_resolved_share, "level1", "resolved"),
    "satisfaction": (satisfaction_rate, "satisfied", "rated"),
    "rework_rate": (rework_rate, "reopened", "resolved"),
    "accept_in_time_rate": (accept_in_time_rate, "accepted_in_time", "accept_due"),
    "on_spot_share": (on_spot_share, "on_spot", "level1"),
}

# Every rate column ``with_rates`` adds: the one list of what is a rate (written as a percentage).
RATE_METRICS = frozenset({*RATE_COLUMNS, "resolution_lower_bound", "level1_share", "level2_share", "level3_share"})


def with_rates(components: pd.DataFrame) -> pd.DataFrame:
    """Add every rate column (and the level shares) to a frame of components."""
    src = components
    new: dict[str, list[float | None]] = {}
    for name, (fn, num, den) in RATE_COLUMNS.items():
        new[name] = [fn(a, b) for a, b in zip(src[num], src[den], strict=True)]
    for level in (1, 2, 3):
        new[f"level{level}_share"] = [ratio(a, b) for a, b in zip(src[f"level{level}"], src["resolved"], strict=True)]
    new["resolution_lower_bound"] = [
        wilson_lower_bound(int(a), int(b)) for a, b in zip(src["due_resolved"], src["due"], strict=True)
    ]
    return add_columns(components, new)


def add_columns(frame: pd.DataFrame, new: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with ``new`` columns set in their order, as ``frame[name] = values`` one by one would.

    In one step: each column set alone rebuilt the frame's index of column names (text backed by
    Arrow), which was most of the time of a ranking.
    """
    if any(name in frame.columns for name in new):  # replaced in place: where they are
        out = frame.copy()
        for name, values in new.items():
            out[name] = values
        return out
    return pd.concat([frame, pd.DataFrame(new, index=frame.index)], axis=1)


def change(current: float | None, previous: float | None) -> float | None:
    """Current minus previous, None when either is missing."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return None
    return float(current) - float(previous)
