"""The Chinese font that reports embed: found on the machine, never downloaded.

PDF reports embed a subset of it (so they read on any PC) and the charts are drawn
with it. Debian's ``fonts-noto-cjk`` provides Noto Sans CJK SC; common alternatives
on Chinese office machines are accepted too.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTCollection
from matplotlib import font_manager

from gridpulse.strings import t

# In order of preference: all contain the simplified Chinese glyphs (GB 2312 and more).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
)
# Latin text in charts falls back to this when the CJK font lacks a glyph.
FALLBACK_FAMILY = "DejaVu Sans"


class FontMissingError(RuntimeError):
    """No Chinese font is installed: reports would show empty boxes instead of text."""


@dataclass(frozen=True)
class Face:
    path: Path
    index: int  # face number inside a .ttc collection, 0 for a single font file


@dataclass(frozen=True)
class CjkFont:
    family: str
    regular: Face
    bold: Face


@lru_cache(maxsize=1)
def cjk_font() -> CjkFont:
    """The first installed family of ``CJK_FAMILIES``, with its regular and bold faces."""
    found = _first_installed()
    if found is None and _system_fonts_added():
        found = _first_installed()
    if found is None:
        raise FontMissingError(t("report_no_cjk_font"))
    return found


@lru_cache(maxsize=1)
def _system_fonts_added() -> bool:
    """Add the system's fonts that matplotlib's list lacks; done once per process (True: looked).

    matplotlib keeps its list of fonts on disk (~/.cache/matplotlib) from its first import on this machine: a font
    installed after that (fonts-noto-cjk added to a machine that had run matplotlib before) is not in it.
    """
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            with contextlib.suppress(OSError, RuntimeError, ValueError):  # a file matplotlib cannot read
                font_manager.fontManager.addfont(path)
    return True


def _first_installed() -> CjkFont | None:
    entries = font_manager.fontManager.ttflist
    for family in CJK_FAMILIES:
        faces = [e for e in entries if e.name == family and e.style == "normal"]
        if not faces:
            continue
        regular = min(faces, key=lambda e: abs(_weight(e.weight) - 400))
        bold = min(faces, key=lambda e: abs(_weight(e.weight) - 700))
        return CjkFont(family, _face(regular.fname, family), _face(bold.fname, family))
    return None


def _weight(value: int | str) -> int:
    names = {"regular": 400, "normal": 400, "medium": 500, "bold": 700, "black": 900, "light": 300}
    return value if isinstance(value, int) else names.get(str(value).lower(), 400)


def _face(fname: str, family: str) -> Face:
    path = Path(fname)
    if path.suffix.lower() != ".ttc":
        return Face(path, 0)
    for i, font in enumerate(TTCollection(str(path), lazy=True).fonts):
        if font["name"].getBestFamilyName() == family or font["name"].getDebugName(1) == family:
            return Face(path, i)
    return Face(path, 0)


def matplotlib_families() -> list[str]:
    """``font.family`` for charts: the CJK font first, a Latin fallback after it."""
    return [cjk_font().family, FALLBACK_FAMILY]
