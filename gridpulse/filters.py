"""The shared filter set every page applies, and the SQL conditions it stands for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any


@dataclass(frozen=True)
class Filters:
    """Which cases a figure covers: a period (inclusive dates) and optional value lists.

    An empty tuple means "all". A community or grid filter excludes unassigned cases,
    since they belong to no community.
    """

    start: date
    end: date
    communities: tuple[str, ...] = field(default=())
    grids: tuple[str, ...] = field(default=())
    categories: tuple[str, ...] = field(default=())
    sources: tuple[str, ...] = field(default=())

    @property
    def start_ts(self) -> datetime:
        return datetime.combine(self.start, time.min)

    @property
    def end_ts(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time.min)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one, same other filters."""
        new_end = self.start - timedelta(days=1)
        return Filters(
            new_end - timedelta(days=self.days - 1),
            new_end,
            self.communities,
            self.grids,
            self.categories,
            self.sources,
        )


DEFAULT_MONTHS = 6  # half a year: long enough to rank grids, short enough to be current


def default_period(as_of: date, first: date) -> tuple[date, date]:
    """The last six calendar months up to ``as_of`` (the current month so far included)."""
    month = as_of.month - DEFAULT_MONTHS + 1
    start = date(as_of.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return max(first, start), as_of


def _conditions(choices: list[tuple[str, tuple[str, ...], str]]) -> tuple[list[str], dict[str, Any]]:
    """One condition per chosen value list: (parameter name, chosen values, condition on ``$name``)."""
    chosen = [(name, values, cond) for name, values, cond in choices if values]
    return [cond for _, _, cond in chosen], {name: list(values) for name, values, _ in chosen}


def case_conditions(f: Filters, alias: str = "c") -> tuple[list[str], dict[str, Any]]:
    """SQL conditions (bound parameters only) for everything but the period."""
    in_communities = "grid_code IN (SELECT grid_code FROM grids WHERE list_contains($communities, community))"
    return _conditions([
        ("communities", f.communities, f"{alias}.{in_communities}"),
        ("grids", f.grids, f"list_contains($grids, {alias}.grid_code)"),
        ("categories", f.categories, f"list_contains($categories, {alias}.category)"),
        ("sources", f.sources, f"list_contains($sources, {alias}.source)"),
    ])  # fmt: skip


def grid_conditions(f: Filters, alias: str = "g") -> tuple[list[str], dict[str, Any]]:
    """SQL conditions selecting the grids a filter covers."""
    return _conditions([
        ("communities", f.communities, f"list_contains($communities, {alias}.community)"),
        ("grids", f.grids, f"list_contains($grids, {alias}.grid_code)"),
    ])  # fmt: skip
