"""Building WHERE clauses: scope first, then filters, then the period; values always bound.

Every read of cases or grids composes its conditions here, so the scope cannot be
forgotten and the period is written once.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from gridpulse import privacy
from gridpulse.filters import Filters, case_conditions, grid_conditions
from gridpulse.scope import Scope, scope_case_conditions, scope_grid_conditions

# A case imported without a deadline gets the 12345 platform's default one.
DEADLINE_SQL = "coalesce({a}deadline_at, {a}reported_at + to_hours($default_deadline_h))"


def deadline(alias: str = "") -> str:
    return DEADLINE_SQL.format(a=f"{alias}." if alias else "")


def in_period(column: str) -> str:
    """``column`` falls in the period: from ``$start`` (inclusive) to ``$end`` (exclusive)."""
    return f"{column} >= $start AND {column} < $end"


def period_params(f: Filters) -> dict[str, Any]:
    return {"start": f.start_ts, "end": f.end_ts}


def masked(rows: pd.DataFrame, scope: Scope, mask: bool) -> pd.DataFrame:
    """Personal data masked unless the role needs it; ``mask`` masks it for everybody."""
    return privacy.mask_cases(rows) if mask or not scope.sees_personal_data else rows


def used(text: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters ``text`` names (DuckDB refuses unused ones): for queries whose parts vary."""
    names = set(re.findall(r"\$(\w+)", text))
    return {k: v for k, v in params.items() if k in names}


def where(conds: list[str]) -> str:
    return f"WHERE {' AND '.join(conds)}" if conds else ""


def and_(conds: list[str]) -> str:
    return "".join(f" AND {c}" for c in conds)


def cases_where(scope: Scope, f: Filters | None, period: str | None = None) -> tuple[list[str], dict[str, Any]]:
    """Conditions on cases (alias ``c``): the scope, the filters and, if ``period`` names a column, the period."""
    conds, params = scope_case_conditions(scope)
    if f is not None:
        more, more_params = case_conditions(f)
        conds, params = conds + more, params | more_params
        if period is not None:
            conds, params = [in_period(period), *conds], params | period_params(f)
    return conds, params


def grids_where(scope: Scope, f: Filters | None, alias: str = "g") -> tuple[list[str], dict[str, Any]]:
    """Conditions on grids: the scope and the area filters."""
    conds, params = scope_grid_conditions(scope, alias)
    if f is not None:
        more, more_params = grid_conditions(f, alias)
        conds, params = conds + more, params | more_params
    return conds, params
