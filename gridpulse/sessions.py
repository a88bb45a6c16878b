"""Log-in sessions that survive a reload: a signed cookie mapped to a server-side record.

The browser holds ``gp_session``: a random session id signed with the database's own
secret (itsdangerous), HttpOnly, SameSite=Strict, expiring after ``MAX_HOURS``. The
database holds only a hash of the id with the user and when it was last used, so:

- a reload, a second tab and a phone waking up present the same cookie and stay in;
- log-out deletes the record (every tab holding the cookie is out at its next click),
  and a copy of the cookie made before is refused;
- disabling a user or changing their password deletes all their records;
- ``config.session_idle_minutes()`` (30) without a click ends the record.

The cookie is set by an HTTP route (``server.py``), never by page script: after a
successful log-in the page gets a one-time ticket (valid ``TICKET_SECONDS``), and the
browser exchanges it at ``/gp/session`` for the cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from gridpulse import auth, clock, config
from gridpulse.auth import User
from gridpulse.store import Store

COOKIE = "gp_session"
MAX_HOURS = 12  # a working day: after that the cookie itself expires and the user logs in again
TICKET_SECONDS = 60  # the log-in page hands the browser a ticket; it must be exchanged at once
TOUCH_SECONDS = 20  # last-use time is written at most every 20 s per session
TICKET_PATH = "/gp/session"
LOGOUT_PATH = "/gp/logout"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _signer(store: Store) -> TimestampSigner:
    return TimestampSigner(store.session_secret(), salt="gridpulse-session")


def safe_next(path: str | None) -> str:
    """Where to go after log-in: a path on this server only (no scheme, no host, no ``//``)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "/"
    return path


def issue_ticket(store: Store, username: str, now: datetime | None = None) -> str:
    """A one-time ticket for a user who has just proved their password."""
    ticket = secrets.token_urlsafe(32)
    store.add_ticket(_hash(ticket), username, (now or clock.now()) + timedelta(seconds=TICKET_SECONDS))
    return ticket


def redeem_ticket(store: Store, ticket: str, user_agent: str = "", now: datetime | None = None) -> str | None:
    """Exchange a ticket (once) for a new session; returns the cookie value, or None if refused."""
    now = now or clock.now()
    username = store.take_ticket(_hash(ticket), now)
    if username is None or auth.current_user(store, username) is None:
        return None
    sid = secrets.token_urlsafe(32)
    stale = now - max(timedelta(minutes=config.session_idle_minutes()), timedelta(hours=MAX_HOURS))
    store.add_session(_hash(sid), username, now, user_agent[:200], stale)
    return _signer(store).sign(sid).decode()


def open_session(store: Store, username: str, now: datetime | None = None) -> str:
    """A session without the ticket step (the CLI and tests); returns the cookie value."""
    return redeem_ticket(store, issue_ticket(store, username, now), now=now) or ""


@dataclass(frozen=True)
class Resolved:
    """What a presented cookie stands for: the user, or why there is none."""

    user: User | None
    reason: str = ""  # "", "none", "invalid", "expired", "ended", "account"


def resolve(store: Store, cookie: str | None, now: datetime | None = None) -> Resolved:
    """The user behind a cookie, checked against the server-side record on every use."""
    if not cookie:
        return Resolved(None, "none")
    now = now or clock.now()
    try:
        sid = _signer(store).unsign(cookie, max_age=MAX_HOURS * 3600).decode()
    except SignatureExpired:
        return Resolved(None, "expired")
    except BadSignature:
        return Resolved(None, "invalid")
    key = _hash(sid)
    found = store.session_user(key)
    if found is None:
        return Resolved(None, "ended")
    row, user_row = found
    idle = timedelta(minutes=config.session_idle_minutes())
    if now - row["last_seen"] > idle:
        store.delete_session(key)
        store.audit(now, row["username"], "session_expired", "")
        return Resolved(None, "expired")
    user = auth.active_user(store, user_row)
    if user is None:
        store.delete_session(key)
        return Resolved(None, "account")
    if now - row["last_seen"] > min(timedelta(seconds=TOUCH_SECONDS), idle / 4):
        store.touch_session(key, now)
    return Resolved(user)


def end(store: Store, cookie: str | None) -> str | None:
    """Log-out: delete the record behind a cookie; returns whose it was."""
    if not cookie:
        return None
    try:
        sid = _signer(store).unsign(cookie).decode()
    except BadSignature:
        return None
    row = store.session(_hash(sid))
    store.delete_session(_hash(sid))
    return None if row is None else str(row["username"])
