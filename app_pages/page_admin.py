"""用户与审计 (admin only): users, enabling and disabling them, targets, the basemap, and the audit log."""

import streamlit as st

from gridpulse import admin_views, auth, basemap, scorecard, targets
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
st.subheader(t("admin_targets"))
st.caption(t("admin_targets_caption"))
cfg = scorecard.settings(cache.store())
with st.form("targets"):
    edited = st.data_editor(
        admin_views.targets_frame(cfg),
        hide_index=True,
        disabled=["metric", t("metric_col")],
        column_config={"metric": None},
        key="admin_targets_table",
    )
    cols = st.columns(4)
    numbers = {
        "accept_hours": cols[0].number_input(t("accept_hours"), 0.1, 720.0, float(cfg.accept_hours)),
        "stale_days": cols[1].number_input(t("stale_days"), 1, 365, cfg.stale_days),
        "list_size": cols[2].number_input(t("list_size"), 1, 50, cfg.list_size),
        "min_cases": cols[3].number_input(t("min_cases"), 1, 10_000, cfg.min_cases),
    }
    if st.form_submit_button(t("admin_targets_save")):
        try:
            admin_views.save_targets(cache.store(), user.username, admin_views.targets_from_frame(edited, numbers))
            st.success(t("targets_saved"))
        except targets.SettingsError as err:
            st.error(md_text(str(err)))
upload = st.file_uploader(t("admin_targets_upload"), type=["json"], key="admin_targets_file")
if upload is not None and st.button(t("admin_targets_save"), key="admin_targets_upload_save"):
    try:
        admin_views.save_targets(cache.store(), user.username, upload.getvalue().decode("utf-8-sig"))
        st.success(t("targets_saved"))
    except (targets.SettingsError, UnicodeDecodeError) as err:
        st.error(md_text(str(err)))
left, right = st.columns(2)
left.download_button(t("admin_targets_download"), cfg.to_json(), "targets.json", "application/json")
if right.button(t("admin_targets_reset")):
    admin_views.save_targets(cache.store(), user.username, None)
    st.success(t("targets_reset"))
st.subheader(t("admin_basemap"))
st.caption(t("admin_basemap_caption", folder=str(basemap.folder())))
saved_text = cache.store().basemap_json()
in_force, broken = basemap.current(saved_text)
saved = basemap.from_json(saved_text) if saved_text else in_force
st.caption(md_text(t("admin_basemap_in_force", what=admin_views.describe_basemap(in_force))))
if broken:
    st.warning(md_text(t("admin_basemap_broken", reason=broken)))
with st.form("basemap"):
    kind = st.selectbox(t("admin_basemap_kind"), basemap.KINDS, basemap.KINDS.index(saved.kind),
                        format_func=lambda k: t(f"basemap_kind_{k}"))  # fmt: skip
    left, right = st.columns(2)
    styles = list(basemap.TIANDITU_STYLES)
    style = left.radio(t("admin_basemap_style"), styles, styles.index(saved.style) if saved.style in styles else 0,
                       format_func=lambda s: t(f"basemap_style_{s}"), horizontal=True)  # fmt: skip
    token = right.text_input(t("admin_basemap_token"), saved.token, type="password")
    url = st.text_input(t("admin_basemap_url"), saved.url)
    names = basemap.files()
    if names:
        file = st.selectbox(t("admin_basemap_file"), names, names.index(saved.file) if saved.file in names else 0)
    else:
        file = ""
        st.caption(t("admin_basemap_no_files", folder=str(basemap.folder())))
    attribution = st.text_input(t("admin_basemap_attribution"), saved.attribution)
    crs = st.selectbox(t("admin_basemap_crs"), ["wgs84", "gcj02"], 1 if saved.crs == "gcj02" else 0,
                       format_func=lambda c: t(f"basemap_crs_{c}"))  # fmt: skip
    if st.form_submit_button(t("admin_basemap_save")):
        chosen = basemap.Basemap(kind=kind, style=style, token=token.strip(), url=url.strip(), file=file or "",
                                 attribution=attribution.strip(), crs=crs)  # fmt: skip
        try:
            admin_views.save_basemap(cache.store(), user.username, chosen)
            st.success(t("admin_basemap_saved"))
        except basemap.BasemapError as err:
            st.error(md_text(str(err)))
st.subheader(t("admin_audit"))
st.dataframe(admin_views.audit_table(cache.store()), hide_index=True, width="stretch")
