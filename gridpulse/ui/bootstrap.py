"""First start: serve the map assets and make sure a database exists."""

from __future__ import annotations

import threading

import streamlit as st

from gridpulse import auth, config, demo, maps
from gridpulse.strings import t
from gridpulse.ui import cache

# Two sessions opening a fresh clone at once must not both generate the demo street.
_FIRST_START = threading.Lock()


@st.cache_resource(show_spinner=False)
def _assets_installed() -> bool:
    maps.install_assets()
    return True


@st.cache_resource(show_spinner=False)
def _demo_users_present(path: str) -> bool:
    """A demo database from before log-in existed gets its documented demo users (once per file)."""
    auth.ensure_demo_users(cache.store())
    return True


def ensure_ready() -> None:
    """Install the offline map assets; generate the demo street when no database exists."""
    _assets_installed()
    path = config.db_path()
    if path.exists():
        _demo_users_present(str(path))
        return
    if path != config.DEFAULT_DB_PATH:
        st.error(t("db_missing", path=path))
        st.stop()
    with st.spinner(t("first_start")), _FIRST_START:
        if not path.exists():
            demo.generate(path, config.DEMO_CASES, config.DEMO_SEED)
