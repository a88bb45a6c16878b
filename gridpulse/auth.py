"""Local log-in for intranets without an identity provider: argon2 hashes, throttling, audit.

Users live in the database's ``users`` table. Demo users (documented in the README)
are created only in the demo database and refused by any other.
"""

from __future__ import annotations

import threading
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


# One log-in at a time per process: the failure counter is read, checked and written
# without a race (parallel guesses must all be counted), and guessing gets no faster.
_LOGIN_LOCK = threading.Lock()
# Failures against names that do not exist, so they lock like real accounts do and an
# attacker cannot tell real names from the lock-out either.
_phantom_failures: dict[str, tuple[int, datetime | None]] = {}
_DUMMY_HASH = _hasher.hash("gridpulse-timing-equaliser")


def authenticate(store: Store, username: str, password: str, now: datetime | None = None) -> User:
    """The user for these credentials, or AuthError with what to do, in Chinese.

    Every attempt is audited. After MAX_FAILED_LOGINS failures in a row the name is
    locked for LOCK_MINUTES. An unknown name, a demo user outside the demo street, a
    disabled account and a wrong password all look alike until the password is right:
    each costs one password check and gets the same message.
    """
    now = now or datetime.now()
    name = username.strip()[:64]
    with _LOGIN_LOCK:
        row = store.user(name)
        known = row is not None and not (row["demo"] and not store.is_demo())
        failed, locked = (
            (int(row["failed_count"] or 0), row["locked_until"])
            if known and row
            else _phantom_failures.get(name, (0, None))
        )
        if locked is not None and locked <= now:
            failed = 0  # a lock that has run out starts the count again
        if locked is not None and locked > now:
            store.audit(now, name, "login_locked", "", f"until {locked:%Y-%m-%d %H:%M}")
            raise AuthError(f"连续输错密码次数过多，账号已锁定至 {locked:%H:%M}，请稍后再试或联系管理员。")
        try:
            _hasher.verify(row["password_hash"] if known and row else _DUMMY_HASH, password)
            if not known:
                raise VerificationError
        except (VerificationError, InvalidHashError):
            failed += 1
            lock = now + timedelta(minutes=LOCK_MINUTES) if failed >= MAX_FAILED_LOGINS else None
            if known:
                store.record_login_failure(name, failed, lock)
            else:
                _phantom_failures[name] = (failed, lock)
            store.audit(now, name, "login_failed", "", f"wrong password ({failed})" if known else "unknown user")
            if lock is not None:
                raise AuthError(f"连续输错密码 {failed} 次，账号已锁定 {LOCK_MINUTES} 分钟。") from None
            raise AuthError("用户名或密码错误。") from None
        assert row is not None
        if row["disabled"]:
            store.audit(now, name, "login_failed", "", "disabled")
            raise AuthError("该账号已停用，请联系系统管理员。")
        store.record_login_success(name)
        user = User.from_row(row)
        store.audit(now, name, "login", describe_scope(user.scope))
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


def ensure_demo_users(store: Store) -> int:
    """Give a demo street made by an older version its demo users; returns how many were added."""
    if not store.is_demo() or not store.users().empty:
        return 0
    grids = store.grids(Scope.street())
    departments = store.distinct_values(Scope.street(), "department") or ["区住建局"]
    department = "区住建局" if "区住建局" in departments else departments[0]
    users = demo_users(sorted(grids["grid_code"]), sorted(grids["community"].unique()), department)
    for user in users:
        store.add_user(user)
    return len(users)
