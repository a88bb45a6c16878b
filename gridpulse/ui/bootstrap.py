"""First start: serve the map assets, make sure a database exists, and say what is wrong with it."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import streamlit as st

from gridpulse import auth, config, dbfiles, dbopen, demo, maps
from gridpulse.store import Store, is_shared
from gridpulse.store.postgres import empty as postgres_empty
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
    """Install the offline map assets; generate the demo street only when no database exists at all.

    A database file that exists but cannot be opened (unreadable, locked by another program,
    damaged, not a DuckDB file) is never replaced: its message and hint are shown, before the
    log-in page, and the run stops. A read-only database, a write that failed and a nearly full
    disk are warned about on every page, before and after log-in.
    """
    _assets_installed()
    target = config.db_target()
    try:
        if is_shared(target):  # PostgreSQL: nothing is generated on a server several processes share
            store = cache.store()
            if not store.meta(wait=False).get("street_name"):  # a page run never waits for an import's rows
                raise postgres_empty(str(target))
            _demo_users_present(str(target))
            _warnings(store, store.path)
            return
        path = Path(target)
        if dbopen.missing(path):
            if path != config.DEFAULT_DB_PATH:
                raise dbopen.DatabaseError(
                    "missing", path, t("dberr_missing", path=path), t("dberr_missing_dashboard_hint")
                )
            _first_start(path)
        store = cache.store()
        if not store.read_only:
            _demo_users_present(str(path))
    except dbopen.DatabaseError as err:
        st.error(err.message)
        st.info(err.hint)
        st.stop()
    _warnings(store, path)


def _first_start(path: Path) -> None:
    """Generate the demo street at the default path, where nothing exists yet."""
    with st.spinner(t("first_start")), _FIRST_START:
        if not dbopen.missing(path):  # another session made it meanwhile
            return
        try:
            demo.generate(path, config.DEMO_CASES, config.DEMO_SEED, planted=True)
        except Exception as err:
            if dbopen.translate(err, path) is None:
                raise
            # The half-written copy ``store_pkg.write_street`` builds beside the target is ours: it goes.
            with contextlib.suppress(OSError):
                path.with_name(path.name + ".tmp").unlink(missing_ok=True)
            raise dbopen.creation_problem(err, path) from err


def _warnings(store: Store, path: Path) -> None:
    if store.read_only:
        st.warning(t("db_read_only_banner", reason=store.read_only_reason))
        return
    if store.write_problem is not None:
        st.warning(t("db_write_failed_banner", message=store.write_problem.message, hint=store.write_problem.hint))
    free = dbfiles.low_disk(path)
    if free is not None:
        st.warning(t("db_low_disk_banner", free=free))
