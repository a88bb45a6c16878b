"""Start the dashboard: ``streamlit run server.py``.

Streamlit's server with two additions of ours (gridpulse/web.py): the routes that set and
clear the HttpOnly session cookie, and security headers (Content-Security-Policy,
X-Frame-Options) on every response. ``app.py`` is the Streamlit script it serves.
"""

import streamlit as st
from starlette.middleware import Middleware

from gridpulse import web

web.register_web_types()
app = st.App("app.py", routes=web.routes(), middleware=[Middleware(web.SecurityHeaders)])
