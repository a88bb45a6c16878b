"""用户与审计 (admin only): users, enabling and disabling them, and the audit log."""

import streamlit as st

from gridpulse import admin_views, auth
from gridpulse.safe_text import md_text
from gridpulse.scope import ADMIN
from gridpulse.strings import t
from gridpulse.ui import cache, session

user = session.current_user()
if user is None or user.role != ADMIN:  # the navigation hides this page; the check is the guard
    st.stop()
st.title(t("nav_admin"))
st.subheader(t("admin_users"))
users = admin_views.users_table(cache.store())
st.dataframe(users, hide_index=True, width="stretch")
with st.form("toggle_user"):
    name = st.selectbox(t("admin_toggle"), users[t("username")].tolist(), key="admin_user")
    if st.form_submit_button(t("admin_toggle_button")) and name != user.username:
        disabled = auth.toggle_user(cache.store(), user, name)
        st.success(t("admin_toggled", user=md_text(name), state=t("state_disabled" if disabled else "state_enabled")))
with st.form("unlock_user"):
    name = st.selectbox(t("admin_unlock"), users[t("username")].tolist(), key="admin_unlock_user")
    if st.form_submit_button(t("admin_unlock_button")):
        auth.unlock(cache.store(), user, name)
        st.success(t("admin_unlocked", user=md_text(name)))
st.subheader(t("admin_audit"))
st.dataframe(admin_views.audit_table(cache.store()), hide_index=True, width="stretch")
