"""考核: departments' scorecards, fair ranking and the red/black list, stage timings, action lists.

One function per view, no Streamlit (like ``views``). Rankings are taken over the whole
street, whatever the user's scope: a grid head sees their grids' street rank, not a rank
among their own two; the rows they get back are still only their own grids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from gridpulse import fairness, formats, metrics, street_memo, targets
from gridpulse.filters import Filters
from gridpulse.scope import GRID_HEAD, LIAISON, Scope
from gridpulse.store import Store
from gridpulse.store.accountability import STEPS
from gridpulse.store.settings import TARGETS_KEY
from gridpulse.strings import t

UNITS = ("grid", "community", "department")
_BY = {"grid": "grid_code", "community": "community", "department": "department"}
STEP_NAMES = tuple(name for name, _, _ in STEPS)


def settings(store: Store) -> targets.Settings:
    """The admin's targets and weights (defaults until an admin saves some)."""
    return targets.load(store.targets_json())


def unit_rates(store: Store, scope: Scope, f: Filters, as_of: datetime, by: str) -> pd.DataFrame:
    """Components and every rate per unit (``by``: a ``Store.GROUP_KEYS`` key), accept limit from settings."""
    cfg = settings(store)
    comp = store.case_components(scope, f, as_of, by=by, accept_hours=cfg.accept_hours)
    return metrics.with_rates(comp)


def ranking(store: Store, scope: Scope, f: Filters, as_of: datetime, unit: str) -> pd.DataFrame:
    """Every ``unit`` (grid, community, department) of the street, ranked fairly; only the scope's rows returned.

    Per scored rate: raw rate, shrunken rate (empirical Bayes, beta-binomial prior fitted to all
    units of the street) and its 95 % interval, and the funnel class of the raw rate against the
    street's pooled rate. ``score`` (综合得分, 0-100) is the weighted mean of the shrunken rates
    (1 − rate where lower is better) with the settings' weights; ``rank`` orders by it.
    """
    rows = _all_ranked(store, scope, f, as_of, unit)
    return rows[rows["key"].isin(_visible(store, scope, f, unit, rows["key"]))].reset_index(drop=True)


def _all_ranked(store: Store, scope: Scope, f: Filters, as_of: datetime, unit: str) -> pd.DataFrame:
    """Every unit of the street ranked (the scope decides nothing but a liaison's cases: their department's).

    The same for every user, and several views of one page need it (the grid table, the lists, the
    ranking): computed once per data version, settings, period and unit (``street_memo``).
    """
    if unit not in UNITS:
        raise ValueError(unit)
    whole = Filters(f.start, f.end, (), (), f.categories, f.sources)
    # A liaison's figures are their department's cases in every grid: ranked on those, not on all cases.
    base = scope if scope.role == LIAISON else Scope.street()
    meta = store.meta()  # one read for the data version and the settings
    saved = meta.get(TARGETS_KEY)
    return street_memo.shared(
        store,
        ("ranked", saved, whole, as_of, unit, base),
        lambda: _rank(store, targets.load(saved), base, whole, as_of, unit),
        meta,
    )


def _rank(store: Store, cfg: targets.Settings, base: Scope, whole: Filters, as_of: datetime, unit: str) -> pd.DataFrame:
    rows = metrics.with_rates(store.case_components(base, whole, as_of, by=_BY[unit], accept_hours=cfg.accept_hours))
    rows = rows[rows["key"].notna()].reset_index(drop=True)
    rows = _with_names(store, rows, unit)
    score = np.zeros(len(rows))
    total_weight = sum(cfg.weights.values())
    new: dict[str, Any] = {}  # the columns added, in their order, set at once (metrics.add_columns)
    for metric, (num, den, better) in targets.RATE_TARGETS.items():
        k, n = rows[num].to_numpy(int), rows[den].to_numpy(int)
        prior = fairness.fit_prior(k, n)
        shrunk = fairness.shrink(k, n, prior)
        new[f"{metric}_shrunk"] = shrunk["shrunk"].to_numpy()
        new[f"{metric}_low"] = shrunk["low"].to_numpy()
        new[f"{metric}_high"] = shrunk["high"].to_numpy()
        pooled = metrics.ratio(k.sum(), n.sum())
        new[f"{metric}_pooled"] = pooled  # the funnel plot's centre line: the same rows as the classes
        classes = fairness.funnel_classes(k, n, pooled)
        # Store the class as "better/worse", whichever way the rate runs.
        new[f"{metric}_funnel"] = pd.array([None if c is None else (c if better else -c) for c in classes], "Int8")
        weight = cfg.weights.get(metric, 0.0) if metric in targets.SCORED else 0.0
        if weight:
            # Without a prior (fewer than two units with cases) a unit without cases counts at the pooled rate.
            fallback = prior.mean if prior else (pooled if pooled is not None else 0.5)
            value = pd.Series(new[f"{metric}_shrunk"]).fillna(fallback).to_numpy()
            score += weight * (value if better else 1 - value)
    new["score"] = 100 * score / total_weight if total_weight else np.nan
    rows = metrics.add_columns(rows, new)
    # A unit with no case behind any weighted rate has no score of its own (only the prior's): unranked.
    weighted = [targets.RATE_TARGETS[m][1] for m in targets.SCORED if cfg.weights.get(m)]
    rows.loc[rows[weighted].sum(axis=1) == 0, "score"] = np.nan
    rows["rank"] = rows["score"].rank(ascending=False, method="min", na_option="keep").astype("Int64")
    rows["units"] = int(rows["rank"].notna().sum())
    return rows.sort_values(["rank", "key"], na_position="last").reset_index(drop=True)


