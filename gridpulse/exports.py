"""Files users take away: formula-safe CSV (personal data is masked before it gets here)."""

from __future__ import annotations

import pandas as pd

# A cell starting with one of these is run as a formula by Excel/WPS ("CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run is prefixed with an apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel opens Chinese text correctly; every cell formula-safe."""
    safe = frame.map(safe_cell)
    safe.columns = [safe_cell(c) for c in safe.columns]
    return safe.to_csv(index=False).encode("utf-8-sig")
