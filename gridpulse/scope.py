"""Who may see what: a user's scope, applied by the data layer to every query.

A scope is built on the server from the users table after log-in; nothing a browser
sends can widen it. Filters chosen in the UI only narrow it further.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEADER = "leader"
SECRETARY = "community_secretary"
GRID_HEAD = "grid_head"
LIAISON = "department_liaison"
ADMIN = "admin"
ROLES = (LEADER, SECRETARY, GRID_HEAD, LIAISON, ADMIN)

# Roles that handle residents' cases themselves and so see names and phone numbers.
# Leaders look at figures; at a meeting or in an export everything is masked anyway.
SEES_PERSONAL_DATA = {SECRETARY, GRID_HEAD, LIAISON, ADMIN}


@dataclass(frozen=True)
class Scope:
    """The grids and cases one user may see."""

    role: str
    communities: tuple[str, ...] = field(default=())
    grids: tuple[str, ...] = field(default=())
    department: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == SECRETARY and not self.communities:
            raise ValueError("a community secretary needs at least one community")
        if self.role == GRID_HEAD and not self.grids:
            raise ValueError("a grid head needs at least one grid")
        if self.role == LIAISON and not self.department:
            raise ValueError("a department liaison needs a department")

    @classmethod
    def street(cls) -> Scope:
        """The whole street (a leader's scope)."""
        return cls(LEADER)

    @property
    def whole_street(self) -> bool:
        return self.role in (LEADER, ADMIN, LIAISON)

    @property
    def sees_personal_data(self) -> bool:
        return self.role in SEES_PERSONAL_DATA


def scope_case_conditions(scope: Scope, alias: str = "c") -> tuple[list[str], dict[str, Any]]:
    """Conditions that keep only the cases ``scope`` may see (bound parameters)."""
    conds, params = scope_grid_conditions(scope, "sg")
    if conds:
        inner = " AND ".join(conds)
        conds = [f"{alias}.grid_code IN (SELECT sg.grid_code FROM grids sg WHERE {inner})"]
    if scope.role == LIAISON:
        conds.append(f"{alias}.department = $scope_department")
        params["scope_department"] = scope.department
    return conds, params


def scope_grid_conditions(scope: Scope, alias: str = "g") -> tuple[list[str], dict[str, Any]]:
    """Conditions that keep only the grids ``scope`` may see (bound parameters)."""
    if scope.role == SECRETARY:
        return [f"list_contains($scope_communities, {alias}.community)"], {"scope_communities": list(scope.communities)}
    if scope.role == GRID_HEAD:
        return [f"list_contains($scope_grids, {alias}.grid_code)"], {"scope_grids": list(scope.grids)}
    return [], {}
