"""First start: serve the map assets and make sure a database exists."""

from __future__ import annotations

import threading

import streamlit as st

from gridpulse import config, demo, maps
from gridpulse.strings import t

# Two sessions opening a fresh clone at once must not both generate the demo street.
_FIRST_START = threading.Lock()


@st.cache_resource(show_spinner=False)
def _assets_installed() -> bool:
    maps.install_assets()
    return True


def ensure_ready() -> None:
    """Install the offline map assets; generate the demo street when no database exists."""
    _assets_installed()
    path = config.db_path()
    if path.exists():
        return
    if path != config.DEFAULT_DB_PATH:
        st.error(t("db_missing", path=path))
        st.stop()
    with st.spinner(t("first_start")), _FIRST_START:
        if not path.exists():
            demo.generate(path, config.DEMO_CASES, config.DEMO_SEED)
