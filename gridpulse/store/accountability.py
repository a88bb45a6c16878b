"""Scoped reads for holding units to account: time spent at each step, and the cases a leader acts on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from gridpulse import config
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import sql
from gridpulse.store.analytics import Analytics
from gridpulse.strings import t

# The lifecycle's steps (点单→派单→接单→办结→评单): name, from, to. A step counts in the
# period when its later moment falls in it; a negative duration (bad data) is not counted.
STEPS = (
    ("dispatch", "reported_at", "dispatched_at"),
    ("accept", "dispatched_at", "accepted_at"),
    ("resolve", "accepted_at", "resolved_at"),
    ("rate", "resolved_at", "rated_at"),
    ("total", "reported_at", "resolved_at"),
)
# The lists a leader acts on.
ACTION_LISTS = ("oldest_open", "overdue", "stale", "dissatisfied", "reopened")


class Accountability(Analytics):
    """Stage timings and action lists, as the scope may see them."""

    def stage_hours(self, scope: Scope, f: Filters, by: str | None = None) -> pd.DataFrame:
        """Per step: cases, median and 90th-percentile hours (columns ``<step>_cases``, ``_median``, ``_p90``).

        Escalation: ``escalate2`` and ``escalate3`` are the hours from reporting to dispatch
        of the cases solved at community (2) and department (3) level, dispatched in the period.
        """
        key, join, group = self._grouping(by)
        conds, params = sql.cases_where(scope, f)
        params |= sql.period_params(f)
        cols, spread = [], []
        steps = [*STEPS, ("escalate2", "reported_at", "dispatched_at"), ("escalate3", "reported_at", "dispatched_at")]
        for name, a, b in steps:
            hours = f"epoch(c.{b} - c.{a}) / 3600.0"
            cond = f"c.{b} >= $start AND c.{b} < $end AND c.{a} IS NOT NULL AND c.{b} >= c.{a}"
            if name.startswith("escalate"):
                cond += f" AND c.handled_level = {int(name[-1])}"
            cols += [
                f"count(*) FILTER ({cond}) AS {name}_cases",
                f"quantile_cont({hours}, [0.5, 0.9]) FILTER ({cond}) AS {name}_q",
            ]
            spread += [f"{name}_q[1] AS {name}_median", f"{name}_q[2] AS {name}_p90"]
        conds = [
            *conds,
            "c.reported_at < $end",
            "(c.rated_at >= $start OR c.resolved_at IS NULL OR c.resolved_at >= $start)",
        ]
        text = f"SELECT {key} {', '.join(cols)} FROM cases c {join} {sql.where(conds)} {group}"
        # Each step's median and 90th percentile from one quantile state (its hours gathered once).
        quantiles = ", ".join(f"{name}_q" for name, _a, _b in steps)
        text = f"SELECT * EXCLUDE ({quantiles}), {', '.join(spread)} FROM ({text}) {'ORDER BY key' if by else ''}"
        return self.query(text, params)

    def action_cases(
        self,
        scope: Scope,
        f: Filters,
        as_of: datetime,
        kind: str,
        *,
        department: str | None = None,
        stale_days: int = config.STALE_DAYS,
        limit: int = config.MAX_TABLE_ROWS,
        mask: bool = False,
    ) -> pd.DataFrame:
        """One of ``ACTION_LISTS``, within the scope (and one department, when given).

        - ``oldest_open``: open at the period's end (or ``as_of``), oldest first;
        - ``overdue``: open then and past its deadline, longest overdue first;
        - ``stale``: open then, with no step for ``stale_days`` days, longest waiting first;
        - ``dissatisfied``: rated in the period with at most ``DISSATISFIED_MAX_STARS`` stars;
        - ``reopened``: resolved in the period and reopened.
        """
        if kind not in ACTION_LISTS:
            raise ValueError(kind)
        conds, params = sql.cases_where(scope, f)
        stamp = min(f.end_ts, as_of)
        params |= sql.period_params(f) | {
            "stamp": stamp,
            "limit": limit,
            "default_deadline_h": config.DEFAULT_DEADLINE_HOURS,
            "unsat": config.DISSATISFIED_MAX_STARS,
            "stale_before": stamp - timedelta(days=stale_days),
        }
        if department is not None:
            conds.append("c.department = $department")
            params["department"] = department
        # Steps after the stamp had not happened yet (a past period): they do not count as the last step.
        last_step = (
            "greatest(c.reported_at, CASE WHEN c.dispatched_at < $stamp THEN c.dispatched_at END,"
            " CASE WHEN c.accepted_at < $stamp THEN c.accepted_at END)"
        )
        open_at = "c.reported_at < $stamp AND (c.resolved_at IS NULL OR c.resolved_at >= $stamp)"
        where, order = {
            "oldest_open": (open_at, "c.reported_at, c.case_id"),
            "overdue": (f"{open_at} AND {sql.deadline('c')} < $stamp", "deadline_at, c.case_id"),
            "stale": (f"{open_at} AND {last_step} < $stale_before", "last_step_at, c.case_id"),
            "dissatisfied": (
                f"{sql.in_period('c.rated_at')} AND c.satisfaction <= $unsat",
                "c.satisfaction, c.rated_at DESC, c.case_id",
            ),
            "reopened": (f"{sql.in_period('c.resolved_at')} AND c.reopened", "c.resolved_at DESC, c.case_id"),
        }[kind]
        text = f"""
            SELECT c.case_id, c.reported_at, g.grid_name, c.category, c.description, c.address,
                   c.reporter_name, c.reporter_phone, c.status, c.handled_level, c.department,
                   {sql.deadline("c")} AS deadline_at, {last_step} AS last_step_at,
                   date_diff('day', {last_step}, $stamp) AS days_waiting,
                   c.resolved_at, c.satisfaction
            FROM cases c LEFT JOIN grids g ON g.grid_code = c.grid_code
            WHERE {where} {sql.and_(conds)}
            ORDER BY {order} LIMIT $limit
        """
        return sql.masked(self.query(text, sql.used(text, params)), scope, mask)

    def level3_by_community(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases resolved in the period by departments (level 3), per community and department."""
        conds, params = sql.cases_where(scope, f, period="resolved_at")
        params |= {"none": t("no_department")}
        text = f"""
            SELECT g.community, coalesce(c.department, $none) AS department, count(*) AS cases
            FROM cases c JOIN grids g ON g.grid_code = c.grid_code
            WHERE c.handled_level = 3 {sql.and_(conds)}
            GROUP BY ALL ORDER BY g.community, cases DESC, department
        """
        return self.query(text, params)
