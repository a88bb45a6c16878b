from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gridpulse.store import Store
from tests import fixtures


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixtures.build(tmp_path_factory.mktemp("fixture") / "street.duckdb")


@pytest.fixture(scope="session")
def store(fixture_db: Path) -> Iterator[Store]:
    s = Store(fixture_db)
    yield s
    s.close()


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


@pytest.fixture(scope="session")
def dept_store(dept_db: Path) -> Iterator[Store]:
    s = Store(dept_db)
    yield s
    s.close()
