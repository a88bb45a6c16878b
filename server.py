"""Start the dashboard: ``streamlit run server.py``.

Streamlit's server with two additions of ours (gridpulse/web.py): the routes that set and
clear the HttpOnly session cookie, and security headers (Content-Security-Policy,
X-Frame-Options) on every response. ``app.py`` is the Streamlit script it serves.
"""

import contextlib

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config as st_config

from gridpulse import dbopen, serving, web
from gridpulse.ui import database

web.register_web_types()
# The command-line tools ask this process to run their commands while it holds the database.
serving.listening(int(st_config.get_option("server.port")), str(st_config.get_option("server.address") or ""))
with contextlib.suppress(dbopen.DatabaseError):  # missing (first start) or in trouble: the page says why
    database.store()  # open it now, so the tools can ask this process from the start
app = st.App("app.py", routes=web.routes(), middleware=[Middleware(web.SecurityHeaders)])
