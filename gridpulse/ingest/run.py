"""One import, start to end: read, map, check, place, write in one transaction, summarise."""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec

import pandas as pd

from geo import chinacrs
from gridpulse import clock, dbopen
from gridpulse.ingest import mapping, rows, sources
from gridpulse.ingest.mapping import MappingSpec
from gridpulse.ingest.sources import ImportFileError
from gridpulse.scope import Scope
from gridpulse.store import CASE_COLUMNS, RESOURCE_COLUMNS, Store
from gridpulse.strings import t

TOP_REASONS = 5
MAX_NEW_CATEGORIES = 10
QUOTED = re.compile(r"“[^”]*”")


@dataclass
class Summary:
    """What an import did: the counts, the commonest reasons for rejection, the warnings."""

    record: dict[str, Any]
    top_reasons: list[tuple[str, int]]
    warnings: dict[str, int]
    seconds: float
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.record["rows_read"] / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        r = self.record
        out = [t("imp_summary", file=r["file_name"], read=r["rows_read"], inserted=r["inserted"], updated=r["updated"],
                 unchanged=r["unchanged"], rejected=r["rejected"], seconds=self.seconds)]  # fmt: skip
        out += [t("imp_summary_reason", reason=reason, n=n) for reason, n in self.top_reasons]
        out += [t("imp_summary_warning", warning=w, n=n) for w, n in self.warnings.items() if n]
        return out


P = ParamSpec("P")


def audit_failure(store: Store, kind: str, file_name: str, username: str | None, error: BaseException | str) -> None:
    """An ``import_failed`` audit line with the reason, once per error; never raises.

    Where the database cannot be written (read-only, a full disk) there is no line, only a log warning.
    """
    if isinstance(error, BaseException):
        if getattr(error, "gp_audited", False):
            return
        with contextlib.suppress(AttributeError):
            error.gp_audited = True  # type: ignore[attr-defined]
    detail = f"{kind} {file_name}: {error}"[:2000]
    try:
        store.audit(clock.now(), username, "import_failed", t("whole_street"), detail)
    except Exception as err:  # the reason the import failed is the one to report, not this
        dbopen.log.warning("audit of a failed import not saved: %s", err)


