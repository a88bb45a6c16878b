"""Scoped reads: what the dashboard's figures are computed from.

Every method takes the caller's ``Scope`` first and applies it through the where-builder
(``store.sql``), so no page can forget it; every value is a bound parameter.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import ClassVar

import pandas as pd

from gridpulse import config
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import sql
from gridpulse.store.connection import Connection
from gridpulse.strings import t


class Analytics(Connection):
    """Grids, cases and resources as the scope may see them."""

    def grids(self, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
        """Grid attributes (no geometry) the scope may see, ordered by code."""
        conds, params = sql.grids_where(scope, f)
        return self.query(
            f"SELECT grid_code, grid_name, community, households, grid_head FROM grids g {sql.where(conds)} "
            "ORDER BY grid_code",
            params,
        )

    def grid_shapes(self, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
        """Grid attributes with WKB geometry, ordered by code."""
        conds, params = sql.grids_where(scope, f)
        return self.query(
            f"SELECT grid_code, grid_name, community, households, grid_head, geometry "
            f"FROM grids g {sql.where(conds)} ORDER BY grid_code",
            params,
        )

    def communities(self, scope: Scope) -> list[str]:
        conds, params = sql.grids_where(scope, None)
        text = f"SELECT DISTINCT community FROM grids g {sql.where(conds)} ORDER BY community"
        return self.query(text, params)["community"].tolist()

    def distinct_values(self, scope: Scope, column: str) -> list[str]:
        """Distinct non-null values of a case column among the cases the scope may see."""
        if column not in ("category", "source", "department"):
            raise ValueError(column)
        conds, params = sql.cases_where(scope, None)
        text = f"SELECT DISTINCT {column} AS v FROM cases c WHERE {column} IS NOT NULL{sql.and_(conds)} ORDER BY v"
        return self.query(text, params)["v"].tolist()

    def reported_range(self, scope: Scope) -> tuple[datetime, datetime] | None:
        conds, params = sql.cases_where(scope, None)
        text = f"SELECT min(reported_at) AS lo, max(reported_at) AS hi FROM cases c {sql.where(conds)}"
        row = self.query(text, params)
        if row.empty or pd.isna(row.at[0, "lo"]):
            return None
        return row.at[0, "lo"].to_pydatetime(), row.at[0, "hi"].to_pydatetime()

    # ---- case figures ---------------------------------------------------

    # What ``case_components`` and ``stage_hours`` may group by: the key's SQL (alias c; gk: the case's grid).
    GROUP_KEYS: ClassVar[dict[str, str]] = {
        "grid_code": "c.grid_code",
        "category": "c.category",
        "source": "c.source",
        "department": "c.department",
        "community": "gk.community",
    }

    def _grouping(self, by: str | None) -> tuple[str, str, str]:
        """(select key, join, group clause) for grouping by ``by`` (None: one row for everything)."""
        if by is None:
            return "", "", ""
        if by not in self.GROUP_KEYS:
            raise ValueError(by)
        join = "LEFT JOIN grids gk ON gk.grid_code = c.grid_code" if by == "community" else ""
        return f"{self.GROUP_KEYS[by]} AS key,", join, "GROUP BY ALL ORDER BY key"

    def case_components(
        self,
        scope: Scope,
        f: Filters,
        as_of: datetime,
        by: str | None = None,
        accept_hours: float = config.ACCEPT_LIMIT_HOURS,
    ) -> pd.DataFrame:
        """The counts every rate is built from, for the whole selection or per ``by`` (see ``GROUP_KEYS``).

        Each count says which event falls in the period: reported (cases), resolved (resolved,
        on_time, level1-3, on_spot, reopened, median_hours, p90_hours), dispatched (dispatched;
        accept_due: its signing limit of ``accept_hours`` has passed by the stamp;
        accepted_in_time), deadline (due, due_resolved) or rated (rated, satisfied,
        dissatisfied). A missing deadline is ``DEFAULT_DEADLINE_HOURS`` after reporting.
        Backlog and overdue are taken at the period's end or ``as_of``, whichever is earlier.
        """
        key, join, group = self._grouping(by)
        conds, params = sql.cases_where(scope, f)
        stamp = min(f.end_ts, as_of)
        params |= sql.period_params(f) | {
            "stamp": stamp,
            "sat": config.SATISFIED_MIN_STARS,
            "unsat": config.DISSATISFIED_MAX_STARS,
            "default_deadline_h": config.DEFAULT_DEADLINE_HOURS,
            "accept_s": int(accept_hours * 3600),
            "on_spot_s": int(config.ON_SPOT_HOURS * 3600),
        }
        deadline = sql.deadline()
        rep, res = sql.in_period("reported_at"), sql.in_period("resolved_at")
        due = f"{deadline} >= $start AND {deadline} < $stamp"
        rat = f"{sql.in_period('rated_at')} AND satisfaction IS NOT NULL"
        dis = sql.in_period("dispatched_at")
        accept_due = f"{dis} AND dispatched_at + to_seconds($accept_s) <= $stamp"
        open_at = "reported_at < $stamp AND (resolved_at IS NULL OR resolved_at >= $stamp)"
        hours = "epoch(resolved_at - reported_at) / 3600.0"
        # Only cases with an event at or after the period's start can count in it: skip the
        # rest before aggregating (cases are stored in reporting order, so whole row
        # groups after the period are skipped too).
        conds = [
            *conds,
            "reported_at < $end",
            f"(resolved_at IS NULL OR resolved_at >= least($start, $stamp) OR rated_at >= $start"
            f" OR {deadline} >= $start)",
        ]
        text = f"""
            SELECT {key}
              count(*) FILTER ({rep}) AS cases,
              count(*) FILTER ({res}) AS resolved,
              count(*) FILTER ({res} AND resolved_at <= {deadline}) AS on_time,
              count(*) FILTER ({res} AND handled_level = 1) AS level1,
              count(*) FILTER ({res} AND handled_level = 2) AS level2,
              count(*) FILTER ({res} AND handled_level = 3) AS level3,
              count(*) FILTER ({res} AND handled_level = 1
                               AND resolved_at <= reported_at + to_seconds($on_spot_s)) AS on_spot,
              count(*) FILTER ({res} AND reopened) AS reopened,
              quantile_cont({hours}, [0.5, 0.9]) FILTER ({res}) AS hours_q,
              count(*) FILTER ({dis}) AS dispatched,
              count(*) FILTER ({accept_due}) AS accept_due,
              count(*) FILTER ({accept_due} AND accepted_at IS NOT NULL
                               AND accepted_at <= dispatched_at + to_seconds($accept_s)) AS accepted_in_time,
              count(*) FILTER ({due}) AS due,
              count(*) FILTER ({due} AND resolved_at IS NOT NULL AND resolved_at < $stamp)
                  AS due_resolved,
              count(*) FILTER ({rat}) AS rated,
              count(*) FILTER ({rat} AND satisfaction >= $sat) AS satisfied,
              count(*) FILTER ({rat} AND satisfaction <= $unsat) AS dissatisfied,
              count(*) FILTER ({open_at}) AS backlog,
              count(*) FILTER ({open_at} AND {deadline} < $stamp) AS overdue,
              count(*) FILTER ({rep} AND c.grid_code IS NULL) AS unassigned
            FROM cases c {join} {sql.where(conds)} {group}
        """
        # The median and the 90th percentile from one quantile state: the resolved cases' hours are
        # gathered once, not twice (on a 5M-case district, a third of the overview's data work).
        text = f"""
            SELECT * EXCLUDE (hours_q), hours_q[1] AS median_hours, hours_q[2] AS p90_hours
            FROM ({text}) {"ORDER BY key" if by else ""}
        """
        return self.query(text, params)

    def monthly_counts(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases reported and resolved per calendar month of the period."""
        conds, params = sql.cases_where(scope, f)
        params |= sql.period_params(f)
        extra = sql.and_(conds)
        text = f"""
            WITH rep AS (
                SELECT date_trunc('month', reported_at) AS month, count(*) AS reported
                FROM cases c WHERE {sql.in_period("reported_at")} {extra}
                GROUP BY 1),
            res AS (
                SELECT date_trunc('month', resolved_at) AS month, count(*) AS resolved
                FROM cases c WHERE {sql.in_period("resolved_at")} {extra}
                GROUP BY 1)
            SELECT coalesce(rep.month, res.month) AS month,
                   coalesce(reported, 0) AS reported, coalesce(resolved, 0) AS resolved
            FROM rep FULL OUTER JOIN res ON rep.month = res.month
            ORDER BY month
        """
        return self.query(text, params)

    def category_counts(self, scope: Scope, f: Filters, limit: int = 10) -> pd.DataFrame:
        """The most frequent categories among cases reported in the period."""
        conds, params = sql.cases_where(scope, f, period="reported_at")
        params |= {"limit": limit, "uncategorised": t("uncategorised")}
        text = f"""
            SELECT coalesce(category, $uncategorised) AS category, count(*) AS cases
            FROM cases c {sql.where(conds)}
            GROUP BY 1 ORDER BY cases DESC, category LIMIT $limit
        """
        return self.query(text, params)

    def category_month_counts(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases reported in the period by category and calendar month."""
        conds, params = sql.cases_where(scope, f, period="reported_at")
        params |= {"uncategorised": t("uncategorised")}
        text = f"""
            SELECT coalesce(category, $uncategorised) AS category, date_trunc('month', reported_at) AS month,
                   count(*) AS cases
            FROM cases c {sql.where(conds)}
            GROUP BY ALL ORDER BY month, category
        """
        return self.query(text, params)

    def heat_cells(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases reported in the period binned into ~33 m cells: lat, lon, weight.

        The heat layer gets these cells, never raw points, so its size is bounded by
        the street's area, not by the number of cases.
        """
        conds, params = sql.cases_where(scope, f, period="reported_at")
        lat0 = self._reference_lat()
        params |= {
            "dlat": config.HEAT_CELL_DEG,
            "dlon": config.HEAT_CELL_DEG / max(math.cos(math.radians(lat0)), 0.1),
        }
        text = f"""
            SELECT (floor(lat / $dlat) + 0.5) * $dlat AS lat,
                   (floor(lon / $dlon) + 0.5) * $dlon AS lon,
                   count(*) AS weight
            FROM cases c
            WHERE lat IS NOT NULL AND lon IS NOT NULL {sql.and_(conds)}
            GROUP BY ALL ORDER BY weight DESC, lat, lon
        """
        return self.query(text, params)

    def _reference_lat(self) -> float:
        """A latitude for the street (mean of case latitudes) to size heat cells in metres."""
        row = self.query("SELECT avg(lat) AS lat FROM cases")
        return 0.0 if pd.isna(row.at[0, "lat"]) else float(row.at[0, "lat"])

    def case_list(
        self,
        scope: Scope,
        f: Filters,
        grid_code: str,
        limit: int = config.MAX_TABLE_ROWS,
        mask: bool = False,
    ) -> pd.DataFrame:
        """One grid's cases reported in the period, newest first, at most ``limit`` rows.

        Residents' personal data is masked unless the scope's role needs it; ``mask``
        masks it for everybody (meeting mode, exports).
        """
        conds, params = sql.cases_where(scope, f, period="reported_at")
        params |= {"grid": grid_code, "limit": limit}
        text = f"""
            SELECT case_id, reported_at, source, category, description, address,
                   reporter_name, reporter_phone, status, handled_level, department,
                   deadline_at, resolved_at, satisfaction, reopened
            FROM cases c
            WHERE c.grid_code = $grid {sql.and_(conds)}
            ORDER BY reported_at DESC, case_id LIMIT $limit
        """
        return sql.masked(self.query(text, params), scope, mask)

    def open_cases(
        self, scope: Scope, f: Filters, as_of: datetime, limit: int = config.MAX_TABLE_ROWS, mask: bool = False
    ) -> pd.DataFrame:
        """Cases open at the period's end (or ``as_of``), overdue first, then oldest first."""
        conds, params = sql.cases_where(scope, f)
        params |= {
            "stamp": min(f.end_ts, as_of),
            "limit": limit,
            "default_deadline_h": config.DEFAULT_DEADLINE_HOURS,
        }
        text = f"""
            SELECT c.case_id, c.reported_at, g.grid_name, c.category, c.description, c.address,
                   c.reporter_name, c.reporter_phone, c.status, c.handled_level, c.department,
                   {sql.deadline("c")} AS deadline_at, {sql.deadline("c")} < $stamp AS overdue
            FROM cases c LEFT JOIN grids g ON g.grid_code = c.grid_code
            WHERE c.reported_at < $stamp AND (c.resolved_at IS NULL OR c.resolved_at >= $stamp) {sql.and_(conds)}
            ORDER BY overdue DESC, c.reported_at, c.case_id LIMIT $limit
        """
        return sql.masked(self.query(text, params), scope, mask)

    # ---- resources -------------------------------------------------------

    def resources(self, scope: Scope, f: Filters | None = None) -> pd.DataFrame:
        """Service points and teams in the grids the scope and filters cover."""
        conds, params = sql.grids_where(scope, f)
        where = ""
        if conds:
            where = f"WHERE r.grid_code IN (SELECT grid_code FROM grids g WHERE {' AND '.join(conds)})"
        return self.query(
            f"SELECT resource_id, name, kind, level, lon, lat, grid_code FROM resources r {where} ORDER BY resource_id",
            params,
        )
