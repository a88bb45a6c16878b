"""What 研判预警 shows: alerts, hot spots, emerging hot spots and repeated places, from the store (no Streamlit).

The statistics compare a grid with its neighbours (hot spots) or with the whole street's
history (alerts), so they are computed on the street's aggregate counts and then cut to the
grids the user may see: a grid head sees their grids' alerts and classes exactly as the leader
sees them for those grids. Repeated places list cases, so they are read within the user's scope,
and their address text is masked as the role requires.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

from gridpulse import alerts, hotspots, privacy, repeats, street_memo
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.strings import t

STREET = Scope.street()
HISTORY_WEEKS = 3 * alerts.YEAR_WEEKS + alerts.RUN_WEEKS + alerts.WINDOW  # Farrington's b = 3 years back
EMERGING_MONTHS = 12


def _visible(store: Store, scope: Scope, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of grids the scope may see."""
    mine = set(store.grids(scope)["grid_code"])
    return frame[frame["grid_code"].isin(mine)].reset_index(drop=True)


def history_weeks(store: Store, as_of: datetime) -> int:
    """Whole weeks of the street's cases before ``as_of`` (at most ``HISTORY_WEEKS``)."""
    span = store.reported_range(STREET)
    if span is None:
        return 0
    return max(0, min(HISTORY_WEEKS, math.floor((as_of - span[0]).total_seconds() / (7 * 86400))))


def alert_list(store: Store, scope: Scope, as_of: datetime) -> pd.DataFrame:
    """This week's alerts (``alerts.alert_table``) for the grids the scope may see."""
    weeks = history_weeks(store, as_of)
    grids = store.grids(STREET)
    categories = store.distinct_values(STREET, "category")
    if weeks < alerts.EARS_LAG + 2 or grids.empty or not categories:
        return alerts.alert_table(alerts.dense(pd.DataFrame(), [], [], 0), grids.head(0), [], as_of)

    def street_alerts() -> pd.DataFrame:  # the street's, the same for every user (street_memo): then cut
        counts = alerts.dense(store.weekly_counts(STREET, as_of, weeks), list(grids["grid_code"]), categories, weeks)
        return alerts.alert_table(counts, grids, categories, as_of)

    return _visible(store, scope, street_memo.shared(store, ("alerts", as_of), street_alerts))


def grid_hotspots(store: Store, scope: Scope, f: Filters) -> pd.DataFrame:
    """Gi* of cases per 100 households by grid, for the period and categories chosen, cut to the scope."""
    street_f = Filters(f.start, f.end, categories=f.categories, sources=f.sources)
    shapes = _shapes(store)
    counts = store.grid_month_counts(STREET, street_f).groupby("grid_code")["cases"].sum()
    result = hotspots.grid_hotspots(shapes, counts)
    return _visible(store, scope, result)


def cell_hotspots(store: Store, scope: Scope, f: Filters) -> pd.DataFrame:
    """Gi* of case counts in ~100 m cells of the street (cells of the scope's grids shown)."""
    street_f = Filters(f.start, f.end, categories=f.categories, sources=f.sources)
    shapes = _shapes(store)
    dlon, dlat = store.cell_size(hotspots.CELL_M)
    cells = hotspots.street_cells(shapes, dlon, dlat)
    result = hotspots.cell_hotspots(cells, store.cell_counts(STREET, street_f, hotspots.CELL_M))
    result = result.assign(dlon=dlon, dlat=dlat)
    mine = _shapes(store, scope)
    if len(mine) == len(shapes):
        return result
    import shapely

    inside = shapely.contains_xy(shapely.union_all(mine.geometry.values), result["lon"], result["lat"])
    return result[inside].reset_index(drop=True)


