"""Running the whole app through AppTest, logged in as a fixture user with a real session.

AppTest cannot send cookies, so the session cookie a browser would send is presented
through the documented session key (see gridpulse/ui/session.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gridpulse import sessions
from gridpulse.ui import cache
from gridpulse.ui.session import USER_KEY
from tests.fixtures import MARCH

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def app(
    username: str | None = None,
    *,
    last_seen: datetime | None = None,
    state: Mapping[str, object] | None = None,
    query: Mapping[str, str] | None = None,
) -> AppTest:
    """``app.py`` run once, as ``username`` (None: a visitor), with extra session state and link parameters."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if username is not None:
        at.session_state[USER_KEY] = {"session": login(username, last_seen)}
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def in_march(at: AppTest) -> AppTest:
    """The sidebar period set to March 2026, the fixture's month."""
    return at.date_input(key="flt_period").set_value((MARCH.start, MARCH.end)).run()


def login(username: str, at: datetime | None = None) -> str:
    """A session for ``username`` opened ``at`` (default now) in the configured database: its cookie value."""
    return sessions.open_session(cache.store(), username, at)