def audited_import(fn: Callable[P, Summary]) -> Callable[P, Summary]:
    """An import that is refused on a read-only database, and audited when it fails or is refused.

    A database in trouble (a full disk, a damaged block, …) is said in Chinese, as ``ImportFileError``:
    the import's transaction is rolled back, so nothing was written.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def run_audited(*args: P.args, **kwargs: P.kwargs) -> Summary:
        given = signature.bind(*args, **kwargs).arguments
        store: Store = given["store"]
        kind = str(given.get("kind", "grids"))
        name = str(given.get("file_name") or Path(given["path"]).name)
        username = given.get("username")
        try:
            if getattr(store, "read_only", False):
                raise ImportFileError(t("imp_refused_read_only", reason=store.read_only_reason))
            return fn(*args, **kwargs)
        except ImportFileError as err:
            audit_failure(store, kind, name, username, err)
            raise
        except Exception as err:
            found = dbopen.translate(err, store.path)
            if found is None:  # not the database's trouble: a bug, audited and raised as it is
                audit_failure(store, kind, name, username, f"{type(err).__name__}: {err}")
                raise
            audit_failure(store, kind, name, username, found.message)
            raise ImportFileError(f"{found.message}{found.hint}") from err

    return run_audited


@audited_import
def import_file(
    store: Store,
    kind: str,
    path: Path,
    *,
    crs: str | None = None,
    maps: dict[str, str] | None = None,
    spec: MappingSpec | None = None,
    sheet: str | None = None,
    username: str | None = None,
    file_name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Import cases or resources from ``path`` (see ``sources`` for the formats).

    Raises ``ImportFileError`` (nothing written) when the file cannot be read or lacks a
    required column; otherwise every row ends in the table or among the rejects.
    """
    if kind not in ("cases", "resources"):
        raise ImportFileError(t("imp_bad_kind", kind=kind))
    started = time.perf_counter()
    spec = spec or MappingSpec(kind=kind)
    system = coordinate_system(crs or spec.crs or "wgs84")
    spec.crs = system
    table = sources.open_table(Path(path), sheet)
    columns = mapping.resolve_columns(table.headers, kind, {**spec.columns, **(maps or {})})
    placer = rows.Placer(store.grid_shapes(Scope.street()))
    warnings: Counter[str] = Counter()
    if table.title_rows:
        warnings[t("warn_title_rows", titles="；".join(table.title_rows)[:200])] = len(table.title_rows)
    reasons: Counter[str] = Counter()
    latest = max(store.as_of(), clock.now())
    default_source = "Open311" if table.format == "open311" else t("default_source")
    known_categories = set(store.distinct_values(Scope.street(), "category")) if kind == "cases" else set()
    seen_categories: set[str] = set()

    def batches() -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        done = 0
        for chunk in table.chunks:
            if kind == "cases":
                result = rows.cases(chunk, columns, spec, placer, latest, default_source)
            else:
                result = rows.resources(chunk, columns, spec, placer)
            warnings.update(result.warnings)
            warnings[t("warn_blank_rows")] += chunk.blank_rows
            if chunk.total_rows:
                warnings[t("warn_total_rows", rows="、".join(map(str, chunk.total_rows[:5])))] += len(chunk.total_rows)
            if kind == "cases":
                seen_categories.update(result.rows["category"].dropna().unique())
            for text in result.rejects["reasons"]:
                reasons.update(QUOTED.sub("“…”", part) for part in text.split(t("reason_separator")))
            done += len(chunk.frame) + len(chunk.unreadable)
            if progress is not None:
                progress(done)
            yield result.rows, result.rejects

    info = {"ts": clock.now(), "username": username, "file_name": file_name or Path(path).name,
            "format": table.format, "encoding": table.encoding}  # fmt: skip
    update = case_update_columns(columns) if kind == "cases" else resource_update_columns(columns)
    record = store.import_rows(kind, batches(), update, info, warnings)
    duplicates = record.get("duplicates", 0)
    if duplicates:
        reasons[t("rej_duplicate_id", row="…")] += duplicates
    new = sorted(seen_categories - known_categories - {t("uncategorised")})
    if known_categories and new:  # a first import brings every category: nothing to flag then
        shown = t("list_separator").join(new[:MAX_NEW_CATEGORIES]) + ("…" if len(new) > MAX_NEW_CATEGORIES else "")
        warnings[t("warn_new_categories", names=shown)] = len(new)
    record["warnings"] = {w: n for w, n in warnings.items() if n}
    return Summary(record, reasons.most_common(TOP_REASONS), record["warnings"], time.perf_counter() - started, columns)


def coordinate_system(name: str) -> str:
    """``chinacrs.canonical`` with the importer's error type."""
    try:
        return chinacrs.canonical(name)
    except ValueError as err:
        raise ImportFileError(str(err)) from err


def case_update_columns(columns: dict[str, str]) -> list[str]:
    """The case columns a file provides (an existing case is updated in these only)."""
    out = {"case_id"}
    if {"status", "dispatched_at", "accepted_at", "resolved_at", "rated_at", "updated_at"} & set(columns):
        out.add("status")  # else the status would be guessed from a narrower export's missing steps
    for target in columns:
        if target in ("lon", "lat"):
            out |= {"lon", "lat", "grid_code", "placement"}
        elif target in ("grid", "community"):
            out |= {"grid_code", "placement"}
        elif target == "updated_at":
            out.add("resolved_at")
        elif target in CASE_COLUMNS:
            out.add(target)
    return [c for c in [*CASE_COLUMNS, "placement"] if c in out]


def resource_update_columns(columns: dict[str, str]) -> list[str]:
    out = {"resource_id", "name", "kind", "level"}
    if "lon" in columns or "lat" in columns:
        out |= {"lon", "lat", "grid_code"}
    return [c for c in RESOURCE_COLUMNS if c in out]
