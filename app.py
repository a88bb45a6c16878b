"""GridPulse router: page config, first start, log-in, shared filters, navigation by role."""

import streamlit as st

from gridpulse.scope import ADMIN, LIAISON
from gridpulse.strings import t
from gridpulse.ui import bootstrap, filters, session, widgets

st.set_page_config(page_title=t("app_title"), page_icon="🧭", layout="wide")
bootstrap.ensure_ready()
user = session.resolve_user()
if user is None:  # visitors reach the log-in page and nothing else
    st.navigation([st.Page(session.login_page, title=t("login_title"), url_path="login")], position="hidden").run()
    st.stop()

pages = [
    st.Page("pages/page_overview.py", title=t("nav_overview"), url_path="overview", default=True),
    st.Page("pages/page_heatmap.py", title=t("nav_heatmap"), url_path="heatmap"),
    st.Page("pages/page_service_matrix.py", title=t("nav_matrix"), url_path="service-matrix"),
    st.Page("pages/page_resolution.py", title=t("nav_resolution"), url_path="resolution"),
]
if user.role == LIAISON:  # a department handles cases; the service matrix is the street's own
    pages = [p for p in pages if p.url_path != "service-matrix"]
if user.role == ADMIN:
    pages.append(st.Page("pages/page_admin.py", title=t("nav_admin"), url_path="admin"))
navigation = st.navigation(pages)
filters.sidebar()
session.logout_button()
widgets.hide_table_downloads()
navigation.run()
