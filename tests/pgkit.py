"""A PostgreSQL server for the tests: ``GRIDPULSE_TEST_PG`` names it (``.ci/run`` starts one from Debian's packages).

Every street gets a schema of its own (``search_path`` in the URL), dropped at the end: tests
running side by side never see each other's rows. Without the variable the PostgreSQL cases are
skipped, unless ``GRIDPULSE_REQUIRE_PG=1`` (CI), where a missing server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from urllib.parse import quote

import psycopg
import pytest

ENV = "GRIDPULSE_TEST_PG"


def base_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        if os.environ.get("GRIDPULSE_REQUIRE_PG") == "1":
            pytest.fail(f"{ENV} is not set: .ci/run starts PostgreSQL and sets it")
        pytest.skip(f"no PostgreSQL server ({ENV} not set)")
    return url


def fresh_url() -> str:
    """The URL of a new, empty schema on the test server."""
    base = base_url()
    name = f"gp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={name}')}"


def drop(url: str) -> None:
    name = url.rsplit("search_path%3D", 1)[-1]
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def street(build: Callable[[str], object]) -> str:
    """A new schema with a street written by ``build(url)`` (e.g. ``fixtures.build``)."""
    url = fresh_url()
    build(url)
    return url
