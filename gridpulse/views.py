"""What each page shows, computed from the store: one function per view, no Streamlit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import shapes
from gridpulse import config, exports, formats, metrics, scorecard, targets
from gridpulse.filters import Filters
from gridpulse.scope import GRID_HEAD, LIAISON, SECRETARY, Scope
from gridpulse.store import Store
from gridpulse.strings import label, t

KPI_KEYS = [
    "cases", "resolved", "resolution_rate", "on_time_rate",
    "satisfaction", "backlog", "overdue", "unassigned",
]  # fmt: skip
RATE_KPIS = frozenset(k for k in KPI_KEYS if k in metrics.RATE_METRICS)


@dataclass(frozen=True)
class Kpi:
    key: str
    value: float | None
    delta: float | None  # against the previous period of the same length
    is_rate: bool


def headline(store: Store, scope: Scope, f: Filters, as_of: datetime) -> dict[str, float | None]:
    """The street's (or selection's) headline figures for one period."""
    comp = metrics.with_rates(store.case_components(scope, f, as_of)).iloc[0]
    return {k: (None if pd.isna(comp[k]) else float(comp[k])) for k in [*KPI_KEYS, "median_hours", "due"]}


def overview_kpis(store: Store, scope: Scope, f: Filters, as_of: datetime) -> list[Kpi]:
    """KPI cards with their change against the previous period of equal length."""
    # The two periods are independent scans: DuckDB runs them side by side (it releases the GIL).
    with ThreadPoolExecutor(max_workers=2) as pool:
        now_job = pool.submit(headline, store, scope, f, as_of)
        before_job = pool.submit(headline, store, scope, f.previous(), as_of)
        now, before = now_job.result(), before_job.result()
    return [Kpi(k, now[k], metrics.change(now[k], before[k]), k in RATE_KPIS) for k in KPI_KEYS]


def monthly_trend(store: Store, scope: Scope, f: Filters) -> pd.DataFrame:
    """Cases reported and resolved per month, long format (month, series, count, partial, covers, month_label).

    ``partial``: the period holds only part of the month (its first or last month), so its counts
    are not comparable with a whole month's; ``covers`` says which days ("2026-11-01 至 2026-11-20").
    """
    wide = store.monthly_counts(scope, f)
    long = wide.melt(id_vars="month", var_name="series", value_name="count")
    month = pd.to_datetime(long["month"])
    first = pd.Series([max(m, pd.Timestamp(f.start)) for m in month], index=long.index)
    last = pd.Series([min(m + pd.offsets.MonthEnd(0), pd.Timestamp(f.end)) for m in month], index=long.index)
    long["partial"] = (first > month) | (last < month + pd.offsets.MonthEnd(0))
    long["covers"] = [f"{a:%Y-%m-%d} 至 {b:%Y-%m-%d}" for a, b in zip(first, last, strict=True)]
    long["month_label"] = [
        t("trend_partial_month", month=f"{m:%Y-%m}", covers=c) if p else f"{m:%Y-%m}"
        for m, p, c in zip(month, long["partial"], long["covers"], strict=True)
    ]
    return long


def top_categories(store: Store, scope: Scope, f: Filters, limit: int = 10) -> pd.DataFrame:
    return store.category_counts(scope, f, limit)


def grid_performance(store: Store, scope: Scope, f: Filters, as_of: datetime) -> pd.DataFrame:
    """Every grid in the selection with its counts, rates and fair street rank.

    Grids without cases are kept (with empty rates). ``rank`` and ``score`` are the grid's
    among all the street's grids (``scorecard.ranking``: composite of shrunken rates), with
    each rate's funnel class (``<rate>_funnel``) for the map.
    """
    grids = store.grids(scope, f)
    comp = store.case_components(scope, f, as_of, by="grid_code").rename(columns={"key": "grid_code"})
    out = grids.merge(comp, on="grid_code", how="left")
    count_cols = [c for c in comp.columns if c not in ("grid_code", "median_hours")]
    out[count_cols] = out[count_cols].fillna(0).astype(int)
    out = metrics.with_rates(out)
    out["cases_per_100"] = [metrics.ratio(100 * c, h) for c, h in zip(out["cases"], out["households"], strict=True)]
    street = scorecard.ranking(store, scope, f, as_of, "grid")
    fair = [c for c in street.columns if c.endswith(("_funnel", "_shrunk", "_low", "_high"))]
    out = out.merge(street[["key", "score", "rank", "units", *fair]], left_on="grid_code", right_on="key", how="left")
    return out.drop(columns="key").sort_values(["rank", "grid_code"], na_position="last").reset_index(drop=True)


def grid_shapes(store: Store, scope: Scope, f: Filters | None = None) -> gpd.GeoDataFrame:
    """Grid polygons for display, simplified together so neighbours still meet."""
    return shapes.display_outlines(shapes.grids_frame(store.grid_shapes(scope, f)))


def level_shares(perf: pd.DataFrame) -> pd.DataFrame:
    """Three-level linkage per grid, long format (grid_name, level, share)."""
    cols = {"level1_share": 1, "level2_share": 2, "level3_share": 3}
    long = perf[["grid_name", *cols]].melt(id_vars="grid_name", var_name="col", value_name="share")
    long["level"] = long["col"].map(cols)
    return long.dropna(subset=["share"]).drop(columns="col")


def grid_cases(store: Store, scope: Scope, f: Filters, grid_code: str, mask: bool = False) -> pd.DataFrame:
    """One grid's cases; personal data masked unless the role needs it (always with ``mask``)."""
    return store.case_list(scope, f, grid_code, mask=mask)


