"""Raw rows -> GridPulse rows, each rejected row with its reasons, each fix counted as a warning."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from geo import chinacrs, join, shapes
from gridpulse.ingest import values
from gridpulse.ingest.mapping import LEVELS, NO, RESOURCE_KINDS, SATISFACTION, YES, MappingSpec, normal
from gridpulse.ingest.sources import Chunk, preview_rows
from gridpulse.strings import t

MAX_ID_CHARS = 64
# Mainland China with a margin: a point outside is a wrong or swapped coordinate.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (3.5, 54.0)
TIME_COLUMNS = ("reported_at", "dispatched_at", "accepted_at", "resolved_at", "rated_at", "deadline_at", "updated_at")
TEXT_COLUMNS = ("category", "source", "description", "address", "department", "reporter_name", "reporter_phone")
REJECT_COLUMNS = ["row_number", "raw", "reasons"]


@dataclass
class Result:
    """One chunk's outcome: rows to write, rows rejected (with reasons), warnings by text."""

    rows: pd.DataFrame
    rejects: pd.DataFrame
    warnings: Counter[str] = field(default_factory=Counter)


class Placer:
    """Puts cases and resources into grids: by coordinates, else (cases) by a grid's name or code."""

    def __init__(self, grid_rows: pd.DataFrame) -> None:
        self.empty = grid_rows.empty
        self.index = None if self.empty else join.GridIndex(shapes.grids_frame(grid_rows))
        by_name: dict[str, list[str]] = {}
        for code, name in zip(grid_rows["grid_code"], grid_rows["grid_name"], strict=True):
            by_name.setdefault(normal(name), []).append(code)
            by_name.setdefault(normal(code), []).append(code)
        self.by_name = {k: v[0] for k, v in by_name.items() if len(set(v)) == 1}

    def by_point(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        if self.index is None:
            return np.full(len(lon), None, dtype=object)
        return self.index.assign(lon, lat)

    def by_grid_name(self, names: pd.Series) -> pd.Series:
        return values.per_unique(names, lambda v: None if v is None else self.by_name.get(normal(v)))


class _Problems:
    """Reasons per row; a row with any reason is rejected."""

    def __init__(self, n: int) -> None:
        self.reasons: list[list[str]] = [[] for _ in range(n)]

    def add(self, mask: pd.Series | np.ndarray, reason: str | Callable[[int], str]) -> None:
        """Flag rows in ``mask``; ``reason`` is a text, or a function of the row's position."""
        mask = np.asarray(mask, dtype=bool)
        for i in np.flatnonzero(mask):
            self.reasons[i].append(reason if isinstance(reason, str) else reason(i))

    @property
    def bad(self) -> np.ndarray:
        return np.array([bool(r) for r in self.reasons], dtype=bool)


def _rejects(chunk: Chunk, problems: _Problems) -> pd.DataFrame:
    bad = problems.bad
    raw = preview_rows(chunk.frame[bad]) if bad.any() else []
    numbers = np.asarray(chunk.row_numbers)[bad].tolist()
    joined = [t("reason_separator").join(p) for p in problems.reasons if p]
    rows = [(n, r, p) for n, r, p in zip(numbers, raw, joined, strict=True)]
    rows += [(n, r, reason) for n, r, reason in chunk.unreadable]
    return pd.DataFrame(rows, columns=REJECT_COLUMNS)


def _column(chunk: Chunk, columns: dict[str, str], target: str) -> pd.Series:
    header = columns.get(target)
    if header is None:
        return pd.Series([None] * len(chunk.frame), index=chunk.frame.index, dtype=object)
    return chunk.frame[header]


def coordinates(lon_raw: pd.Series, lat_raw: pd.Series, crs: str, problems: _Problems,
                warnings: Counter[str]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """WGS-84 lon/lat (NaN when absent); bad ones flagged, swapped ones fixed with a warning."""
    lon, lon_bad = values.numbers(lon_raw)
    lat, lat_bad = values.numbers(lat_raw)
    problems.add(lon_bad | lat_bad, t("rej_coord_not_number"))
    half = lon.isna() ^ lat.isna()
    problems.add(half & ~lon_bad & ~lat_bad, t("rej_coord_half"))
    zero = (lon == 0) & (lat == 0)
    problems.add(zero, t("rej_coord_zero"))
    lon, lat = lon.to_numpy(copy=True), lat.to_numpy(copy=True)
    lon[half | zero], lat[half | zero] = np.nan, np.nan
    system = chinacrs.canonical(crs)
    if system in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        swapped = _inside(lat, lon) & ~_inside(lon, lat)
        if swapped.any():
            lon[swapped], lat[swapped] = lat[swapped], lon[swapped].copy()
            warnings[t("warn_swapped")] += int(swapped.sum())
    present = np.isfinite(lon) & np.isfinite(lat)
    if present.any():
        lon[present], lat[present] = chinacrs.to_wgs84(lon[present], lat[present], system)
    outside = present & ~_inside(lon, lat)
    problems.add(outside, t("rej_coord_outside"))
    lon[outside], lat[outside] = np.nan, np.nan
    return lon, lat


def _inside(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


SCIENTIFIC = re.compile(r"^[+-]?\d(?:\.\d+)?[eE][+-]?\d+$")
EXACT_FLOAT_DIGITS = 1e15  # a float cell cannot hold a longer number exactly


def identifiers(raw: pd.Series, problems: _Problems, missing_reason: str) -> pd.Series:
    mangled = values.per_unique(
        raw,
        lambda v: (
            (isinstance(v, float) and abs(v) >= EXACT_FLOAT_DIGITS)
            or (isinstance(v, str) and bool(SCIENTIFIC.match(v.strip())))
        ),
    ).astype(bool)
    problems.add(mangled, t("rej_id_scientific"))
    ids = values.text(raw)
    problems.add(ids.isna(), missing_reason)
    problems.add(ids.map(lambda v: v is not None and len(v) > MAX_ID_CHARS), t("rej_id_too_long", n=MAX_ID_CHARS))
    return ids


# ---- cases -------------------------------------------------------------------------


def cases(chunk: Chunk, columns: dict[str, str], spec: MappingSpec, placer: Placer, latest: datetime,
          default_source: str) -> Result:  # fmt: skip
    n = len(chunk.frame)
    problems, warnings = _Problems(n), Counter[str]()
    col = lambda target: _column(chunk, columns, target)  # noqa: E731
    out = pd.DataFrame(index=chunk.frame.index)
    out["case_id"] = identifiers(col("case_id"), problems, t("rej_no_case_id"))
    for name in TIME_COLUMNS:
        parsed, failed = values.datetimes(col(name), latest, spec.date_order)
        raw = col(name)
        if name == "reported_at":  # required: without it a case cannot be counted in any period
            # 12/31/2017 without a date order: say which option reads it, not only that it is unreadable
            unsaid = (failed & values.ambiguous_order(raw)) if spec.date_order is None else failed & False
            for mask, key in ((unsaid, "rej_time_order"), (failed & ~unsaid, "rej_bad_time")):
                problems.add(mask, lambda i, raw=raw, key=key: t(key, column=columns["reported_at"], value=raw.iloc[i]))
        elif failed.any():  # optional: the case is kept, the unreadable time left empty
            warnings[t("warn_bad_time", column=columns[name])] += int(failed.sum())
        out[name] = parsed
    problems.add(values.blank(col("reported_at")), t("rej_no_reported_at"))
    for name in TEXT_COLUMNS:
        out[name] = values.text(col(name))
    if spec.categories:
        lookup = {normal(k): v for k, v in spec.categories.items()}
        out["category"] = out["category"].map(lambda v: lookup.get(normal(v), v) if v is not None else None)
    no_category = out["category"].isna()
    out.loc[no_category, "category"] = t("uncategorised")
    warnings[t("warn_no_category")] += int(no_category.sum()) if "category" in columns else 0
    out["source"] = out["source"].fillna(spec.source or default_source)
    _status(out, col("status"), spec, problems, warnings)
    resolved_without_time = out["status"].isin(["resolved", "rated"]) & out["resolved_at"].isna()
    if "updated_at" in columns:  # Open311: a closed request's last update is when it was closed
        out.loc[resolved_without_time, "resolved_at"] = out.loc[resolved_without_time, "updated_at"]
        resolved_without_time = out["status"].isin(["resolved", "rated"]) & out["resolved_at"].isna()
    warnings[t("warn_resolved_no_time")] += int(resolved_without_time.sum())
    before = out["resolved_at"].notna() & out["reported_at"].notna() & (out["resolved_at"] < out["reported_at"])
    date_only_same_day = (out["resolved_at"] == out["resolved_at"].dt.normalize()) & (
        out["resolved_at"].dt.normalize() == out["reported_at"].dt.normalize()
    )
    before &= ~date_only_same_day  # 办结时间 written as a date only: the same day is not "before"
    problems.add(before, t("rej_resolved_before_reported"))
    stars, bad_stars = values.satisfaction(col("satisfaction"), SATISFACTION)
    warnings[t("warn_bad_satisfaction")] += int(bad_stars.sum())
    out["satisfaction"] = pd.array(stars, dtype="Int8")
    level, bad_level = values.levels(col("handled_level"), LEVELS)
    warnings[t("warn_bad_level")] += int(bad_level.sum())
    out["handled_level"] = pd.array(level, dtype="Int8")
    reopened, bad_flag = values.flags(col("reopened"), YES, NO)
    warnings[t("warn_bad_flag")] += int(bad_flag.sum())
    out["reopened"] = reopened.astype(bool)
    lon, lat = coordinates(col("lon"), col("lat"), spec.crs or "wgs84", problems, warnings)
    out["lon"], out["lat"] = lon, lat
    out["grid_code"] = placer.by_point(lon, lat)
    out["placement"] = np.where(pd.notna(out["grid_code"]), "point", None)
    unplaced = out["grid_code"].isna() & ~np.isfinite(lon)
    by_name = placer.by_grid_name(values.text(col("grid")))
    named = unplaced & by_name.notna()
    out.loc[named, "grid_code"] = by_name[named]
    out.loc[named, "placement"] = "name"
    warnings[t("warn_placed_by_name")] += int(named.sum())
    warnings[t("warn_unassigned")] += int((out["grid_code"].isna() & ~problems.bad).sum())
    bad = problems.bad
    rows = out[~bad].drop(columns=["updated_at"])
    rows.insert(0, "row_number", np.asarray(chunk.row_numbers)[~bad])
    return Result(rows.reset_index(drop=True), _rejects(chunk, problems), +warnings)


def _status(out: pd.DataFrame, raw: pd.Series, spec: MappingSpec, problems: _Problems, warnings: Counter[str]) -> None:
    """The five-step status from the file's words (editable list), else from the timestamps."""
    derived = np.select(
        [out["rated_at"].notna(), out["resolved_at"].notna(), out["accepted_at"].notna(), out["dispatched_at"].notna()],
        ["rated", "resolved", "accepted", "dispatched"],
        "reported",
    )
    words = values.text(raw)
    lookup = spec.status_map()
    mapped = values.per_unique(words, lambda v: None if v is None else lookup.get(normal(v)))
    unknown = words.notna() & mapped.isna()
    problems.add(unknown, lambda i: t("rej_unknown_status", value=words.iloc[i]))
    out["status"] = mapped.where(mapped.notna(), pd.Series(derived, index=out.index))


# ---- resources --------------------------------------------------------------------


def resources(chunk: Chunk, columns: dict[str, str], spec: MappingSpec, placer: Placer) -> Result:
    n = len(chunk.frame)
    problems, warnings = _Problems(n), Counter[str]()
    col = lambda target: _column(chunk, columns, target)  # noqa: E731
    out = pd.DataFrame(index=chunk.frame.index)
    out["resource_id"] = identifiers(col("resource_id"), problems, t("rej_no_resource_id"))
    out["name"] = values.text(col("name"))
    problems.add(out["name"].isna(), t("rej_no_name"))
    kinds = values.text(col("kind"))
    lookup = {normal(k): v for k, v in RESOURCE_KINDS.items()}
    found = kinds.map(lambda v: lookup.get(normal(v)) if v is not None else None)
    problems.add(found.isna(), lambda i: t("rej_unknown_kind", value=kinds.iloc[i] or t("imp_empty_value")))
    out["kind"] = found.map(lambda k: k[0] if k else None)
    level = found.map(lambda k: k[1] if k else None)
    if "level" in columns:
        given, bad = values.levels(col("level").map(lambda v: str(v).removeprefix("第")), {"一": 1, "二": 2, "三": 3,
                                                                                             "四": 4})  # fmt: skip
        level = level.where(level.notna(), given)
        warnings[t("warn_bad_level")] += int(bad.sum())
    out["level"] = pd.array(pd.to_numeric(level, errors="coerce"), dtype="Int8")
    lon, lat = coordinates(col("lon"), col("lat"), spec.crs or "wgs84", problems, warnings)
    out["lon"], out["lat"] = lon, lat
    out["grid_code"] = placer.by_point(lon, lat)
    warnings[t("warn_unassigned")] += int((out["grid_code"].isna() & ~problems.bad).sum())
    bad = problems.bad
    rows = out[~bad]
    rows.insert(0, "row_number", np.asarray(chunk.row_numbers)[~bad])
    return Result(rows.reset_index(drop=True), _rejects(chunk, problems), +warnings)