def emerging_hotspots(store: Store, scope: Scope, f: Filters, months: int = EMERGING_MONTHS) -> pd.DataFrame:
    """Emerging hot spot category of each grid over the ``months`` whole months ending with the period's end."""
    last = pd.Timestamp(f.end).to_period("M")
    if pd.Timestamp(f.end) < last.end_time.normalize():  # the period ends within a month: that month is partial
        last -= 1
    steps = [(last - k).to_timestamp() for k in range(months - 1, -1, -1)]
    start, end = steps[0].date(), (last.end_time.normalize()).date()
    street_f = Filters(start, end, categories=f.categories, sources=f.sources)
    monthly = store.grid_month_counts(STREET, street_f)
    result = hotspots.emerging(_shapes(store), monthly, steps)
    return _visible(store, scope, result).assign(first_month=steps[0], last_month=steps[-1])


def emerging_by_category(store: Store, scope: Scope, f: Filters, months: int = EMERGING_MONTHS) -> pd.DataFrame:
    """Emerging hot spots tested for each category on its own (a category's rise can drown in all cases).

    One row per category with at least one grid in a hot or cold pattern, among the grids the scope
    may see: category, grid_code, grid_name, pattern; most patterned categories first.
    """
    rows = []
    for category in store.distinct_values(STREET, "category"):
        one = Filters(f.start, f.end, categories=(category,), sources=f.sources)
        found = emerging_hotspots(store, scope, one, months)
        for r in found[found["pattern"] != "none"].itertuples():
            rows.append(
                {"category": category, "grid_code": r.grid_code, "grid_name": r.grid_name, "pattern": r.pattern}
            )
    out = pd.DataFrame(rows, columns=["category", "grid_code", "grid_name", "pattern"])
    hot_first = out["pattern"].str.endswith("_hot").map({True: 0, False: 1})
    size = out.groupby("category")["grid_code"].transform("size")
    return (
        out.assign(_hot=hot_first, _n=size)
        .sort_values(["_n", "category", "_hot", "grid_code"], ascending=[False, True, True, True])
        .drop(columns=["_hot", "_n"])
        .reset_index(drop=True)
    )


def repeat_places(
    store: Store, scope: Scope, f: Filters, rule: repeats.Rule = repeats.DEFAULT, mask: bool = False
) -> pd.DataFrame:
    """Repeated places among the scope's cases of the period; address text masked unless the role needs it."""
    found = repeats.places(store.case_points(scope, f), rule)
    if mask or not scope.sees_personal_data:
        found["place"] = found["place"].map(privacy.mask_address)
    return found


def _shapes(store: Store, scope: Scope = STREET) -> object:
    from geo import shapes

    return shapes.grids_frame(store.grid_shapes(scope))


def grid_shapes_of(store: Store, scope: Scope) -> object:
    """The scope's grid polygons (GeoDataFrame, WGS-84)."""
    return _shapes(store, scope)


def cells_geojson(cells: pd.DataFrame) -> str:
    """Cells of ``cell_hotspots`` as GeoJSON squares with their figures."""
    import geopandas as gpd
    import shapely

    boxes = shapely.box(
        cells["ix"] * cells["dlon"],
        cells["iy"] * cells["dlat"],
        (cells["ix"] + 1) * cells["dlon"],
        (cells["iy"] + 1) * cells["dlat"],
    )
    frame = gpd.GeoDataFrame(cells.drop(columns=["dlon", "dlat"]), geometry=boxes, crs="EPSG:4326")
    return frame.to_json(ensure_ascii=False)


# ---- tables as shown (Chinese headings, texts not HTML) ------------------------


def alert_sentences(found: pd.DataFrame) -> list[str]:
    """One plain sentence per alert (shown with ``st.text`` or escaped: names are imported data)."""
    return [
        t(
            "alert_sentence",
            grid=r.grid_name,
            category=r.category,
            observed=r.observed,
            expected=r.expected,
            threshold=r.threshold,
            since=r.since,
            weeks=r.weeks,
        )
        for r in found.itertuples()
    ]


