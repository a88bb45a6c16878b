"""GridPulse router: page config, first start, log-in, shared filters, navigation by role."""

import streamlit as st

from gridpulse.scope import ADMIN, GRID_HEAD, LEADER, LIAISON, SECRETARY
from gridpulse.strings import t
from gridpulse.ui import bootstrap, errors, filters, session

st.set_page_config(page_title=t("app_title"), page_icon="🧭", layout="wide")
bootstrap.ensure_ready()

# A department handles cases; the service matrix is the street's own.
STREET_STAFF = {LEADER, SECRETARY, GRID_HEAD, ADMIN}
# Departments are held to account by the street; a liaison sees their own department's scorecard.
DEPARTMENT_VIEWERS = {LEADER, SECRETARY, LIAISON, ADMIN}
# (script, title, url path, who may open it: None = every role)
PAGES = [
    # A grid head's first screen: their grids on a phone (the first page a role may open is its default).
    ("app_pages/page_my_grids.py", "nav_my_grids", "my-grids", {GRID_HEAD}),
    ("app_pages/page_overview.py", "nav_overview", "overview", None),
    ("app_pages/page_heatmap.py", "nav_heatmap", "heatmap", None),
    ("app_pages/page_service_matrix.py", "nav_matrix", "service-matrix", STREET_STAFF),
    ("app_pages/page_resolution.py", "nav_resolution", "resolution", None),
    ("app_pages/page_accountability.py", "nav_accountability", "accountability", None),
    ("app_pages/page_departments.py", "nav_departments", "departments", DEPARTMENT_VIEWERS),
    ("app_pages/page_analysis.py", "nav_analysis", "analysis", None),
    ("app_pages/page_meeting.py", "nav_meeting", "meeting", None),
    ("app_pages/page_import.py", "nav_import", "import", {ADMIN}),
    ("app_pages/page_admin.py", "nav_admin", "admin", {ADMIN}),
]

user = None
with errors.guarded():
    user = session.resolve_user()
    if user is None:
        # Every address shows the log-in form, so a link (e.g. the meeting room's /meeting?theme=dark)
        # opens its page once the user has logged in.
        login = [st.Page(session.login_page, title=t("login_title"), url_path=url, default=i == 0)
                 for i, (_, _, url, _) in enumerate(PAGES)]  # fmt: skip
        st.navigation(login, position="hidden").run()
if user is None:
    st.stop()

allowed = [(script, title, url) for script, title, url, roles in PAGES if roles is None or user.role in roles]
navigation = st.navigation(
    [st.Page(script, title=t(title), url_path=url, default=i == 0) for i, (script, title, url) in enumerate(allowed)]
)
# Details of an unexpected error go to the server log; the user gets a short Chinese message
# with a reference to quote, never a traceback with file paths (client.showErrorDetails = "none").
with errors.guarded(user.username):
    filters.sidebar()
    session.logout_button()
    navigation.run()
