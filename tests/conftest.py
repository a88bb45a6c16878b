from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gridpulse.store import Store, open_store
from tests import fixtures, pgkit

# The backends every test of the ``store`` fixtures runs on: the embedded file and the shared server.
BACKENDS = ["duckdb", "postgresql"]


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixtures.build(tmp_path_factory.mktemp("fixture") / "street.duckdb")


def _on(backend: str, db: Path, edit: object = None) -> Iterator[Store]:
    """The street in ``db`` as a store of ``backend`` (on PostgreSQL: the same street built into a schema)."""
    if backend == "duckdb":
        s = Store(db)
        yield s
        s.close()
        return
    url = pgkit.street(lambda url: fixtures.build(url, edit))  # type: ignore[arg-type]
    s = open_store(url)
    yield s
    s.close()
    pgkit.drop(url)


@pytest.fixture(scope="session", params=BACKENDS)
def store(request: pytest.FixtureRequest, fixture_db: Path) -> Iterator[Store]:
    """The fixture street, on each backend: every figure and scope test runs against both."""
    yield from _on(request.param, fixture_db)


@pytest.fixture
def db_env(fixture_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app reads the fixture street."""
    monkeypatch.setenv("GRIDPULSE_DB", str(fixture_db))
    return fixture_db


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's Chromium, driven by Playwright (tests/browserkit.py), for one test module."""
    from playwright.sync_api import sync_playwright

    from tests import browserkit

    with sync_playwright() as p:
        browser = browserkit.launch(p)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def dept_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture street with four cases handled by two departments (fixtures.departments)."""
    return fixtures.build(tmp_path_factory.mktemp("departments") / "street.duckdb", fixtures.departments)


@pytest.fixture(scope="session", params=BACKENDS)
def dept_store(request: pytest.FixtureRequest, dept_db: Path) -> Iterator[Store]:
    yield from _on(request.param, dept_db, fixtures.departments)
