"""Turning raw cell values into typed values, vectorised, with the rows that failed.

Each parser returns the parsed values and a mask of rows whose value was present but
could not be read; an empty cell is not a failure (the caller decides if it is needed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from gridpulse.ingest.mapping import normal

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serial numbers from 1982 to 2119: a number outside is not a date from an export.
EXCEL_SERIAL_RANGE = (30_000, 80_000)
EARLIEST_YEAR = 2000
LOCAL_TZ = "Asia/Shanghai"
YEAR_FIRST = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")
# A zone only after a time: 2026-03-01T09:00:00+08:00, ...09:00:00.000Z, ...09:00+08 (not the date's -01).
HAS_ZONE = re.compile(r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$")
SHORT_ZONE = re.compile(r"([+-]\d\d)$")
DOTTED_DATE = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})")
# Day and month as numbers both ways round (12/31/2017, 31.12.17, 1/1/20), or a two-digit year first (26/3/1):
# which part is which the file cannot say.
DAY_MONTH = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{1,4}\b")
_SEP = r"\s*[/.\-]\s*"
_TIME = (
    r"(?:(?:\s*T\s*|\s+|(?=上午|下午))(?P<ap1>上午|下午|AM|PM)?\s*(?P<h>\d{1,2})\s*[:：]\s*(?P<mi>\d{2})"
    r"(?:\s*[:：]\s*(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<ap2>上午|下午|[AaPp]\.?[Mm]\.?)?)?\s*$"
)
_ORDERED = {
    "ymd": re.compile(rf"^(?P<y>\d{{4}}|\d{{2}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}}){_TIME}"),
    "dmy": re.compile(rf"^(?P<d>\d{{1,2}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<y>\d{{4}}|\d{{2}}){_TIME}"),
    "mdy": re.compile(rf"^(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}}){_SEP}(?P<y>\d{{4}}|\d{{2}}){_TIME}"),
}
CHINESE_DATE = str.maketrans({"年": "-", "月": "-", "日": " ", "号": " ", "时": ":", "点": ":", "分": ":", "秒": "",
                              "/": "-", "：": ":"})  # fmt: skip


def per_unique(values: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``values.map(fn)``, calling ``fn`` once per distinct value (statuses, words, repeated dates)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(u) for u in uniques]
    return pd.Series(results[codes], index=values.index, dtype=object)


def _is_blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def blank(values: pd.Series) -> pd.Series:
    """True where a cell holds nothing (None, NaN, empty or whitespace text)."""
    if _all_text(values):  # CSV cells: one vectorised pass
        return values.astype(str).str.strip().eq("").astype(bool)
    return per_unique(values, _is_blank).astype(bool)


def _all_text(values: pd.Series) -> bool:
    return pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")


def text(values: pd.Series) -> pd.Series:
    """Cells as stripped text, None when blank; 12345.0 from Excel becomes '12345'."""
    if _all_text(values):
        stripped = values.astype(str).str.strip()
        return stripped.astype(object).where(stripped.ne(""), None)

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip()
        return s or None

    return per_unique(values, one)


def datetimes(values: pd.Series, latest: datetime, order: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Local (Beijing) times from ISO text, Chinese dates (2026年3月1日 9时), 2026/3/1, 20260301,
    Excel serial numbers and Excel date cells; 12-hour clocks (3:05 PM, 下午3:05) and times without seconds.

    ``order`` (``ymd``, ``dmy`` or ``mdy``: what the user says the export writes) also reads day-first or
    month-first dates and two-digit years (12/31/2017 11:59:58 PM, 1/1/20 0:05); without it they are
    refused, since 03/04 may be either (``ambiguous_order`` says which rows failed that way)."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    empty = blank(values)
    if empty.all():
        return out, ~empty
    is_dt = per_unique(values, lambda v: isinstance(v, (datetime, date))).astype(bool)
    if is_dt.any():
        out[is_dt] = pd.to_datetime(
            values[is_dt].map(lambda v: pd.Timestamp(v).tz_localize(None) if getattr(v, "tzinfo", None) else v)
        )
    rest = ~empty & ~is_dt
    raw = per_unique(values[rest], lambda v: str(v).strip()).astype(str)
    for fast in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):  # most exports: one of these, parsed in C
        if raw.empty:
            break
        parsed = pd.to_datetime(raw, format=fast, errors="coerce")
        hit = parsed.notna()
        out[raw.index[hit]] = parsed[hit]
        raw = raw[~hit]
    number = pd.to_numeric(raw, errors="coerce")
    digits = raw.str.fullmatch(r"\d{8}|\d{12}|\d{14}")
    for width, fmt in ((8, "%Y%m%d"), (12, "%Y%m%d%H%M"), (14, "%Y%m%d%H%M%S")):
        pick = digits & (raw.str.len() == width)
        if pick.any():
            out[pick[pick].index] = pd.to_datetime(raw[pick], format=fmt, errors="coerce")
    serial = number.notna() & ~digits & number.between(*EXCEL_SERIAL_RANGE)
    if serial.any():
        out[serial[serial].index] = (EXCEL_EPOCH + pd.to_timedelta(number[serial], unit="D")).dt.round("s")
    # Numeric dates with a 12- or 24-hour time: year-first always, the user's order where given.
    for pattern, four in (("ymd", order != "ymd"), *(((order, False),) if order in ("dmy", "mdy") else ())):
        numeric_dates = _ordered(raw[number.isna()], pattern, four_digit_year=four, latest=latest)
        hit = numeric_dates.index[numeric_dates.notna()]
        out[hit] = numeric_dates[hit]
        raw, number = raw.drop(hit), number.drop(hit)
    words = raw[number.isna()].str.replace(DOTTED_DATE, r"\1-\2-\3", regex=True).str.translate(CHINESE_DATE)
    words = words.str.replace(r"\s+", " ", regex=True).str.strip(" :-")
    words = words.str.replace(r"( \d{1,2})$", r"\1:00", regex=True)  # 2026年3月1日 9时: nine o'clock
    words = words[words.str.match(YEAR_FIRST.pattern)]
    zoned = words.str.contains(HAS_ZONE.pattern, regex=True)
    if zoned.any():
        text = words[zoned].str.replace(SHORT_ZONE, r"\1:00", regex=True).str.replace(" ", "T", n=1)
        parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        out[parsed.index] = _naive(parsed.dt.tz_convert(LOCAL_TZ))
    plain = words[~zoned]
    if len(plain):
        parsed = pd.to_datetime(plain.str.replace("T", " ", n=1), format="ISO8601", errors="coerce")
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(plain[retry], format="mixed", yearfirst=True, errors="coerce")
        out[plain.index] = _naive(parsed)
    limit = pd.Timestamp(latest) + pd.Timedelta(days=366)
    implausible = out.notna() & ((out.dt.year < EARLIEST_YEAR) | (out > limit))
    out[implausible] = pd.NaT
    failed = ~empty & out.isna()
    return out, failed


def ambiguous_order(values: pd.Series) -> pd.Series:
    """Cells written day and month as numbers (12/31/2017, 03.04.26): read only when the order is given."""
    return per_unique(values, lambda v: isinstance(v, str) and bool(DAY_MONTH.match(v.strip()))).astype(bool)


def _ordered(raw: pd.Series, order: str, four_digit_year: bool, latest: datetime) -> pd.Series:
    """Numeric dates in ``order`` with an optional 12- or 24-hour time; NaT where a text is not one.

    A two-digit year is this century's up to next year (``26`` -> 2026, ``99`` -> 1999, refused later as
    before 2000). ``13:00 PM`` and ``0:30 上午`` are not times.
    """
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    if raw.empty:
        return out
    parts = raw.str.extract(_ORDERED[order])
    found = parts["y"].notna()
    if four_digit_year:
        found &= parts["y"].str.len().eq(4)
    if not found.any():
        return out
    p = parts[found]
    year = pd.to_numeric(p["y"]).astype(int)
    short = p["y"].str.len().eq(2)
    pivot = latest.year % 100 + 1
    year = year.where(~short, np.where(year <= pivot, 2000 + year, 1900 + year))
    hour = pd.to_numeric(p["h"]).fillna(0).astype(int)
    minute, second = pd.to_numeric(p["mi"]).fillna(0), pd.to_numeric(p["s"]).fillna(0)
    marker = p["ap1"].fillna(p["ap2"]).fillna("").str.replace(".", "", regex=False).str.upper()
    pm, am = marker.isin(["PM", "下午"]), marker.isin(["AM", "上午"])
    # 25:00 or 10:75 is no time (pandas would carry it into the next hour or day)
    bad_clock = ((pm | am) & ((hour > 12) | (hour == 0))) | (hour > 23) | (minute > 59) | (second > 59)
    hour = hour.where(~(pm & (hour < 12)), hour + 12).where(~(am & (hour == 12)), 0)
    stamps = pd.to_datetime(
        pd.DataFrame({
            "year": year, "month": pd.to_numeric(p["m"]), "day": pd.to_numeric(p["d"]), "hour": hour,
            "minute": minute, "second": second,
        }),
        errors="coerce",
    )  # fmt: skip
    out[p.index] = stamps.where(~bad_clock).astype("datetime64[us]")
    return out


def _naive(parsed: pd.Series) -> pd.Series:
    """Times without a zone (Beijing local), at the column's resolution."""
    parsed = pd.to_datetime(parsed, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[us]")


def numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats (also from '121.5°' or full-width digits); failed where present but not a number."""
    raw = per_unique(
        values, lambda v: v if isinstance(v, (int, float)) else str(v).strip().translate(FULL_WIDTH).rstrip("°")
    )
    out = pd.to_numeric(raw, errors="coerce").astype(float)
    return out, ~blank(values) & out.isna()


FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


def satisfaction(values: pd.Series, words: dict[str, int]) -> tuple[pd.Series, pd.Series]:
    """1-5 stars from a digit ('5', '4星', '3分') or a word (满意 -> 5, 基本满意 -> 4, ...)."""
    lookup = {normal(k): v for k, v in words.items()}

    def one(v: object) -> float:
        s = normal(str(v)).removesuffix("星").removesuffix("分")
        if s in lookup:
            return float(lookup[s])
        if s.isdigit() and 1 <= int(s) <= 5:
            return float(s)
        return np.nan

    out = per_unique(values, one).astype(float)
    return out, ~blank(values) & out.isna()


def levels(values: pd.Series, words: dict[str, int]) -> tuple[pd.Series, pd.Series]:
    lookup = {normal(k): v for k, v in words.items()}

    def one(v: object) -> float:
        s = normal(str(v)).removesuffix("级")
        if s in ("1", "2", "3"):
            return float(s)
        return float(lookup.get(s, np.nan))

    out = per_unique(values, one).astype(float)
    return out, ~blank(values) & out.isna()


def flags(values: pd.Series, yes: set[str], no: set[str]) -> tuple[pd.Series, pd.Series]:
    norm = per_unique(values, lambda v: normal(str(v)) if v is not None else "")
    out = norm.isin({normal(y) for y in yes})
    failed = ~norm.isin({normal(y) for y in yes} | {normal(n) for n in no}) & ~blank(values)
    return out, failed
