"""Log-in, the logged-in user and session expiry, in the browser's session cookie.

Who is logged in is decided on every run from the ``gp_session`` cookie the browser
sent (``st.context.cookies``), checked against the server-side session record
(``gridpulse.sessions``): nothing kept in the Streamlit session says who the user is,
so a websocket session id alone, e.g. of a closed tab, logs nobody in. Role and scope
are read from the users table on every use, so a disabled user or a changed scope takes
effect at once.

Tests (``AppTest`` cannot send cookies) present a real session cookie through
``st.session_state[USER_KEY] = {"session": <cookie value>}``; the app never writes
this key and no widget has it, so a browser cannot set it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import streamlit as st

from gridpulse import auth, clock, config, sessions
from gridpulse.auth import AuthError, User
from gridpulse.safe_text import md_text, script_json
from gridpulse.scope import Scope
from gridpulse.strings import t
from gridpulse.ui import database

USER_KEY = "gp_user"
_RESOLVED_KEY = "gp_resolved_user"  # this run's answer, so a page's many reads cost one look-up
NOTICE_KEY = "gp_login_notice"
_log = logging.getLogger("gridpulse.session")


def _context_text(value: object) -> str | None:
    """A value ``st.context`` gave, if it is text: bare mode gives None, AppTest's stand-in client mocks."""
    return value if isinstance(value, str) and value else None


def _browser_cookie() -> str | None:
    return _context_text(st.context.cookies.get(sessions.COOKIE))


def presented_cookie() -> str | None:
    """The session cookie this browser sent (or the one a test presents)."""
    state = st.session_state.get(USER_KEY)
    if isinstance(state, dict) and state.get("session"):
        return str(state["session"])
    return _browser_cookie()


def current_user() -> User | None:
    """The logged-in user as the database says now, or None."""
    if _RESOLVED_KEY in st.session_state:
        return st.session_state[_RESOLVED_KEY]
    return sessions.resolve(database.store(), presented_cookie()).user


def current_scope() -> Scope:
    user = current_user()
    if user is None:
        st.stop()  # never answer a query without a user; app.py shows the log-in form
    return user.scope


def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (OIDC via ``st.login``)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all: local users only
        return False
    except Exception:  # unreadable or malformed: local users still log in; the server log says why
        _log.warning("cannot read .streamlit/secrets.toml: OIDC log-in is off", exc_info=True)
        return False


NOTICE_PARAM = "gp_notice"  # why the log-in page is shown again, across the redirect that drops a dead cookie


def _here(notice: str = "") -> str:
    """This page's path and link parameters, to come back to after log-in (optionally with a notice)."""
    path = urlsplit(_context_text(st.context.url) or "/").path or "/"
    params = {k: v for k, v in st.query_params.to_dict().items() if k != NOTICE_PARAM}
    if notice:
        params[NOTICE_PARAM] = notice
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
    return sessions.safe_next(f"{path}?{query}" if query else path)


def go(url: str, notice: str, link: str) -> None:
    """Send the browser to one of our HTTP routes (which set or clear the cookie), with a link as fallback."""
    target = script_json(sessions.safe_next(url))  # no "</script>" can end the script
    st.html(f"<script>window.location.replace({target});</script>", unsafe_allow_javascript=True)
    st.info(notice)
    st.link_button(link, url)
    st.stop()


def _enter(user: User) -> None:
    """A proven user gets a one-time ticket; the browser exchanges it for the session cookie."""
    ticket = sessions.issue_ticket(database.store(), user.username)
    go(f"{sessions.TICKET_PATH}?ticket={ticket}&next={quote(_here())}", t("login_redirect"), t("login_redirect_link"))


def _oidc_user() -> None:
    """An office with an identity provider: its user's e-mail is the username in our users table.

    The provider says who the person is; role and scope still come from our users table,
    and the session is ours (cookie) like any other.
    """
    if not oidc_configured() or not st.user.get("is_logged_in"):
        return
    email = str(st.user.get("email") or "")
    user = auth.current_user(database.store(), email)
    if user is None:
        st.error(t("oidc_unknown", email=email))
        st.stop()
    database.store().audit(clock.now(), user.username, "login", auth.describe_scope(user.scope), "oidc")
    _enter(user)


