"""Targets (目标值) and the composite score's weights: defaults, the admin's JSON file, red/amber/green.

Every figure with a target is shown with its status and, as Boston's CityScore does, its ratio
to the target (1.0 = on target; above 1 is better, whichever way the figure runs).

Status (``status``):
- green: the figure meets its target;
- amber: it misses the target, but by no more than chance could explain (a rate: an exact
  one-sided binomial test at 5 % does not reject the target; a number of hours: within
  ``AMBER_RATIO`` of it);
- red: it misses the target beyond that.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from gridpulse import config, fairness
from gridpulse.strings import t

# Rates with a target: (numerator, denominator) in ``Store.case_components``, and which way is better.
RATE_TARGETS: dict[str, tuple[str, str, bool]] = {
    "resolution_rate": ("due_resolved", "due", True),
    "on_time_rate": ("on_time", "resolved", True),
    "accept_in_time_rate": ("accepted_in_time", "accept_due", True),
    "satisfaction": ("satisfied", "rated", True),
    "self_resolved_share": ("level1", "resolved", True),
    "rework_rate": ("reopened", "resolved", False),
}
HOUR_TARGETS = {"median_hours": False}  # figure in hours -> is higher better (no: fewer hours are better)
AMBER_RATIO = 0.9  # an hour figure within 10 % of its target is amber, not red
RATIO_CAP = 9.99  # a lower-is-better figure at 0 meets any target: its ratio is shown capped

# Figures the composite score (综合得分) may weigh: the rates that separate units. Resolution
# (~99 % everywhere) separates nobody, so its default weight is 0.
SCORED = ("on_time_rate", "satisfaction", "accept_in_time_rate", "rework_rate", "resolution_rate")


def _default_targets() -> dict[str, float]:
    return {
        "satisfaction": 0.97,  # street reception days report 97-98.6 % satisfied (domain.md)
        "on_time_rate": 0.90,
        "resolution_rate": 0.95,
        "accept_in_time_rate": 0.95,
        "self_resolved_share": 0.70,  # "70 % of matters solved in the grid" (domain.md)
        "rework_rate": 0.03,
        "median_hours": 48.0,
    }


def _default_weights() -> dict[str, float]:
    return {"on_time_rate": 0.3, "satisfaction": 0.3, "accept_in_time_rate": 0.2, "rework_rate": 0.2}


@dataclass(frozen=True)
class Settings:
    """What an admin may set. Saved as JSON in the database; ``to_json``/``from_json`` are the file format."""

    targets: dict[str, float] = field(default_factory=_default_targets)
    weights: dict[str, float] = field(default_factory=_default_weights)
    accept_hours: float = config.ACCEPT_LIMIT_HOURS
    stale_days: int = config.STALE_DAYS
    list_size: int = 5  # units on each of the red and black lists
    min_cases: int = 10  # a unit with fewer cases in the period is ranked but not listed

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


DEFAULTS = Settings()
# The range each number of the settings may take.
LIMITS = {"accept_hours": (0.1, 720), "stale_days": (1, 365), "list_size": (1, 50), "min_cases": (1, 10_000)}


class SettingsError(ValueError):
    """A targets file that cannot be used; the message (Chinese) says what to fix."""


def from_json(text: str) -> Settings:
    """Settings from a JSON document; keys left out keep their defaults. Raises ``SettingsError``."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SettingsError(t("targets_bad_json", error=str(err)[:200])) from err
    if not isinstance(raw, dict):
        raise SettingsError(t("targets_not_object"))
    unknown = sorted(set(raw) - set(asdict(DEFAULTS)))
    if unknown:
        raise SettingsError(t("targets_unknown_key", keys="、".join(map(str, unknown))))
    out = DEFAULTS
    if "targets" in raw:
        out = replace(out, targets=_targets(raw["targets"]))
    if "weights" in raw:
        out = replace(out, weights=_weights(raw["weights"]))
    for name, (lo, hi) in LIMITS.items():
        if name in raw:
            out = replace(out, **{name: _number(t(name), raw[name], lo, hi, whole=name != "accept_hours")})
    return out


def _number(name: str, value: Any, lo: float, hi: float, whole: bool = False) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not lo <= value <= hi or (whole and value != int(value)):
        raise SettingsError(t("targets_bad_number", name=name, value=str(value)[:40], lo=lo, hi=hi))
    return int(value) if whole else float(value)


def _targets(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise SettingsError(t("targets_not_object"))
    allowed = {*RATE_TARGETS, *HOUR_TARGETS}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise SettingsError(t("targets_unknown_metric", keys="、".join(map(str, unknown)), allowed="、".join(allowed)))
    out = _default_targets()
    for k, v in raw.items():
        # A rate where higher is better needs a target above 0: its ratio divides by it.
        lowest = 0.01 if k in RATE_TARGETS and RATE_TARGETS[k][2] else 0.0
        out[k] = _number(t(k), v, lowest, 1.0) if k in RATE_TARGETS else _number(t(k), v, 0.1, 10_000)
    return out


def _weights(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise SettingsError(t("targets_not_object"))
    unknown = sorted(set(raw) - set(SCORED))
    if unknown:
        raise SettingsError(t("weights_unknown", keys="、".join(map(str, unknown)), allowed="、".join(SCORED)))
    out = {k: _number(t(k), v, 0.0, 1.0) for k, v in raw.items() if v}
    if not out:
        raise SettingsError(t("weights_all_zero"))
    return out


def load(text: str | None) -> Settings:
    """The saved settings (None: the defaults). A saved document is valid: it was checked before saving."""
    return DEFAULTS if not text else from_json(text)


def higher_is_better(metric: str) -> bool:
    return RATE_TARGETS[metric][2] if metric in RATE_TARGETS else HOUR_TARGETS.get(metric, True)


def ratio(metric: str, value: float | None, settings: Settings) -> float | None:
    """CityScore: the figure over its target (target over figure where lower is better); None without either."""
    target = settings.targets.get(metric)
    if target is None or value is None or math.isnan(value):
        return None
    if higher_is_better(metric):
        return min(value / target, RATIO_CAP) if target > 0 else None
    return RATIO_CAP if value <= 0 else min(target / value, RATIO_CAP)


def status(metric: str, value: float | None, settings: Settings, counts: tuple[int, int] | None = None) -> str | None:
    """green, amber or red against the target (see the module's docstring); None without a target or a value.

    ``counts`` (successes, trials) let a rate's miss be tested against chance.
    """
    target = settings.targets.get(metric)
    if target is None or value is None or math.isnan(value):
        return None
    better = higher_is_better(metric)
    if (value >= target) if better else (value <= target):
        return "green"
    if metric in RATE_TARGETS and counts is not None:
        k, n = counts
        significant = fairness.below_target(k, n, target) if better else fairness.above_target(k, n, target)
        return "red" if significant else "amber"
    r = ratio(metric, value, settings)
    return "amber" if r is not None and r >= AMBER_RATIO else "red"
