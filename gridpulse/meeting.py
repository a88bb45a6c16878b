"""Joint-meeting (大屏) mode: what the projector shows, from the same views as the dashboard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from gridpulse.filters import Filters

SECTIONS = ("kpis", "heatmap", "matrix", "ranking", "overdue")
MIN_ROTATE_SECONDS = 10  # shorter than this and nobody in the room can read a section
RANKING_ROWS = 10
OVERDUE_ROWS = 12


@dataclass(frozen=True)
class MeetingOptions:
    """What the meeting-room link asks for. It can only narrow what the user's scope allows."""

    filters: Filters
    dark: bool = False
    rotate_seconds: int = 0  # 0: everything on one screen
    problems: tuple[str, ...] = ()


def options_from_link(params: Mapping[str, str], default: Filters) -> MeetingOptions:
    """Read ``?start=2026-06-01&end=2026-11-20&community=凤鸣社区&theme=dark&rotate=30``.

    Bad values are ignored (the default stays) and listed in ``problems`` so the
    screen can say what to fix in the link.
    """
    problems: list[str] = []
    start, end = default.start, default.end
    for key in ("start", "end"):
        if key in params:
            try:
                value = date.fromisoformat(params[key])
            except ValueError:
                problems.append(f"{key}={params[key]}")
                continue
            start, end = (value, end) if key == "start" else (start, value)
    if start > end:
        problems.append(f"start={start} > end={end}")
        start, end = default.start, default.end
    communities = tuple(c for c in params.get("community", "").split(",") if c) or default.communities
    rotate = 0
    if params.get("rotate"):
        try:
            rotate = max(MIN_ROTATE_SECONDS, int(params["rotate"]))
        except ValueError:
            problems.append(f"rotate={params['rotate']}")
    f = Filters(start, end, communities, default.grids, default.categories, default.sources)
    return MeetingOptions(f, params.get("theme") == "dark", rotate, tuple(problems))


def section_at(seconds: float, rotate_seconds: int) -> str | None:
    """The section a rotating screen shows at a moment; None shows them all."""
    if rotate_seconds <= 0:
        return None
    return SECTIONS[int(seconds // rotate_seconds) % len(SECTIONS)]
