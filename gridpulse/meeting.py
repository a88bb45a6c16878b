"""Joint-meeting (大屏) mode: what the projector shows, from the same views as the dashboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from gridpulse.filters import Filters
from gridpulse.safe_text import md_join, md_text
from gridpulse.strings import t

SECTIONS = ("kpis", "heatmap", "matrix", "ranking", "overdue", "departments", "red_black", "alerts")
MIN_ROTATE_SECONDS = 10  # shorter than this and nobody in the room can read a section
MAX_ROTATE_SECONDS = 3600  # longer is no rotation at all
# Dates a link may name when the data gives no bounds (a street or scope without cases yet).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
LINK_KEYS = frozenset({"start", "end", "community", "theme", "rotate", "section"})
RANKING_ROWS = 10
SOLO_MAP_HEIGHT = 760  # the heatmap alone on a 1920×1080 screen, below the title and above its legend
OVERDUE_ROWS = 12


@dataclass(frozen=True)
class MeetingOptions:
    """What the meeting-room link asks for. It can only narrow what the user's scope allows."""

    filters: Filters
    dark: bool = False
    rotate_seconds: int = 0  # 0: everything on one screen
    problems: tuple[str, ...] = ()
    section: str | None = None  # one section held on screen (the chair's choice), else all or rotating


def options_from_link(
    params: Mapping[str, str],
    default: Filters,
    communities: Sequence[str] | None = None,
    first: date | None = None,
    last: date | None = None,
) -> MeetingOptions:
    """Read ``?start=2026-06-01&end=2026-11-20&community=凤鸣社区&theme=dark&rotate=30`` (or ``&section=ranking``).

    Every parameter is checked: a bad value is left out (the default stays) and its
    problem is listed, in Chinese, in ``problems`` so the screen says what to fix in the
    link. ``communities`` are those the user may see (a community outside them, or a typo,
    is named and ignored); ``first``/``last`` bound the dates (the data's first day, as-of).
    """
    problems: list[str] = []
    start, end = default.start, default.end
    for key in ("start", "end"):
        if key in params:
            try:
                value = date.fromisoformat(params[key])
            except ValueError:
                problems.append(t("link_bad_date", name=key, value=md_text(params[key])))
                continue
            low, high = first or EARLIEST, last or LATEST
            if value < low or value > high:
                problems.append(t("link_date_outside", name=key, value=value, first=low, last=high))
                value = min(max(value, low), high)
            start, end = (value, end) if key == "start" else (start, value)
    if start > end:
        problems.append(t("link_start_after_end", start=start, end=end))
        start, end = default.start, default.end
    chosen = default.communities
    if params.get("community"):
        asked = [c.strip() for c in params["community"].split(",") if c.strip()]
        known = [c for c in asked if communities is None or c in communities]
        for unknown in (c for c in asked if c not in known):
            problems.append(t("link_bad_community", value=md_text(unknown), known=md_join(communities or ())))
        chosen = tuple(known) or default.communities
    rotate = 0
    if params.get("rotate"):
        try:
            rotate = int(params["rotate"])
            if rotate < 0:
                raise ValueError
            rotate = min(max(MIN_ROTATE_SECONDS, rotate), MAX_ROTATE_SECONDS) if rotate else 0
        except ValueError:
            problems.append(t("link_bad_rotate", value=md_text(params["rotate"])))
            rotate = 0
    theme = params.get("theme", "light")
    if theme not in ("light", "dark"):
        problems.append(t("link_bad_theme", value=md_text(theme)))
    section = params.get("section") or None
    if section is not None and section not in SECTIONS:
        problems.append(t("link_bad_section", value=md_text(section), known="、".join(SECTIONS)))
        section = None
    unknown_keys = sorted(set(params) - LINK_KEYS)
    if unknown_keys:
        problems.append(t("link_unknown_keys", keys=md_join(unknown_keys), known="、".join(sorted(LINK_KEYS))))
    f = Filters(start, end, chosen, default.grids, default.categories, default.sources)
    return MeetingOptions(f, theme == "dark", rotate, tuple(problems), section)


def section_at(seconds: float, rotate_seconds: int) -> str | None:
    """The section a rotating screen shows at a moment; None shows them all."""
    if rotate_seconds <= 0:
        return None
    return SECTIONS[int(seconds // rotate_seconds) % len(SECTIONS)]


def red_black_for_screen(lists: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The 红黑榜 rows one projector screen holds: the first kind of unit listed (grids for the street).

    Returns the rows and whether other kinds (communities, departments) were left for the report.
    """
    if lists.empty:
        return lists, False
    unit_col = t("rank_unit")
    first = lists[unit_col].iloc[0]
    shown = lists[lists[unit_col] == first].drop(columns=unit_col)
    return shown.reset_index(drop=True), len(shown) < len(lists)