def grid_cases_csv(store: Store, scope: Scope, f: Filters, grid_code: str, mask: bool = True) -> bytes:
    """The export of one grid's cases: masked unless an admin asks otherwise, formula-safe."""
    return exports.to_csv(labelled_cases(grid_cases(store, scope, f, grid_code, mask=mask)))


# ---- four-level service matrix ---------------------------------------------

MATRIX_LEVELS = (1, 2, 3, 4)
# Resources the street holds beside the matrix: residents' council venues (议事亭/议事角) and volunteer teams.
OTHER_KINDS = ("council_venue", "volunteer_team")


def service_points(store: Store, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
    """Resources with a location, in the selected area."""
    return store.resources(scope, f)


def service_matrix_by_community(store: Store, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
    """Rows: communities (plus a total row); columns: service points per level 1-4, then council venues and teams."""
    res = store.resources(scope, f)
    grids = store.grids(scope, f)[["grid_code", "community"]]
    res = res.merge(grids, on="grid_code", how="inner")
    table = (
        res[res["level"].notna()]
        .pivot_table(index="community", columns="level", values="resource_id", aggfunc="count", fill_value=0)
        .reindex(columns=list(MATRIX_LEVELS), fill_value=0)
        .reindex(sorted(grids["community"].unique()), fill_value=0)
    )
    table.columns = [int(c) for c in table.columns]
    others = (
        res[res["kind"].isin(OTHER_KINDS)]
        .pivot_table(index="community", columns="kind", values="resource_id", aggfunc="count", fill_value=0)
        .reindex(columns=list(OTHER_KINDS), fill_value=0)
    )
    table = table.join(others).fillna(0)
    table.loc["__total__"] = table.sum()
    return table.astype(int)


def service_matrix_by_grid(
    store: Store, scope: Scope, f: Filters | None = None, max_distance_m: float = config.DEFAULT_STATION_DISTANCE_M
) -> pd.DataFrame:
    """Per grid: service points per level, distance to the nearest level-2 station, gaps.

    ``lacks_post``: no level-3 micro-grid post inside the grid. ``far_from_station``:
    the grid's centre is farther than ``max_distance_m`` from every level-2 station
    in the street (stations serve across community lines, so all are considered).
    """
    shapes_ = shapes.grids_frame(store.grid_shapes(scope, f))
    all_res = store.resources(Scope.street())  # stations serve across grid lines: public points
    counts = (
        all_res[all_res["level"].notna()]
        .pivot_table(index="grid_code", columns="level", values="resource_id", aggfunc="count", fill_value=0)
        .reindex(columns=list(MATRIX_LEVELS), fill_value=0)
    )
    counts.columns = [f"level{int(c)}" for c in counts.columns]
    out = shapes_.drop(columns="geometry").merge(counts, left_on="grid_code", right_index=True, how="left")
    others = (
        all_res[all_res["kind"].isin(OTHER_KINDS)]
        .pivot_table(index="grid_code", columns="kind", values="resource_id", aggfunc="count", fill_value=0)
        .reindex(columns=list(OTHER_KINDS), fill_value=0)
    )
    out = out.merge(others, left_on="grid_code", right_index=True, how="left")
    level_cols = [f"level{lv}" for lv in MATRIX_LEVELS]
    out[[*level_cols, *OTHER_KINDS]] = out[[*level_cols, *OTHER_KINDS]].fillna(0).astype(int)
    stations = all_res[(all_res["level"] == 2) & all_res["lon"].notna() & all_res["lat"].notna()]
    station_pts = gpd.GeoSeries(gpd.points_from_xy(stations["lon"], stations["lat"]), crs=shapes.WGS84)
    centres = shapes_.geometry.representative_point()
    dist = shapes.nearest_distance_m(centres, station_pts, shapes.metric_crs(shapes_))
    out["distance_m"] = np.round(dist).astype(float)
    out["lacks_post"] = out["level3"] == 0
    # No station at all counts as far: the gap is real even though no distance exists.
    out["far_from_station"] = out["distance_m"].isna() | (out["distance_m"] > max_distance_m)
    return pd.DataFrame(out).reset_index(drop=True)


# ---- reference data for filters and captions -------------------------------


@dataclass(frozen=True)
class FilterOptions:
    street_name: str
    communities: tuple[str, ...]
    grids: tuple[tuple[str, str, str], ...]  # (grid_code, grid_name, community)
    categories: tuple[str, ...]
    sources: tuple[str, ...]
    first_day: datetime | None
    last_day: datetime | None


def filter_options(store: Store, scope: Scope) -> FilterOptions:
    """What the shared filters offer, from the data itself."""
    grids = store.grids(scope)
    span = store.reported_range(scope)
    return FilterOptions(
        street_name=store.meta().get("street_name", ""),
        communities=tuple(store.communities(scope)),
        grids=tuple(zip(grids["grid_code"], grids["grid_name"], grids["community"], strict=True)),
        categories=tuple(store.distinct_values(scope, "category")),
        sources=tuple(store.distinct_values(scope, "source")),
        first_day=span[0] if span else None,
        last_day=span[1] if span else None,
    )


@dataclass(frozen=True)
class Area:
    """Which part of the street a selection covers, from the filters and the user's scope."""

    street: str
    grids: tuple[str, ...]  # grid names, when the selection is some grids
    communities: tuple[str, ...]  # else community names, when it is some communities
    own_grids: bool  # the grids are a grid head's own (no grid filter chosen)
    department: str | None  # a liaison sees one department's cases


def area(store: Store, scope: Scope, f: Filters) -> Area:
    """The one place that names what a selection covers (pages' scope line, reports' titles and file names)."""
    opts = filter_options(store, scope)
    names = {code: name for code, name, _ in opts.grids}
    grids = f.grids or (scope.grids if scope.role == GRID_HEAD else ())
    communities = () if grids else (f.communities or (scope.communities if scope.role == SECRETARY else ()))
    return Area(
        street=opts.street_name,
        grids=tuple(names.get(g, g) for g in grids),
        communities=tuple(communities),
        own_grids=bool(grids) and not f.grids,
        department=scope.department if scope.role == LIAISON else None,
    )


def area_name(store: Store, scope: Scope, f: Filters) -> str:
    """What a report covers, for its title and file name: 凤鸣街道, 凤鸣街道 凤鸣社区, 凤鸣街道 第1网格、第2网格…

    Built from the filters and the user's scope, so a grid head's report never says "the street".
    """
    covered = area(store, scope, f)
    parts = [covered.street or t("whole_street")]
    if covered.grids:
        parts.append(_few(list(covered.grids), t("unit_grids")))
    elif covered.communities:
        parts.append(_few(list(covered.communities), t("unit_communities")))
    if covered.department:
        parts.append(covered.department)
    return " ".join(parts)


def selection_note(f: Filters) -> str:
    """Which cases the figures cover: 全部来源与类别的诉求, or the chosen categories and sources."""
    parts = []
    if f.categories:
        parts.append(f"{t('category')}：{'、'.join(f.categories)}")
    if f.sources:
        parts.append(f"{t('source')}：{'、'.join(f.sources)}")
    return "；".join(parts) if parts else t("cases_all")


def level_totals(store: Store, scope: Scope, f: Filters, as_of: datetime) -> dict[str, int]:
    """Cases resolved in the period, and at which level, for the whole selection (grids or not)."""
    comp = store.case_components(scope, f, as_of).iloc[0]
    return {k: int(comp[k]) for k in ("resolved", "level1", "level2", "level3")}


def _few(names: list[str], unit: str, most: int = 3) -> str:
    if len(names) <= most:
        return t("list_separator").join(names)
    return t("few_more", first=names[0], n=len(names), unit=unit)


def labelled_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """A case list with Chinese column names and labels, ready to show."""
    yes = {True: t("yes"), False: ""}

    def blank(v: object) -> object:
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else v

    labellers = {
        "status": lambda s: label(f"status_{s}", s),
        "handled_level": lambda v: label(f"level_{v}", v) if pd.notna(v) else "",
        "reopened": yes.get,
        "overdue": yes.get,
        "department": blank,
        "reporter_name": blank,
        "reporter_phone": blank,
        "address": blank,
    }
    out = cases.copy()
    for col, fn in labellers.items():
        if col in out.columns:
            out[col] = out[col].map(fn)
    return out.rename(columns={c: t(c) for c in out.columns})


def heat_cells(store: Store, scope: Scope, f: Filters) -> pd.DataFrame:
    return store.heat_cells(scope, f)


def labelled_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """The community × level table (and council venues, volunteer teams) with Chinese headings."""
    out = table.rename(
        columns={lv: t(f"level_name_{lv}") for lv in MATRIX_LEVELS} | {k: t(f"kind_{k}") for k in OTHER_KINDS}
    )
    out.index = [t("community_total") if i == "__total__" else i for i in out.index]
    out.index.name = t("community")
    return out


def labelled_matrix_grids(by_grid: pd.DataFrame) -> pd.DataFrame:
    """Per-grid service points and gaps, gaps first, with Chinese headings."""
    out = by_grid.sort_values(["lacks_post", "far_from_station", "grid_code"], ascending=[False, False, True])
    cols = {"grid_code": t("grid_code"), "grid_name": t("grid_name"), "community": t("community")}
    cols |= {f"level{lv}": t(f"level_name_{lv}") for lv in MATRIX_LEVELS}
    cols |= {kind: t(f"kind_{kind}") for kind in OTHER_KINDS}
    cols |= {"distance_m": t("distance_m"), "lacks_post": t("lacks_post"), "far_from_station": t("far_from_station")}
    return out[list(cols)].rename(columns=cols)


RANKING_COLUMNS = [
    "rank", "grid_name", "community", "score", "cases", "due", "resolution_rate", "on_time_rate",
    "satisfaction", "rated", "accept_in_time_rate", "rework_rate", "self_resolved_share", "median_hours",
]  # fmt: skip


def ranking_table(perf: pd.DataFrame, cfg: targets.Settings = targets.DEFAULTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-grid ranking as shown, and each cell's target status (for shading).

    Rates with a target are written ``○ 96.9%（1.08×）`` (status tested against chance on the grid's
    own counts, CityScore ratio); sample sizes stand beside them; the rank is the street rank.
    """
    text = {t("street_rank"): [scorecard.rank_text(r, u) for r, u in zip(perf["rank"], perf["units"], strict=True)]}
    status: dict[str, list[str | None]] = {t("street_rank"): [None] * len(perf)}
    for col in RANKING_COLUMNS[1:]:
        states: list[str | None] = [None] * len(perf)
        if col in targets.RATE_TARGETS:
            num, den, _ = targets.RATE_TARGETS[col]
            states = [
                targets.status(col, v, cfg, (int(a), int(b)))
                for v, a, b in zip(perf[col], perf[num], perf[den], strict=True)
            ]
            cells = [scorecard.with_target(col, v, st, cfg) for v, st in zip(perf[col], states, strict=True)]
        elif col in targets.HOUR_TARGETS:
            states = [targets.status(col, None if pd.isna(v) else float(v), cfg) for v in perf[col]]
            cells = [scorecard.with_target(col, v, st, cfg) for v, st in zip(perf[col], states, strict=True)]
        elif col in ("grid_name", "community"):
            cells = perf[col].fillna("").astype(str).tolist()
        else:
            cells = [formats.value(col, v) for v in perf[col]]
        text[t(col)], status[t(col)] = cells, states
    return pd.DataFrame(text), pd.DataFrame(status)  # built whole: a column set at a time cost more than the cells


COMPARED_RATES = ("resolution_rate", "on_time_rate", "satisfaction")


def street_average(store: Store, f: Filters, as_of: datetime) -> dict[str, float | None]:
    """The whole street's rates for the same period, categories and sources.

    Deliberately outside any scope, and so only three aggregate numbers: a grid head
    compares their grids with the street without seeing any other grid or resident.
    """
    whole = Filters(f.start, f.end, (), (), f.categories, f.sources)
    figures = headline(store, Scope.street(), whole, as_of)
    return {k: figures[k] for k in COMPARED_RATES}


def open_cases(store: Store, scope: Scope, f: Filters, as_of: datetime, mask: bool = False) -> pd.DataFrame:
    """Cases still open at the period's end (overdue first), within the scope."""
    return store.open_cases(scope, f, as_of, mask=mask)


CARD_GROUPS = ("overdue", "due_soon", "open")  # 超期, 24 小时内到期, 其他在办
DUE_SOON_HOURS = 24


def my_open_cases(store: Store, scope: Scope, as_of: datetime) -> pd.DataFrame:
    """Every case open now in the scope's grids, whenever reported, for the grid head's cards.

    ``group``: overdue, due within ``DUE_SOON_HOURS`` hours (due_soon), or open; newest first in each.
    ``phone_digits``: the resident's number as digits only (for a ``tel:`` link), or "" where the
    role may not see it (masked numbers are never dialled).
    """
    span = store.reported_range(scope)
    if span is None:
        return pd.DataFrame(columns=["group", "phone_digits"])
    whole = Filters(span[0].date(), as_of.date())
    rows = store.open_cases(scope, whole, as_of, limit=config.MAX_TABLE_ROWS, mask=not scope.sees_personal_data)
    soon = ~rows["overdue"].astype(bool) & (rows["deadline_at"] <= pd.Timestamp(as_of) + pd.Timedelta(hours=24))
    rows["group"] = np.select([rows["overdue"].astype(bool), soon], ["overdue", "due_soon"], "open")
    phones = rows["reporter_phone"].fillna("").astype(str)
    rows["phone_digits"] = [
        "" if "*" in p or not scope.sees_personal_data else "".join(ch for ch in p if ch.isdigit() or ch == "+")
        for p in phones
    ]
    order = rows["group"].map({g: i for i, g in enumerate(CARD_GROUPS)})
    return (
        rows.assign(_order=order)
        .sort_values(["_order", "reported_at", "case_id"], ascending=[True, False, True])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


MEETING_CASE_COLUMNS = ["case_id", "reported_at", "grid_name", "category", "description", "deadline_at"]


def overdue_for_meeting(store: Store, scope: Scope, f: Filters, as_of: datetime, limit: int) -> pd.DataFrame:
    """The oldest overdue cases for the projector: always masked, no contact columns at all."""
    rows = store.open_cases(scope, f, as_of, mask=True)
    return rows[rows["overdue"]].head(limit)[MEETING_CASE_COLUMNS].reset_index(drop=True)


def category_by_month(store: Store, scope: Scope, f: Filters) -> pd.DataFrame:
    """Cases reported per category (rows) and month (columns), with totals."""
    rows = store.category_month_counts(scope, f)
    if rows.empty:
        return pd.DataFrame({t("category"): []})
    table = rows.pivot_table(index="category", columns="month", values="cases", aggfunc="sum", fill_value=0)
    table.columns = [f"{m:%Y-%m}" for m in table.columns]
    table[t("total")] = table.sum(axis=1)
    table = table.sort_values(t("total"), ascending=False)
    return table.reset_index().rename(columns={"category": t("category")})