_NOTICES = {
    "expired": lambda: t("session_expired", minutes=f"{config.session_idle_minutes():g}"),
    "ended": lambda: t("session_ended"),
    "account": lambda: t("account_gone"),
}


def resolve_user() -> User | None:
    """The logged-in user for this run, after expiry and account checks; None: show the log-in page."""
    st.session_state.pop(_RESOLVED_KEY, None)
    st.session_state.pop(database.RUN_MEMO, None)  # this run reads the data version (and the clock) afresh
    cookie = presented_cookie()
    resolved = sessions.resolve(database.store(), cookie)
    if resolved.user is None:
        if resolved.reason in ("expired", "account"):
            _end_provider_session()
        if resolved.reason != "none" and cookie == _browser_cookie():
            # The browser holds a dead cookie: drop it (and come back here), or every page load would
            # find it again and, with OIDC, log the provider's fresh session straight out.
            notice = _NOTICES[resolved.reason]() if resolved.reason in _NOTICES else t("login_title")
            go(f"{sessions.LOGOUT_PATH}?next={quote(_here(resolved.reason))}", notice, t("logout_redirect_link"))
        if resolved.reason in _NOTICES:
            st.session_state[NOTICE_KEY] = _NOTICES[resolved.reason]()
        _oidc_user()
        return None
    st.session_state[_RESOLVED_KEY] = resolved.user
    return resolved.user


def _client() -> str:
    return _context_text(st.context.ip_address) or auth.UNKNOWN_CLIENT


def login_page() -> None:
    """The only page a visitor who is not logged in can reach."""
    st.title(t("app_title"))
    why = st.query_params.get(NOTICE_PARAM)
    notice = st.session_state.pop(NOTICE_KEY, None) or (_NOTICES[why]() if why in _NOTICES else None)
    if notice:
        st.warning(notice)
    with st.form("login"):
        st.subheader(t("login_title"))
        username = st.text_input(t("username"), key="login_username")
        password = st.text_input(t("password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_button"), type="primary")
    if oidc_configured():
        st.button(t("oidc_login"), on_click=st.login)
    if database.store().is_demo():
        st.info(t("demo_users_hint", password=auth.DEMO_PASSWORD))
    if submitted:
        try:
            user = auth.authenticate(database.store(), username, password, client=_client())
        except AuthError as err:
            st.error(str(err))
            return
        _enter(user)


def _end_provider_session() -> None:
    """With OIDC, also end the provider's cookie session, or the next run logs straight back in."""
    if oidc_configured() and st.user.get("is_logged_in"):
        st.logout()


def logout_button() -> None:
    user = current_user()
    if user is None:
        return
    with st.sidebar:
        st.caption(t("logged_in_as", name=md_text(user.display_name), role=t(f"role_{user.role}")))
        if st.button(t("logout"), key="logout"):
            sessions.end(database.store(), presented_cookie())
            database.store().audit(clock.now(), user.username, "logout", auth.describe_scope(user.scope))
            st.session_state.pop(USER_KEY, None)
            st.session_state.pop(_RESOLVED_KEY, None)
            _end_provider_session()
            go(sessions.LOGOUT_PATH, t("logout_redirect"), t("logout_redirect_link"))


def audited_export(build: Callable[[], bytes], detail: str) -> Callable[[], bytes]:
    """Wrap a file builder so the audit line is written when the file is actually built.

    Used as a download button's deferred ``data``: nothing is built or stored for the
    browser until the user asks for it, and every built file is in the audit log.
    """
    user, store = current_user(), database.store()

    def build_and_audit() -> bytes:  # runs outside the script: no st.* in here
        data = build()
        if user is not None:
            store.audit(clock.now(), user.username, "export", auth.describe_scope(user.scope), detail)
        return data

    return build_and_audit


def section(fn: Callable[..., None]) -> Callable[..., None]:
    """A part of a page that reruns alone when one of its own widgets changes (``st.fragment``).

    Each of its reruns checks the log-in first, like a whole page run: a user logged out or
    disabled meanwhile gets the whole app again (the log-in page), never the part.
    """

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> None:
        if resolve_user() is None:
            st.rerun()
        fn(*args, **kwargs)

    return st.fragment(checked)
