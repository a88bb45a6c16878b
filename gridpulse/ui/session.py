"""Log-in, the logged-in user and session expiry.

The logged-in user lives in ``st.session_state[USER_KEY]`` as ``{"username": ...,
"last_seen": datetime}``. Only the username is trusted from it: role and scope are
read from the users table on every use, so a disabled user or a changed scope takes
effect at once. ``AppTest`` acts as a user by setting this key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import streamlit as st

from gridpulse import auth
from gridpulse.auth import AuthError, User
from gridpulse.scope import Scope
from gridpulse.strings import t
from gridpulse.ui import cache

USER_KEY = "gp_user"


def current_user() -> User | None:
    """The logged-in user as the database says now, or None."""
    state = st.session_state.get(USER_KEY)
    if not isinstance(state, dict) or not state.get("username"):
        return None
    return auth.current_user(cache.store(), str(state["username"]))


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


def _oidc_user() -> User | None:
    """An office with an identity provider: its user's e-mail is the username in our users table.

    The provider says who the person is; role and scope still come from our users table.
    """
    if not oidc_configured() or not st.user.is_logged_in:
        return None
    email = str(st.user.get("email") or "")
    user = auth.current_user(cache.store(), email)
    if user is None:
        st.error(t("oidc_unknown", email=email))
        st.stop()
    st.session_state[USER_KEY] = {"username": user.username, "last_seen": datetime.now()}
    cache.store().audit(datetime.now(), user.username, "login", auth.describe_scope(user.scope), "oidc")
    return user


NOTICE_KEY = "gp_login_notice"


def resolve_user() -> User | None:
    """The logged-in user, after expiry and account checks; None means: show the log-in page."""
    state = st.session_state.get(USER_KEY)
    now = datetime.now()
    if state is None:
        return _oidc_user()
    if not isinstance(state, dict):
        del st.session_state[USER_KEY]
        return None
    last = state.get("last_seen") or now
    if now - last > timedelta(minutes=auth.SESSION_IDLE_MINUTES):
        cache.store().audit(now, state.get("username"), "session_expired", "")
        del st.session_state[USER_KEY]
        st.session_state[NOTICE_KEY] = t("session_expired", minutes=auth.SESSION_IDLE_MINUTES)
        _end_provider_session()
        return None
    user = current_user()
    if user is None:
        del st.session_state[USER_KEY]
        st.session_state[NOTICE_KEY] = t("account_gone")
        return None
    state["last_seen"] = now
    return user


def login_page() -> None:
    """The only page a visitor who is not logged in can reach."""
    st.title(t("app_title"))
    if notice := st.session_state.pop(NOTICE_KEY, None):
        st.warning(notice)
    with st.form("login"):
        st.subheader(t("login_title"))
        username = st.text_input(t("username"), key="login_username")
        password = st.text_input(t("password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_button"), type="primary")
    if oidc_configured():
        st.button(t("oidc_login"), on_click=st.login)
    if cache.store().is_demo():
        st.info(t("demo_users_hint", password=auth.DEMO_PASSWORD))
    if submitted:
        try:
            user = auth.authenticate(cache.store(), username, password)
        except AuthError as err:
            st.error(str(err))
            return
        st.session_state[USER_KEY] = {"username": user.username, "last_seen": datetime.now()}
        st.rerun()


def _end_provider_session() -> None:
    """With OIDC, also end the provider's cookie session, or the next run logs straight back in."""
    if oidc_configured() and st.user.is_logged_in:
        st.logout()


def logout_button() -> None:
    user = current_user()
    if user is None:
        return
    with st.sidebar:
        st.caption(t("logged_in_as", name=user.display_name, role=t(f"role_{user.role}")))
        if st.button(t("logout"), key="logout"):
            cache.store().audit(datetime.now(), user.username, "logout", auth.describe_scope(user.scope))
            st.session_state.pop(USER_KEY, None)
            _end_provider_session()
            st.rerun()


def audited_export(build: Callable[[], bytes], detail: str) -> Callable[[], bytes]:
    """Wrap a file builder so the audit line is written when the file is actually built.

    Used as a download button's deferred ``data``: nothing is built or stored for the
    browser until the user asks for it, and every built file is in the audit log.
    """
    user, store = current_user(), cache.store()

    def build_and_audit() -> bytes:  # runs outside the script: no st.* in here
        data = build()
        if user is not None:
            store.audit(datetime.now(), user.username, "export", auth.describe_scope(user.scope), detail)
        return data

    return build_and_audit
