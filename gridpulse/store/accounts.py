"""Users, log-in sessions, throttling counters and the audit log.

Sessions, one-time tickets and failed log-ins live in the database file; where the file
cannot be written (read-only, a full disk) they move to an in-memory database for this
process, so log-in still works.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from gridpulse import clock
from gridpulse.store import schema
from gridpulse.store.connection import Connection, StoreError


class Accounts(Connection):
    """Who may log in, their sessions, and what they did."""

    # ---- users and audit ------------------------------------------------

    def user(self, username: str) -> dict[str, Any] | None:
        """One users-table row as plain Python values, or None."""
        rows = self.records_rows("SELECT * FROM users WHERE username = $u", {"u": username})
        return rows[0] if rows else None

    def users(self) -> pd.DataFrame:
        return self.records_query(
            "SELECT username, display_name, role, communities, grids, department, disabled, demo, "
            "failed_count, locked_until, created_at FROM users ORDER BY username"
        )

    def add_user(self, user: Mapping[str, Any]) -> None:
        self.records_exec(schema.USER_INSERT, {"demo": False, "created_at": clock.now(), **user})

    def set_password(self, username: str, password_hash: str) -> None:
        """A new password ends every session of the user and lifts any throttle on the account."""
        self.records_exec(
            "UPDATE users SET password_hash = $h, failed_count = 0, locked_until = NULL WHERE username = $u",
            {"u": username, "h": password_hash},
        )
        self.end_user_sessions(username)
        self.clear_throttle(username)

    def clear_throttle(self, username: str) -> None:
        """Forget the failures counted against an account (from every client)."""
        self._auth_exec(
            "DELETE FROM login_failures WHERE key = 'account:' || $u OR right(key, length($u) + 1) = '|' || $u",
            {"u": username},
        )

    def set_disabled(self, username: str, disabled: bool) -> None:
        self.records_exec("UPDATE users SET disabled = $d WHERE username = $u", {"u": username, "d": disabled})
        if disabled:
            self.end_user_sessions(username)

    def record_login_failure(self, username: str, failed_count: int) -> None:
        """Failures in a row, shown to the admin; no lock any more (throttling is by ``login_failures``)."""
        self.records_exec(
            "UPDATE users SET failed_count = $n, locked_until = NULL WHERE username = $u",
            {"u": username, "n": failed_count},
        )

    def record_login_success(self, username: str) -> None:
        self.records_exec("UPDATE users SET failed_count = 0, locked_until = NULL WHERE username = $u", {"u": username})

    # ---- log-in sessions and throttling (gridpulse.sessions, gridpulse.auth) ----

    def _auth_memory(self) -> Any:
        """The in-memory home of sessions, tickets and log-in failures, made on first need."""
        with self._auth_lock:
            return self._make_auth_memory()

    def _make_auth_memory(self) -> Any:
        if getattr(self, "_auth_con", None) is None:
            con = duckdb.connect(":memory:")
            con.execute(schema.AUTH_SCHEMA)
            # Sessions in the file stay valid; those ended while it could not be written are listed here.
            con.execute("CREATE TABLE ended (sid_hash VARCHAR PRIMARY KEY)")
            con.execute("CREATE TABLE ended_users (username VARCHAR PRIMARY KEY)")
            self._auth_con = con
            self._memory_secret = secrets.token_hex(32)
            logging.getLogger("gridpulse.db").warning("%s cannot be written: log-in sessions kept in memory", self.path)
        return self._auth_con

    def _auth_in_memory(self) -> bool:
        return self.read_only or getattr(self, "_auth_con", None) is not None

    def _auth_df(self, text: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        if not self._auth_in_memory():  # a read of the file needs no lock: each query has its own cursor
            return self.records_query(text, params)
        with self._auth_lock:
            if not self._auth_in_memory():
                return self.records_query(text, params)
            cur = self._auth_memory().cursor()
            try:
                return cur.execute(text, dict(params or {})).df()
            finally:
                cur.close()

    def _auth_rows(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Like ``_auth_df``, as dicts of plain values: for the reads of every page run (no DataFrame)."""
        if not self._auth_in_memory():
            return self.records_rows(text, params)
        return self._auth_df(text, params).to_dict("records")

    def _auth_exec(self, text: str, params: Mapping[str, Any] | None = None) -> None:
        """A write to the log-in tables; if the file will not take it, they move to memory and it is done there."""
        with self._auth_lock:
            if not self._auth_in_memory():
                self.records_exec(text, params)
                if self.write_problem is None:
                    return
                self._auth_memory()
            self._auth_df(text, params)

    def session_secret(self) -> str:
        """The key that signs session cookies: made once per database, so every server process shares it."""
        known = getattr(self, "_session_secret", None)
        if known is not None:  # read on every page run: no lock once known
            return known
        with self._auth_lock:
            secret = getattr(self, "_session_secret", None) or self.meta().get("session_secret")
            if secret is None and not self._auth_in_memory():
                self.records_exec(
                    "INSERT INTO meta VALUES ('session_secret', $v) ON CONFLICT DO NOTHING",
                    {"v": secrets.token_hex(32)},
                )
                secret = self.meta().get("session_secret")
            self._session_secret = secret
            if secret is None:  # the file cannot be written and has no key yet: this process's own
                self._auth_memory()
                secret = self._memory_secret
            return secret

    def add_ticket(self, ticket_hash: str, username: str, expires_at: datetime) -> None:
        self._auth_exec(
            "INSERT INTO login_tickets VALUES ($t, $u, $e)", {"t": ticket_hash, "u": username, "e": expires_at}
        )

    def take_ticket(self, ticket_hash: str, now: datetime) -> str | None:
        """The ticket's user if it is valid now; a ticket is deleted when taken (and stale ones with it)."""
        with self._auth_lock:
            rows = self._auth_df(
                "SELECT ticket_hash, username, expires_at FROM login_tickets WHERE ticket_hash = $t", {"t": ticket_hash}
            )
            self._auth_exec("DELETE FROM login_tickets WHERE ticket_hash = $t OR expires_at < $now",
                            {"t": ticket_hash, "now": now})  # fmt: skip
        mine = rows[rows["expires_at"] >= now]
        return None if mine.empty else str(mine["username"].iloc[0])

    def add_session(self, sid_hash: str, username: str, now: datetime, user_agent: str, stale: datetime) -> None:
        """A new session; sessions unused since ``stale`` (abandoned, never logged out) are dropped."""
        self._auth_exec("DELETE FROM sessions WHERE last_seen < $stale", {"stale": stale})
        self._auth_exec(
            "INSERT INTO sessions VALUES ($s, $u, $now, $now, $ua)",
            {"s": sid_hash, "u": username, "now": now, "ua": user_agent},
        )

    def session(self, sid_hash: str) -> dict[str, Any] | None:
        """A session's username, created_at and last_seen (plain values), or None. Read on every page run."""
        sql = "SELECT username, created_at, last_seen FROM sessions WHERE sid_hash = $s"
        rows = self._auth_rows(sql, {"s": sid_hash})
        if not rows and self._auth_in_memory():  # a session opened while the file could be written
            if not self._auth_df("SELECT 1 FROM ended WHERE sid_hash = $s", {"s": sid_hash}).empty:
                return None
            try:
                rows = self.records_rows(sql, {"s": sid_hash})
            except StoreError:  # a read-only database from before sessions existed: none in the file
                return None
            if (
                rows
                and not self._auth_df("SELECT 1 FROM ended_users WHERE username = $u", {"u": rows[0]["username"]}).empty
            ):
                return None
        if not rows:
            return None
        row = rows[0]
        return {"username": row["username"], "created_at": _plain_time(row["created_at"]),
                "last_seen": _plain_time(row["last_seen"])}  # fmt: skip

    def session_user(self, sid_hash: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """A session (as ``session``) and its user's row (as ``user``; None if gone), in one read: every page
        run asks. None: no such session."""
        if self._auth_in_memory():  # sessions may be in memory and users in the file: one at a time
            found = self.session(sid_hash)
            return None if found is None else (found, self.user(found["username"]))
        rows = self.records_rows(
            "SELECT u.*, s.username AS s_username, s.created_at AS s_created_at, s.last_seen AS s_last_seen "
            "FROM sessions s LEFT JOIN users u ON u.username = s.username WHERE s.sid_hash = $s",
            {"s": sid_hash},
        )
        if not rows:
            return None
        row = rows[0]
        found = {"username": row["s_username"], "created_at": _plain_time(row["s_created_at"]),
                 "last_seen": _plain_time(row["s_last_seen"])}  # fmt: skip
        user = {k: v for k, v in row.items() if not k.startswith("s_")}
        return found, (user if user["username"] is not None else None)

    def touch_session(self, sid_hash: str, now: datetime) -> None:
        if self._auth_in_memory() and (row := self.session(sid_hash)) is not None:
            self._auth_df(  # a session from the file continues in memory
                "INSERT INTO sessions VALUES ($s, $u, $c, $now, '') "
                "ON CONFLICT (sid_hash) DO UPDATE SET last_seen = $now",
                {"s": sid_hash, "u": row["username"], "c": row["created_at"], "now": now},
            )
            return
        self._auth_exec("UPDATE sessions SET last_seen = $now WHERE sid_hash = $s", {"s": sid_hash, "now": now})

    def delete_session(self, sid_hash: str) -> None:
        self._auth_exec("DELETE FROM sessions WHERE sid_hash = $s", {"s": sid_hash})
        if self._auth_in_memory():
            self._auth_df("INSERT INTO ended VALUES ($s) ON CONFLICT DO NOTHING", {"s": sid_hash})

    def end_user_sessions(self, username: str) -> None:
        """Every session of a user ends (disabled, password changed), and tickets not yet exchanged."""
        self._auth_exec("DELETE FROM sessions WHERE username = $u", {"u": username})
        self._auth_exec("DELETE FROM login_tickets WHERE username = $u", {"u": username})
        if self._auth_in_memory():
            self._auth_df("INSERT INTO ended_users VALUES ($u) ON CONFLICT DO NOTHING", {"u": username})

    def login_failures(self, keys: list[str]) -> dict[str, tuple[int, datetime]]:
        rows = self._auth_df(
            "SELECT key, failures, last_at FROM login_failures WHERE key IN (SELECT unnest(CAST($k AS VARCHAR[])))",
            {"k": keys},
        )
        return {k: (int(n), ts.to_pydatetime()) for k, n, ts in rows.itertuples(index=False)}

    def add_login_failure(self, keys: list[str], now: datetime, forget_before: datetime) -> None:
        """Count one failure against each key (atomically: parallel guesses are all counted)."""
        with self._auth_lock:
            self._add_login_failure(keys, now, forget_before)

    def _add_login_failure(self, keys: list[str], now: datetime, forget_before: datetime) -> None:
        for key in keys:
            self._auth_exec(
                """INSERT INTO login_failures VALUES ($k, 1, $now) ON CONFLICT (key) DO UPDATE
                   SET failures = CASE WHEN login_failures.last_at < $forget THEN 1
                                       ELSE login_failures.failures + 1 END,
                       last_at = $now""",
                {"k": key, "now": now, "forget": forget_before},
            )
        self._auth_exec("DELETE FROM login_failures WHERE last_at < $forget", {"forget": forget_before})

    def clear_login_failures(self, keys: list[str]) -> None:
        self._auth_exec("DELETE FROM login_failures WHERE key IN (SELECT unnest(CAST($k AS VARCHAR[])))", {"k": keys})

    def audit(self, ts: datetime, username: str | None, action: str, scope: str, detail: str = "") -> None:
        self.records_exec(
            "INSERT INTO audit VALUES ($ts, $u, $a, $s, $d)",
            {"ts": ts, "u": username, "a": action, "s": scope, "d": detail},
        )

    def audit_log(self, limit: int = 500) -> pd.DataFrame:
        return self.records_query("SELECT * FROM audit ORDER BY ts DESC LIMIT $n", {"n": limit})


def _plain_time(value: Any) -> datetime:
    """A timestamp as a naive ``datetime`` (DuckDB and psycopg give one; a DataFrame row a Timestamp)."""
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
