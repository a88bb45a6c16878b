"""Settings and domain constants, each with the reason for its value."""

from __future__ import annotations

import math
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = REPO_ROOT / "data" / "gridpulse.duckdb"
STATIC_DIR = REPO_ROOT / "static"  # served by Streamlit at /app/static/
STATIC_URL = "/app/static"

# Demo street: fixed seed so every fresh clone sees the same street.
DEMO_SEED = 20261123
DEMO_CASES = 24_000  # about one street's 12345 + patrol volume over 20 months

# A case counts as satisfied from 4 of 5 stars (12345 call-backs: "满意/基本满意").
SATISFIED_MIN_STARS = 4
# Default deadline when an import has none: the 12345 platform's ordinary 72 h limit.
DEFAULT_DEADLINE_HOURS = 72
# A department signs for (accepts) a dispatched case within this many hours: 12345 platforms'
# 及时签收 limit is commonly 2 working hours. Configurable by an admin (targets file).
ACCEPT_LIMIT_HOURS = 2.0
# 现场解决 (solved on the spot): solved by the grid within this many hours of being reported.
ON_SPOT_HOURS = 2.0
# A rating of at most this many stars is a dissatisfied one (不满意件: 1-2 of 5).
DISSATISFIED_MAX_STARS = 2
# An open case with no step for this many days is stale (listed for the leader). Configurable.
STALE_DAYS = 7
# Confidence for the lower-bound ranking (Wilson score, 95 %).
RANKING_Z = 1.96
# A grid farther than this from any red-steward station is flagged (15-minute walk).
DEFAULT_STATION_DISTANCE_M = 800
# Heat layer cell size in degrees of latitude (~33 m); longitude is scaled by cos(lat).
HEAT_CELL_DEG = 0.0003
# Rows shown at most in a drill-down table: never ship a whole district to the browser.
MAX_TABLE_ROWS = 500
# A command-line import is batch work: it runs at this lower CPU priority (nice), so on a machine that also
# serves the dashboard, pages are drawn first and the import takes the time they leave (README "Benchmark").
IMPORT_NICE = 10


def db_path() -> Path:
    """Database path: ``GRIDPULSE_DB`` if set, else ``data/gridpulse.duckdb``."""
    return Path(os.environ.get("GRIDPULSE_DB", DEFAULT_DB_PATH))


def db_target() -> Path | str:
    """The database: a DuckDB file (the default), or a PostgreSQL URL that several processes share.

    ``GRIDPULSE_DB=postgresql://user:password@host:port/dbname`` selects the shared server
    (README, "多进程与 PostgreSQL").
    """
    value = os.environ.get("GRIDPULSE_DB", "")
    if value.startswith(("postgresql://", "postgres://")):
        return value
    return db_path()


def tile_url() -> str | None:
    """Optional basemap tiles (an intranet tile server); none by default: the grids are the map."""
    return os.environ.get("GRIDPULSE_TILE_URL") or None


def session_idle_minutes() -> float:
    """Minutes without a click after which a log-in ends: ``GRIDPULSE_SESSION_IDLE_MINUTES``, default 30."""
    try:
        minutes = float(os.environ.get("GRIDPULSE_SESSION_IDLE_MINUTES", "30"))
    except ValueError:
        return 30.0
    return min(max(minutes, 0.05), 24 * 60) if math.isfinite(minutes) else 30.0
