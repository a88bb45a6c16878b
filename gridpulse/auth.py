"""Local log-in for intranets without an identity provider: argon2 hashes, throttling, audit.

Users live in the database's ``users`` table. Demo users (documented in the README)
are created only in the demo database and refused by any other.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gridpulse import clock
from gridpulse.scope import ADMIN, GRID_HEAD, LEADER, LIAISON, ROLES, SECRETARY, Scope
from gridpulse.store import Store
from gridpulse.strings import t

# Growing delays instead of a hard lock that anyone could set off against the admin:
# a client that keeps guessing one account waits longer and longer (PAIR_*), a client that
# sprays names waits too (CLIENT_*), and an account guessed at from everywhere slows only
# mildly (ACCOUNT_*), so its owner can still log in from their own desk.
PAIR_FREE, PAIR_MAX_DELAY_S = 3, 300
CLIENT_FREE, CLIENT_MAX_DELAY_S = 10, 300
ACCOUNT_FREE, ACCOUNT_MAX_DELAY_S = 10, 10
FORGET_MINUTES = 15  # failures older than this are forgotten
MIN_PASSWORD_LENGTH = 8

# argon2id at OWASP's recommended setting (Password Storage Cheat Sheet: 19 MiB, 2 passes, 1 lane), not
# argon2-cffi's default (64 MiB, 3 passes, 4 lanes): a check costs 0.03 s of CPU instead of 0.23 s, which
# is what lets 20 people of a joint meeting log in at once on two cores (README "Benchmark"). Hashes made
# with the old setting still verify, and are made again with this one at their next log-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


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
        raise AuthError(t("auth_password_short", n=MIN_PASSWORD_LENGTH))
    return _hasher.hash(password)


def describe_scope(scope: Scope) -> str:
    """The scope in a few words, for the audit log."""
    if scope.role == SECRETARY:
        return t("auth_scope_communities", communities=",".join(scope.communities))
    if scope.role == GRID_HEAD:
        return t("auth_scope_grids", grids=",".join(scope.grids))
    if scope.role == LIAISON:
        return t("auth_scope_department", department=scope.department)
    return t("whole_street")


# Attempts at one name are serialised (parallel guesses are all counted before the next is
# let through); attempts at different names run side by side, so one attacker's guesses
# never queue everybody else's log-in behind their password checks.
_NAME_LOCKS = [threading.Lock() for _ in range(64)]
_DUMMY_HASH = _hasher.hash("gridpulse-timing-equaliser")
# Password checks (argon2, 19 MiB each) at most one per core at a time: a burst of guesses queues here
# instead of taking every core and all the memory from the people looking at figures.
_HASH_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
UNKNOWN_CLIENT = "unknown"


def _delay(failures: int, free: int, cap: int) -> int:
    """Seconds to wait after ``failures`` failures: none for the first ``free``, then doubling to ``cap``."""
    return 0 if failures < free else min(cap, 2 ** (failures - free))


def _throttle_keys(name: str, client: str) -> dict[str, str]:
    """The counters an attempt counts against. Without a client address (a proxy that does not pass
    X-Forwarded-For, see README) everyone would share one client: then only the mild account counter."""
    if client == UNKNOWN_CLIENT:
        return {"account": f"account:{name}"}
    return {"pair": f"pair:{client}|{name}", "client": f"client:{client}", "account": f"account:{name}"}


def wait_seconds(store: Store, name: str, client: str, now: datetime) -> int:
    """How long this client must wait before it may try this name again (0: go ahead)."""
    keys = _throttle_keys(name, client)
    seen = store.login_failures(list(keys.values()))
    limits = {"pair": (PAIR_FREE, PAIR_MAX_DELAY_S), "client": (CLIENT_FREE, CLIENT_MAX_DELAY_S),
              "account": (ACCOUNT_FREE, ACCOUNT_MAX_DELAY_S)}  # fmt: skip
    wait = 0.0
    for kind, key in keys.items():  # only the counters that apply (see _throttle_keys)
        if key not in seen:
            continue
        failures, last = seen[key]
        if now - last > timedelta(minutes=FORGET_MINUTES):
            continue
        delay = _delay(failures, *limits[kind])
        wait = max(wait, (last + timedelta(seconds=delay) - now).total_seconds())
    return max(0, math.ceil(wait))


def authenticate(
    store: Store, username: str, password: str, now: datetime | None = None, client: str = UNKNOWN_CLIENT
) -> User:
    """The user for these credentials, or AuthError with what to do, in Chinese.

    Every attempt is audited. Failures slow the next attempt down (``wait_seconds``),
    never lock the account: a throttled attempt is refused before any password check,
    so guessing costs the server nothing. An unknown name, a demo user outside the demo
    street, a disabled account and a wrong password all look alike until the password is
    right: each costs one password check and gets the same message.
    """
    now = now or clock.now()
    name = username.strip()[:64]
    client = (client or UNKNOWN_CLIENT)[:64]
    keys = _throttle_keys(name, client)
    with _NAME_LOCKS[hash(name) % len(_NAME_LOCKS)]:
        wait = wait_seconds(store, name, client, now)
        if wait > 0:
            store.audit(now, name, "login_throttled", "", f"client {client}, wait {wait}s")
            raise AuthError(t("auth_throttled", wait=wait))
        row = store.user(name)
        known = row is not None and not (row["demo"] and not store.is_demo())
        try:
            with _HASH_SLOTS:
                _hasher.verify(row["password_hash"] if known and row else _DUMMY_HASH, password)
            if not known:
                raise VerificationError
        except (VerificationError, InvalidHashError):
            store.add_login_failure(list(keys.values()), now, now - timedelta(minutes=FORGET_MINUTES))
            if known:
                store.record_login_failure(name, int(row["failed_count"] or 0) + 1)
            why = "wrong password" if known else "unknown user"
            store.audit(now, name, "login_failed", "", f"client {client}: {why}")
            raise AuthError(t("auth_bad_credentials")) from None
        assert row is not None
        if row["disabled"]:
            store.audit(now, name, "login_failed", "", f"client {client}: disabled")
            raise AuthError(t("auth_disabled"))
        if _hasher.check_needs_rehash(row["password_hash"]):  # made with another setting: made again now
            with _HASH_SLOTS:  # (under the lock: a second log-in at once reads the new hash, and keeps the first)
                store.set_password(name, _hasher.hash(password))
    # The right password: what is left is bookkeeping, done outside the name's lock (other people logging
    # in as the same name, a meeting's shared account, then wait only for each other's password checks).
    store.record_login_success(name)
    # Only this client's count at this account: logging into one's own account must not wipe
    # the count of names this client sprayed before.
    store.clear_login_failures([keys["pair"]] if "pair" in keys else [])
    user = User.from_row(row)
    store.audit(now, name, "login", describe_scope(user.scope), f"client {client}")
    return user


def toggle_user(store: Store, admin: User, username: str) -> bool:
    """Disable an enabled user or enable a disabled one; audited. Returns the new state."""
    row = store.user(username)
    if row is None:
        raise KeyError(username)
    disabled = not bool(row["disabled"])
    store.set_disabled(username, disabled)
    store.audit(clock.now(), admin.username, "user_disable" if disabled else "user_enable", "", username)
    return disabled


def unlock(store: Store, admin: User, username: str) -> None:
    """An admin lifts every throttle on an account (from the 用户与审计 page or the CLI)."""
    store.record_login_success(username)
    store.clear_throttle(username)
    store.audit(clock.now(), admin.username, "user_unlock", "", username)


def current_user(store: Store, username: str) -> User | None:
    """The user as the database says now (None if gone or disabled): scope is never cached."""
    return active_user(store, store.user(username))


def active_user(store: Store, row: Mapping[str, Any] | None) -> User | None:
    """The user of a users-table row just read, if it may use the dashboard (not gone, not disabled)."""
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
        raise AuthError(t("auth_unknown_role", role=role, roles=", ".join(ROLES)))
    try:
        Scope(role, communities, grids, department)
    except ValueError as err:
        raise AuthError(t("auth_scope_mismatch")) from err
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


def _as_demo(role: str) -> str:
    """A demo user's display name: the role, marked as a demo."""
    return t("auth_demo_name", role=t(f"role_{role}"))


def demo_users(grid_codes: list[str], communities: list[str], department: str) -> list[dict[str, Any]]:
    """One demo user per role."""
    return [
        new_user("leader", _as_demo(LEADER), LEADER, DEMO_PASSWORD, demo=True),
        new_user("secretary", _as_demo(SECRETARY), SECRETARY, DEMO_PASSWORD, communities=(communities[0],), demo=True),
        new_user("gridhead", _as_demo(GRID_HEAD), GRID_HEAD, DEMO_PASSWORD, grids=tuple(grid_codes[:2]), demo=True),
        new_user("liaison", _as_demo(LIAISON), LIAISON, DEMO_PASSWORD, department=department, demo=True),
        new_user("admin", _as_demo(ADMIN), ADMIN, DEMO_PASSWORD, demo=True),
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