def lists(store: Store, scope: Scope, f: Filters, as_of: datetime, unit: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """红榜 and 黑榜 of the street's ``unit``s, then only the rows the scope may see by name."""
    rows = _all_ranked(store, scope, f, as_of, unit)
    visible = _visible(store, scope, f, unit, rows["key"])
    red, black = red_black(rows, settings(store))
    return red[red["key"].isin(visible)].reset_index(drop=True), black[black["key"].isin(visible)].reset_index(
        drop=True
    )


def _with_names(store: Store, rows: pd.DataFrame, unit: str) -> pd.DataFrame:
    if unit != "grid":
        return rows.assign(name=rows["key"])
    grids = store.grids(Scope.street())[["grid_code", "grid_name", "community"]]
    out = rows.merge(grids, left_on="key", right_on="grid_code", how="right")
    out["key"] = out["grid_code"]
    counts = [c for c in rows.columns if c != "key" and rows[c].dtype.kind in "iu"]
    out[counts] = out[counts].fillna(0).astype(int)
    return out.rename(columns={"grid_name": "name"}).drop(columns="grid_code")


def _visible(store: Store, scope: Scope, f: Filters, unit: str, keys: pd.Series) -> set[str]:
    """The units the scope (and the area filters) may see by name: departments are figures for all but grid heads."""
    if unit == "department":
        return set(keys) if sees_departments(scope) else set()
    grids = store.grids(scope, f)
    return set(grids["grid_code"] if unit == "grid" else grids["community"])


def red_black(rank: pd.DataFrame, cfg: targets.Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """红榜 and 黑榜: at most ``list_size`` units each, with the reasons, from a ``ranking``.

    Only units with at least ``min_cases`` cases are listed. 黑榜: the lowest scores among units
    significantly worse than the street (beyond the funnel's 95 % limit) on a weighted rate;
    the reasons are those rates. 红榜: the highest scores among units worse on none; the reasons
    are the rates where they are significantly better, if any.
    """
    scored = [m for m in targets.SCORED if cfg.weights.get(m)]
    eligible = rank[(rank["cases"] >= cfg.min_cases) & rank["rank"].notna()].copy()
    worse = {i: [m for m in scored if _funnel(row, m) < 0] for i, row in eligible.iterrows()}
    better = {i: [m for m in scored if _funnel(row, m) > 0] for i, row in eligible.iterrows()}
    is_worse = pd.Series([bool(worse[i]) for i in eligible.index], index=eligible.index, dtype=bool)
    black = eligible.loc[is_worse].sort_values("score").head(cfg.list_size)
    red = eligible.loc[~is_worse].sort_values("score", ascending=False)
    red = red.head(cfg.list_size)
    black = black.assign(reasons=[_reasons(black.loc[i], worse[i], "reason_worse") for i in black.index])
    red_reasons = [
        _reasons(red.loc[i], better[i], "reason_better") if better[i] else t("reason_no_weakness") for i in red.index
    ]
    red = red.assign(reasons=red_reasons)
    return red.reset_index(drop=True), black.reset_index(drop=True)


def _funnel(row: pd.Series, metric: str) -> int:
    v = row.get(f"{metric}_funnel")
    return 0 if v is None or pd.isna(v) else int(v)


def _reasons(row: pd.Series, metrics_: list[str], key: str) -> str:
    parts = []
    for m in metrics_:
        num, den, _ = targets.RATE_TARGETS[m]
        parts.append(t(key, metric=t(m), value=metrics.ratio(row[num], row[den]) * 100, n=int(row[den])))
    return t("list_separator").join(parts)


def funnel_points(rank: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, pd.DataFrame, float | None]:
    """The funnel plot of ``metric`` over ``rank``'s units: points (name, trials, rate, class) and limits.

    The centre line is the pooled rate of all the street's units (``ranking``'s ``<metric>_pooled``):
    the limits do not move when a grid head sees only their own grids.
    """
    num, den, _ = targets.RATE_TARGETS[metric]
    pooled = (
        None
        if rank.empty or formats.missing(rank[f"{metric}_pooled"].iloc[0])
        else float(rank[f"{metric}_pooled"].iloc[0])
    )
    pts = rank[rank[den] > 0]
    points = pd.DataFrame(
        {
            "name": pts["name"].astype(str),
            "trials": pts[den].astype(int),
            "rate": pts[num] / pts[den],
            "funnel": pts[f"{metric}_funnel"].map(lambda c: t(f"funnel_{int(c)}") if pd.notna(c) else ""),
        }
    )
    if pooled is None or pts.empty:
        return points, pd.DataFrame(), pooled
    limits = fairness.funnel_curve(pooled, int(pts[den].max()), min_trials=max(1, int(pts[den].min()) // 2))
    return points, limits, pooled


# ---- departments -------------------------------------------------------------

SCORECARD_RATES = ("accept_in_time_rate", "on_time_rate", "satisfaction", "rework_rate")


def units_for(scope: Scope) -> tuple[str, ...]:
    """What the scope may rank: grids and communities, and departments unless a grid head."""
    return UNITS if sees_departments(scope) else UNITS[:2]


def sees_departments(scope: Scope) -> bool:
    """Who is shown the departments' scorecard (page, overview, reports): not a grid head."""
    return scope.role != GRID_HEAD


def department_scorecard(store: Store, scope: Scope, f: Filters, as_of: datetime) -> pd.DataFrame:
    """One row per department that handled cases in the period (every department: the street's figures).

    Counts, rates, median and p90 days to resolve, overdue now, score and rank (``ranking``),
    each rate's target status, and the change of each rate against the previous period.
    The scope decides nothing here (figures only); drilling into cases goes through the scope.
    """
    rank = ranking(store, Scope.street(), f, as_of, "department")
    if rank.empty:
        return rank
    before = ranking(store, Scope.street(), f.previous(), as_of, "department").set_index("key")
    cfg = settings(store)
    out = rank.copy()
    out["median_days"] = out["median_hours"] / 24
    out["p90_days"] = out["p90_hours"] / 24
    for m in (*SCORECARD_RATES, "resolution_rate"):
        num, den, _ = targets.RATE_TARGETS[m]
        out[m] = [metrics.ratio(a, b) for a, b in zip(out[num], out[den], strict=True)]
        prev = [metrics.ratio(*before.loc[k, [num, den]]) if k in before.index else None for k in out["key"]]
        out[f"{m}_change"] = [metrics.change(a, b) for a, b in zip(out[m], prev, strict=True)]
        out[f"{m}_status"] = [
            targets.status(m, v, cfg, (int(a), int(b))) for v, a, b in zip(out[m], out[num], out[den], strict=True)
        ]
        out[f"{m}_ratio"] = [targets.ratio(m, v, cfg) for v in out[m]]
    out["score_change"] = [
        metrics.change(s, before.at[k, "score"] if k in before.index else None)
        for k, s in zip(out["key"], out["score"], strict=True)
    ]
    return out[(out["dispatched"] > 0) | (out["resolved"] > 0) | (out["backlog"] > 0)].reset_index(drop=True)


def worst_department(card: pd.DataFrame) -> tuple[pd.Series, str] | None:
    """The lowest-scoring department that misses a target beyond chance, and its worst such rate; or None.

    Every department is looked at (not only the lowest score), so a red cell is never missed.
    """
    red = card[[worst_miss(row) is not None for _, row in card.iterrows()]]
    if red.empty:
        return None
    row = red.sort_values("score").iloc[0]
    return row, str(worst_miss(row))


def worst_miss(row: pd.Series) -> str | None:
    """The rate a department misses its target by most (lowest CityScore ratio among red ones), or None."""
    misses = [(row[f"{m}_ratio"], m) for m in SCORECARD_RATES if row.get(f"{m}_status") == "red"]
    return min(misses)[1] if misses else None


# ---- stage timings, flows, rates by category and source -----------------------


def stage_timings(store: Store, scope: Scope, f: Filters, by: str | None = None) -> pd.DataFrame:
    """Median and p90 hours of each step (and of escalation to levels 2 and 3), per ``by`` or overall; long format."""
    wide = store.stage_hours(scope, f, by)
    if by is None:
        wide.insert(0, "key", t("whole_selection"))
    wide = wide[wide["key"].notna()]
    if by == "grid_code":  # grids by name (codes are for machines)
        grids = store.grids(scope)
        twice = grids["grid_name"].duplicated(keep=False)  # two grids of one name: tell them apart by code
        label = grids["grid_name"].where(~twice, grids["grid_name"] + "（" + grids["grid_code"] + "）")
        names = dict(zip(grids["grid_code"], label, strict=True))
        wide = wide.assign(key=wide["key"].map(lambda k: names.get(k, k)))
    rows = []
    for _, r in wide.iterrows():
        for step in (*STEP_NAMES, "escalate2", "escalate3"):
            cases = int(r[f"{step}_cases"])
            rows.append(
                {"key": r["key"], "step": step, "cases": cases, "median": r[f"{step}_median"], "p90": r[f"{step}_p90"]}
            )
    return pd.DataFrame(rows, columns=["key", "step", "cases", "median", "p90"])


def stage_wide(timings: pd.DataFrame) -> pd.DataFrame:
    """A ``stage_timings`` table as shown: a row per unit, median and p90 hours per step (Chinese headings)."""
    out = pd.DataFrame({t("unit_name"): pd.unique(timings["key"]).astype(str)})
    for step in pd.unique(timings["step"]):
        rows = timings[timings["step"] == step].set_index("key").reindex(pd.unique(timings["key"]))
        out[f"{t(f'step_{step}')} {t('median_col')}"] = rows["median"].astype(float).round(1).to_numpy()
        out[f"{t(f'step_{step}')} {t('p90_col')}"] = rows["p90"].astype(float).round(1).to_numpy()
    return out


def slowest_step(timings: pd.DataFrame) -> str | None:
    """The lifecycle step (not the total) with the longest median wait, overall."""
    steps = timings[timings["step"].isin(STEP_NAMES[:-1]) & timings["median"].notna()]
    return None if steps.empty else str(steps.loc[steps["median"].idxmax(), "step"])


def level_flow(store: Store, scope: Scope, f: Filters, as_of: datetime) -> pd.DataFrame:
    """Cases resolved in the period per community and level, and per department for level 3 (for a flow chart).

    Columns: community, level, department (level 3 only), cases.
    """
    comm = store.case_components(scope, f, as_of, by="community")
    comm = comm[comm["key"].notna()]
    rows = [
        {"community": r["key"], "level": lv, "department": None, "cases": int(r[f"level{lv}"])}
        for _, r in comm.iterrows()
        for lv in (1, 2, 3)
        if r[f"level{lv}"]
    ]
    flows = pd.DataFrame(rows, columns=["community", "level", "department", "cases"])
    depts = store.level3_by_community(scope, f)
    return pd.concat([flows[flows["level"] < 3], depts.assign(level=3)], ignore_index=True)


def rates_by(store: Store, scope: Scope, f: Filters, as_of: datetime, by: str) -> pd.DataFrame:
    """Cases and every rate per category or per source (``by``), most cases first."""
    if by not in ("category", "source"):
        raise ValueError(by)
    out = unit_rates(store, scope, f, as_of, by)
    out["key"] = out["key"].fillna(t("uncategorised"))
    return out[out["cases"] + out["resolved"] > 0].sort_values(["cases", "key"], ascending=[False, True])


def action_list(
    store: Store,
    scope: Scope,
    f: Filters,
    as_of: datetime,
    kind: str,
    department: str | None = None,
    mask: bool = False,
) -> pd.DataFrame:
    """One of the lists a leader acts on (``store.accountability.ACTION_LISTS``), within the scope."""
    cfg = settings(store)
    return store.action_cases(scope, f, as_of, kind, department=department, stale_days=cfg.stale_days, mask=mask)


# ---- tables as shown (pages, meeting screen and reports write the same text) ----------

HEADINGS = {"overdue": "overdue_now", "resolved": "resolved_count", "score_change": "change_col"}
STATUS_MARK = {"green": "○", "amber": "△", "red": "×"}  # as Chinese forms mark them; in every CJK font
DEPARTMENT_COLUMNS = (
    "dispatched", "accept_in_time_rate", "resolved", "on_time_rate", "overdue", "median_days", "p90_days",
    "satisfaction", "dissatisfied", "rework_rate", "score", "rank", "score_change",
)  # fmt: skip


def rank_text(rank: object, units: object) -> str:
    """A street rank as written: 3/60 (of the street's 60 ranked units), or — when unranked."""
    return t("no_data") if formats.missing(rank) else f"{int(rank)}/{int(units)}"


def with_target(metric: str, value: float | None, state: str | None, cfg: targets.Settings) -> str:
    """A figure as written beside its target: ``✖ 13.4%（0.14×）`` (mark, value, CityScore ratio)."""
    text = formats.value(metric, value)
    if state not in STATUS_MARK:  # no target, or no value (None, NaN)
        return text
    ratio = targets.ratio(metric, value, cfg)
    if ratio is None or ratio >= targets.RATIO_CAP:  # e.g. no rework at all: no ratio worth writing
        return f"{STATUS_MARK[state]} {text}"
    return f"{STATUS_MARK[state]} {text}（{ratio:.2f}×）"


def department_table(card: pd.DataFrame, cfg: targets.Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scorecard as text with Chinese headings, and the status (green/amber/red/None) of each cell."""
    text: dict[str, list[str]] = {t("unit_department"): [str(k) for k in card["key"]]}
    status: dict[str, list[str | None]] = {t("unit_department"): [None] * len(card)}
    for col in DEPARTMENT_COLUMNS:
        head = t(HEADINGS.get(col, col), metric=t("score"))
        states = card[f"{col}_status"].tolist() if f"{col}_status" in card else [None] * len(card)
        if col == "score_change":
            cells = [t("no_data") if formats.missing(v) else f"{v:+.1f}" for v in card[col]]
        elif col == "rank":
            cells = [rank_text(v, u) for v, u in zip(card[col], card["units"], strict=True)]
        else:
            cells = [with_target(col, v, s, cfg) for v, s in zip(card[col], states, strict=True)]
        text[head], status[head] = cells, states
    return pd.DataFrame(text), pd.DataFrame(status)


def headline_targets(store: Store, scope: Scope, f: Filters, as_of: datetime) -> pd.DataFrame:
    """The selection's figures that have a target: value, target, CityScore ratio and status."""
    cfg = settings(store)
    comp = _whole(store, scope, f, as_of, cfg)
    rows = []
    for metric, target in cfg.targets.items():
        value = comp.get(metric)
        value = None if formats.missing(value) else float(value)
        counts = None
        if metric in targets.RATE_TARGETS:
            num, den, _ = targets.RATE_TARGETS[metric]
            counts = (int(comp[num]), int(comp[den]))
        rows.append(
            {
                "metric": metric,
                "value": value,
                "target": target,
                "ratio": targets.ratio(metric, value, cfg),
                "status": targets.status(metric, value, cfg, counts),
                "sample": counts[1] if counts else None,
            }
        )
    return pd.DataFrame(rows)


def _whole(store: Store, scope: Scope, f: Filters, as_of: datetime, cfg: targets.Settings) -> pd.Series:
    comp = store.case_components(scope, f, as_of, accept_hours=cfg.accept_hours)
    return metrics.with_rates(comp).iloc[0]


def target_text(metric: str, target: float) -> str:
    """≥ 97.0% or ≤ 48.0, the way a target is written."""
    key = "target_ge" if targets.higher_is_better(metric) else "target_le"
    return t(key, value=formats.value(metric, target))


def score_rule(cfg: targets.Settings, unit: str) -> str:
    """How the composite score is made, with the weights in force (shown beside it)."""
    weights = t("list_separator").join(t("weight_item", metric=t(m), weight=w) for m, w in cfg.weights.items())
    return t("score_rule", weights=weights, unit=t(f"unit_{unit}"))


def ranking_table(rank: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The fair ranking as shown: rank, name, cases, score, and per scored rate ``raw → shrunk [low–high]（n）``."""
    out = pd.DataFrame(
        {
            t("street_rank"): [rank_text(r, u) for r, u in zip(rank["rank"], rank["units"], strict=True)],
            t(f"unit_{unit}"): rank["name"].astype(str),
            t("cases"): rank["cases"].astype(int),
            t("score"): [formats.value("score", v) for v in rank["score"]],
        }
    )
    for m in targets.SCORED:
        num, den, _ = targets.RATE_TARGETS[m]
        out[t(m)] = [
            t("no_data")
            if not n
            else f"{formats.rate(k / n)} → {formats.rate(s)} [{formats.rate(lo)}–{formats.rate(hi)}]（{int(n)}）"
            for k, n, s, lo, hi in zip(
                rank[num], rank[den], rank[f"{m}_shrunk"], rank[f"{m}_low"], rank[f"{m}_high"], strict=True
            )
        ]
    return out


def list_table(rows: pd.DataFrame, unit: str) -> pd.DataFrame:
    """A red or black list as shown: rank, name, cases, score, the reasons."""
    return pd.DataFrame(
        {
            t("street_rank"): [rank_text(r, u) for r, u in zip(rows["rank"], rows["units"], strict=True)],
            t(f"unit_{unit}"): rows["name"].astype(str),
            t("cases"): rows["cases"].astype(int),
            t("score"): [formats.value("score", v) for v in rows["score"]],
            t("reasons"): rows["reasons"].astype(str),
        }
    )


def flow_links(flow: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """A ``level_flow`` as a Sankey diagram's nodes and links: community → level → department (level 3).

    Returns the node labels and the links (source, target, value), by node index.
    """
    levels = [t(f"level{lv}_share") for lv in (1, 2, 3)]
    communities = sorted(flow["community"].unique())
    departments = sorted(flow["department"].dropna().unique())
    nodes = [*communities, *levels, *departments]
    index = {name: i for i, name in enumerate(nodes)}
    by_level = flow.groupby(["community", "level"], as_index=False)["cases"].sum()
    links = [(index[r.community], index[levels[r.level - 1]], int(r.cases)) for r in by_level.itertuples()]
    dept = flow[flow["level"] == 3].groupby("department", as_index=False)["cases"].sum()
    links += [(index[levels[2]], index[r.department], int(r.cases)) for r in dept.itertuples()]
    return nodes, pd.DataFrame(links, columns=["source", "target", "value"])


def department_sheet(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as numbers for a workbook: one row per department, statuses and changes beside the rates."""
    cols: dict[str, object] = {t("unit_department"): card["key"].astype(str)}
    for col in DEPARTMENT_COLUMNS:
        cols[t(HEADINGS.get(col, col), metric=t("score"))] = card[col]
        if f"{col}_change" in card:
            cols[t("change_col", metric=t(col))] = card[f"{col}_change"]
        if f"{col}_status" in card:
            cols[f"{t(col)}{t('status_col')}"] = [
                t(f"status_{s}") if isinstance(s, str) else "" for s in card[f"{col}_status"]
            ]
            cols[f"{t(col)}{t('ratio_col')}"] = card[f"{col}_ratio"]
    return pd.DataFrame(cols)


def lists_frame(store: Store, scope: Scope, f: Filters, as_of: datetime) -> pd.DataFrame:
    """红榜 and 黑榜 of grids, communities and departments in one table (reports), with the reasons."""
    parts = []
    for unit in units_for(scope):
        red, black = lists(store, scope, f, as_of, unit)
        for name, rows in ((t("list_red"), red), (t("list_black"), black)):
            if rows.empty:
                continue
            table = list_table(rows, unit).rename(columns={t(f"unit_{unit}"): t("unit_name")})
            table.insert(0, t("rank_unit"), t(f"unit_{unit}"))
            table.insert(0, t("list_col"), name)
            parts.append(table)
    columns = [t("list_col"), t("rank_unit"), t("street_rank"), t("unit_name"), t("cases"), t("score"), t("reasons")]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def on_spot(store: Store, scope: Scope, f: Filters, as_of: datetime) -> tuple[int, int]:
    """现场解决: (solved by the grid within ``ON_SPOT_HOURS`` of reporting, solved by the grid) in the period."""
    comp = store.case_components(scope, f, as_of).iloc[0]
    return int(comp["on_spot"]), int(comp["level1"])