def alert_table_shown(found: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("alert_col_grid"): found["grid_name"],
            t("alert_col_category"): found["category"],
            t("alert_col_observed"): found["observed"],
            t("alert_col_expected"): found["expected"].round(1),
            t("alert_col_threshold"): found["threshold"].round(0).astype(int),
            t("alert_col_since"): found["since"].astype(str),
            t("alert_col_weeks"): found["weeks"],
            t("alert_col_method"): found["method"].map(lambda m: t(f"method_{m}")),
        }
    )


def hotspot_table(significant: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Significant hot and cold spots, hottest first."""
    from gridpulse.analysis_maps import confidence_label

    rows = significant.sort_values(["confidence", "z"], ascending=[False, False])
    if unit == "grid":
        first = {
            t("grid_name"): rows["grid_name"],
            t("community"): rows["community"],
            t("hot_col_rate"): rows["rate"].round(1),
            t("hot_col_cases"): rows["cases"],
        }
    else:
        first = {
            t("hot_col_cell"): [f"{x:.5f}, {y:.5f}" for x, y in zip(rows["lon"], rows["lat"], strict=True)],
            t("hot_col_cases"): rows["cases"],
        }
    return pd.DataFrame(
        first
        | {
            t("hot_col_class"): rows["confidence"].map(lambda c: confidence_label(int(c))),
            t("hot_col_z"): rows["z"].round(2),
            t("hot_col_p"): rows["p"].round(3),
        }
    )


def emerging_table(found: pd.DataFrame) -> pd.DataFrame:
    from gridpulse.analysis_maps import pattern_label

    return pd.DataFrame(
        {
            t("grid_name"): found["grid_name"],
            t("community"): found["community"],
            t("emerging_col_pattern"): found["pattern"].map(pattern_label),
            t("emerging_col_trend"): found["trend"].map(lambda v: t(f"trend_{v}")),
            t("emerging_col_hot"): found["hot_months"],
            t("emerging_col_cold"): found["cold_months"],
        }
    )


def emerging_by_category_table(found: pd.DataFrame) -> pd.DataFrame:
    """Per category, its grids by pattern: "新热点：甲网格、乙网格；持续冷点：丙网格"."""
    from gridpulse.analysis_maps import pattern_label

    rows = []
    for category, group in found.groupby("category", sort=False):
        parts = [f"{pattern_label(p)}：{'、'.join(g['grid_name'])}" for p, g in group.groupby("pattern", sort=False)]
        rows.append({t("alert_col_category"): category, t("emerging_col_grids"): "；".join(parts)})
    return pd.DataFrame(rows, columns=[t("alert_col_category"), t("emerging_col_grids")])


def repeats_summary(places: pd.DataFrame) -> str:
    """One line above the list: how many places, how many suggested for departments."""
    return t(
        "repeats_summary",
        n=int((places["kind"] != "reopened").sum()),
        reopened=int((places["kind"] == "reopened").sum()),
        suggested=int(places["suggest_department"].sum()),
    )


def repeats_table(places: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("repeat_col_kind"): places["kind"].map(lambda k: t(f"repeat_kind_{k}")),
            t("alert_col_category"): places["category"],
            t("repeat_col_place"): places["place"],
            t("grid_name"): places["grid_name"],
            t("repeat_col_cases"): places["cases"],
            t("repeat_col_first"): places["first"].dt.strftime("%Y-%m-%d"),
            t("repeat_col_last"): places["last"].dt.strftime("%Y-%m-%d"),
            t("repeat_col_levels"): [
                t("repeat_levels", l1=a, l2=b, l3=c)
                for a, b, c in zip(places["level1"], places["level2"], places["level3"], strict=True)
            ],
            t("repeat_col_reopened"): places["reopened"],
            t("repeat_col_suggest"): [
                t("repeat_suggest", n=n) if s else ""
                for n, s in zip(places["level1"], places["suggest_department"], strict=True)
            ],
        }
    )
