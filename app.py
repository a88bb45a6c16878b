"""GridPulse router: page config, first-start set-up, shared filters, navigation."""

import streamlit as st

from gridpulse.strings import t
from gridpulse.ui import bootstrap, filters

st.set_page_config(page_title=t("app_title"), page_icon="🧭", layout="wide")
bootstrap.ensure_ready()

pages = [
    st.Page("pages/page_overview.py", title=t("nav_overview"), url_path="overview", default=True),
    st.Page("pages/page_heatmap.py", title=t("nav_heatmap"), url_path="heatmap"),
    st.Page("pages/page_service_matrix.py", title=t("nav_matrix"), url_path="service-matrix"),
    st.Page("pages/page_resolution.py", title=t("nav_resolution"), url_path="resolution"),
]
navigation = st.navigation(pages)
filters.sidebar()
navigation.run()
