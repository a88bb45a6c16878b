"""Local log-in for intranets without an identity provider: argon2 hashes, throttling, audit.

Users live in the database's ``users`` table. Demo users (documented in the README)
are created only in the demo database and refused by any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gridpulse.db import Store
from gridpulse.scope import ADMIN, GRID_HEAD, LEADER, LIAISON, ROLES, SECRETARY, Scope

MAX_FAILED_LOGINS = 5  # then the account is locked for LOCK_MINUTES
LOCK_MINUTES = 15
SESSION_IDLE_MINUTES = 30  # a session with no interaction for this long must log in again
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


class AuthError(Exception):
    """A refused log-in or user change; ``str(e)`` is the Chinese message to show."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    scope: Scope

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        scope = Scope(
            row["role"],
            communities=tuple(row.get("communities") or ()),
            grids=tuple(row.get("grids") or ()),
            department=row.get("department"),
        )
        return cls(row["username"], row["display_name"], row["role"], scope)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 位。")
    return _hasher.hash(password)


def describe_scope(scope: Scope) -> str:
    """The scope in a few words, for the audit log."""
    if scope.role == SECRETARY:
        return "社区:" + ",".join(scope.communities)
    if scope.role == GRID_HEAD:
        return "网格:" + ",".join(scope.grids)
    if scope.role == LIAISON:
        return f"部门:{scope.department}"
    return "全街道"


def authenticate(store: Store, username: str, password: str, now: datetime | None = None) -> User:
    """The user for these credentials, or AuthError with what to do, in Chinese.

    Every attempt is audited. After MAX_FAILED_LOGINS failures in a row the account is
    locked for LOCK_MINUTES; an unknown name gets the same message as a wrong password.
    """
    now = now or datetime.now()
    row = store.user(username.strip())
    wrong = AuthError("用户名或密码错误。")
    if row is None:
        store.audit(now, username[:64], "login_failed", "", "unknown user")
        raise wrong
    if row["demo"] and not store.is_demo():
        store.audit(now, username, "login_failed", "", "demo user outside the demo street")
        raise wrong
    if row["disabled"]:
        store.audit(now, username, "login_failed", "", "disabled")
        raise AuthError("该账号已停用，请联系系统管理员。")
    locked = row["locked_until"]
    if locked is not None and locked > now:
        store.audit(now, username, "login_locked", "", f"until {locked}")
        raise AuthError(f"连续输错密码次数过多，账号已锁定至 {locked:%H:%M}，请稍后再试或联系管理员。")
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        failures = int(row["failed_count"] or 0) + 1
        lock = now + timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILED_LOGINS else None
        store.record_login_failure(username, lock)
        store.audit(now, username, "login_failed", "", f"wrong password ({failures})")
        if lock is not None:
            raise AuthError(f"连续输错密码 {failures} 次，账号已锁定 {LOCK_MINUTES} 分钟。") from None
        raise wrong from None
    store.record_login_success(username)
    user = User.from_row(row)
    store.audit(now, username, "login", describe_scope(user.scope))
    return user


def current_user(store: Store, username: str) -> User | None:
    """The user as the database says now (None if gone or disabled): scope is never cached."""
    row = store.user(username)
    if row is None or row["disabled"] or (row["demo"] and not store.is_demo()):
        return None
    return User.from_row(row)


def new_user(
    username: str,
    display_name: str,
    role: str,
    password: str,
    communities: tuple[str, ...] = (),
    grids: tuple[str, ...] = (),
    department: str | None = None,
    demo: bool = False,
) -> dict[str, Any]:
    """A users-table row, validated (the scope must fit the role)."""
    if role not in ROLES:
        raise AuthError(f"未知角色 {role}，可选：{', '.join(ROLES)}。")
    try:
        Scope(role, communities, grids, department)
    except ValueError as err:
        raise AuthError("角色与范围不符：社区书记需指定社区，网格长需指定网格，部门联络员需指定部门。") from err
    return {
        "username": username,
        "display_name": display_name,
        "role": role,
        "communities": list(communities),
        "grids": list(grids),
        "department": department,
        "password_hash": hash_password(password),
        "demo": demo,
    }


# Documented in the README; created only in the demo database.
DEMO_PASSWORD = "gridpulse-demo"


def demo_users(grid_codes: list[str], communities: list[str], department: str) -> list[dict[str, Any]]:
    """One demo user per role."""
    return [
        new_user("leader", "街道领导（演示）", LEADER, DEMO_PASSWORD, demo=True),
        new_user("secretary", "社区书记（演示）", SECRETARY, DEMO_PASSWORD, communities=(communities[0],), demo=True),
        new_user("gridhead", "网格长（演示）", GRID_HEAD, DEMO_PASSWORD, grids=tuple(grid_codes[:2]), demo=True),
        new_user("liaison", "部门联络员（演示）", LIAISON, DEMO_PASSWORD, department=department, demo=True),
        new_user("admin", "系统管理员（演示）", ADMIN, DEMO_PASSWORD, demo=True),
    ]
