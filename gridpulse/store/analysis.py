"""Scoped reads for 研判预警: weekly counts per grid and category, cases in small cells, repeated places.

Aggregates and case points only; the statistics are in ``gridpulse.alerts``, ``gridpulse.hotspots``
and ``gridpulse.repeats``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd

from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import sql
from gridpulse.store.analytics import Analytics

METRES_PER_DEG_LAT = 111_320.0


class Analysis(Analytics):
    """What the hot-spot, repeat and early-warning statistics are computed from."""

    def weekly_counts(self, scope: Scope, as_of: datetime, weeks: int) -> pd.DataFrame:
        """Cases per grid, category and rolling week before ``as_of`` (week 0: the 7 days up to it).

        Columns grid_code, category, weeks_ago, cases; only cases placed in a grid, with a category.
        """
        conds, params = sql.cases_where(scope, None)
        params |= {"as_of": as_of, "since": as_of - timedelta(days=7 * weeks)}
        text = f"""
            SELECT c.grid_code, c.category,
                   CAST(floor(date_diff('second', c.reported_at, $as_of) / 604800) AS INTEGER) AS weeks_ago,
                   count(*) AS cases
            FROM cases c
            WHERE c.reported_at <= $as_of AND c.reported_at > $since
              AND c.grid_code IS NOT NULL AND c.category IS NOT NULL {sql.and_(conds)}
            GROUP BY ALL
        """
        return self.query(text, params)

    def grid_month_counts(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """Cases reported in the period per grid and calendar month: grid_code, month, cases."""
        conds, params = sql.cases_where(scope, f, period="reported_at")
        text = f"""
            SELECT c.grid_code, CAST(date_trunc('month', c.reported_at) AS TIMESTAMP) AS month, count(*) AS cases
            FROM cases c
            WHERE c.grid_code IS NOT NULL {sql.and_(conds)}
            GROUP BY ALL ORDER BY month, grid_code
        """
        return self.query(text, params)

    def cell_counts(self, scope: Scope, f: Filters, cell_m: float) -> pd.DataFrame:
        """Cases reported in the period per square cell of ``cell_m`` metres: ix, iy (cell indices), cases.

        Cell (ix, iy) spans lon [ix·dlon, (ix+1)·dlon), lat [iy·dlat, (iy+1)·dlat); see ``cell_size``.
        """
        dlon, dlat = self.cell_size(cell_m)
        conds, params = sql.cases_where(scope, f, period="reported_at")
        params |= {"dlat": dlat, "dlon": dlon}
        text = f"""
            SELECT CAST(floor(lon / $dlon) AS BIGINT) AS ix, CAST(floor(lat / $dlat) AS BIGINT) AS iy,
                   count(*) AS cases
            FROM cases c
            WHERE lat IS NOT NULL AND lon IS NOT NULL {sql.and_(conds)}
            GROUP BY ALL
        """
        return self.query(text, params)

    def cell_size(self, cell_m: float) -> tuple[float, float]:
        """(dlon, dlat) in degrees of a ``cell_m`` metre cell at the street's latitude."""
        lat0 = self._reference_lat()
        dlat = cell_m / METRES_PER_DEG_LAT
        return dlat / max(math.cos(math.radians(lat0)), 0.1), dlat

    def case_points(self, scope: Scope, f: Filters) -> pd.DataFrame:
        """The period's cases with where, what and how they were handled (no personal data), oldest first."""
        conds, params = sql.cases_where(scope, f, period="reported_at")
        text = f"""
            SELECT c.case_id, c.reported_at, c.resolved_at, c.category, c.lon, c.lat, c.address,
                   c.grid_code, g.grid_name, c.handled_level, c.reopened, c.status
            FROM cases c LEFT JOIN grids g ON g.grid_code = c.grid_code
            WHERE c.category IS NOT NULL {sql.and_(conds)}
            ORDER BY c.reported_at, c.case_id
        """
        return self.query(text, params)
