"""requirements.txt is what the server runs, all of it and nothing more; requirements-dev.txt adds the tools.

An intranet server installs with ``pip install --no-index --find-links wheelhouse -r requirements.txt``
(README "离线安装 / Installing on an intranet"): a package the server imports but nobody pinned is
missing there, and a test tool pinned there is carried for nothing. Distributions are found from the
import names with ``importlib.metadata.packages_distributions()`` and followed through their declared
requirements, for both server systems (Linux and Windows).
"""

from __future__ import annotations

import ast
import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SERVER_CODE = ["gridpulse", "geo", "app_pages"]  # and every .py beside them (app.py, server.py)
OWN = {"gridpulse", "geo", "app_pages", "tests", "app", "server"}
# Packages found by a string rather than an import statement (gridpulse/maps.py copies their files).
BY_NAME_CALLS = {"find_spec", "_package_dir", "import_module"}
# Needed through an extra of a package, not an import of ours: st.login (OIDC) needs streamlit[auth];
# psycopg[binary] brings libpq compiled in (no libpq from the system, Windows servers included).
EXTRAS = {"streamlit": {"auth"}, "psycopg": {"binary"}}
# The tools that tests and linting need, and what they alone bring along.
TEST_TOOLS = {"pytest", "iniconfig", "pluggy", "pygments", "playwright", "greenlet", "pyee", "pypdf", "ruff",
              "colorama", "coverage"}  # fmt: skip
# The systems a server runs on: a dependency counts if any of them needs it.
SERVER_SYSTEMS = [
    {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!+_-]+)$")


def pins(name: str) -> dict[str, str]:
    """The ``name==version`` lines of a requirements file, by canonical name (``-r`` lines aside)."""
    out: dict[str, str] = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        match = PIN.match(line)
        assert match, f"{name}: not pinned with ==: {line!r}"
        key = canonicalize_name(match[1])
        assert key not in out, f"{name}: {match[1]} pinned twice"
        out[key] = match[2]
    return out


def server_files() -> list[Path]:
    files = sorted(ROOT.glob("*.py"))
    for folder in SERVER_CODE:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def imported_names(path: Path) -> set[str]:
    """Top-level names of every absolute import in ``path`` (also inside functions), and packages found by name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if func in BY_NAME_CALLS and isinstance(node.args[0].value, str):
                names.add(node.args[0].value.split(".")[0])
    return names


def third_party_imports() -> dict[str, list[str]]:
    """Each imported name that is neither the standard library nor ours, with the files importing it."""
    where: dict[str, list[str]] = {}
    for path in server_files():
        for name in imported_names(path):
            if name not in sys.stdlib_module_names and name not in OWN and name != "__future__":
                where.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return where


def _needed(req: Requirement, extras: set[str], systems: list[dict[str, str]]) -> bool:
    if req.marker is None:
        return True
    for system in systems:
        for extra in {"", *extras}:
            if req.marker.evaluate({**system, "extra": extra}):
                return True
    return False


def closure(roots: dict[str, set[str]], systems: list[dict[str, str]] = SERVER_SYSTEMS) -> dict[str, str]:
    """Every distribution ``roots`` (name: extras) need on any of ``systems``: canonical name -> who needs it."""
    needed: dict[str, str] = {}
    todo = [(name, extras, "(server code)") for name, extras in roots.items()]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras, by = todo.pop()
        key = canonicalize_name(name)
        if (key, frozenset(extras)) in seen:
            continue
        seen.add((key, frozenset(extras)))
        needed.setdefault(key, by)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # e.g. a Windows-only dependency: it must be pinned, see below
            continue
        for text in requires:
            req = Requirement(text)
            if _needed(req, extras, systems):
                todo.append((req.name, set(req.extras), name))
    return needed


@pytest.fixture(scope="module")
def server() -> dict[str, str]:
    where = third_party_imports()
    providers = metadata.packages_distributions()
    missing = {name: files for name, files in where.items() if name not in providers}
    assert not missing, f"imported by the server but installed by no distribution: {missing}"
    roots: dict[str, set[str]] = {}
    for name in where:
        for dist in providers[name]:
            roots.setdefault(dist, set())
    for dist, extras in EXTRAS.items():
        roots.setdefault(dist, set()).update(extras)
    return closure(roots)


def test_every_line_of_both_files_is_pinned() -> None:
    assert len(pins("requirements.txt")) > 30
    dev_lines = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    first = next(line for line in dev_lines if line.strip() and not line.startswith("#"))
    assert first.strip() == "-r requirements.txt"
    assert pins("requirements-dev.txt")
    assert not set(pins("requirements.txt")) & set(pins("requirements-dev.txt")), "pinned in both files"


def test_every_server_import_is_provided_by_a_pinned_package() -> None:
    where = third_party_imports()
    assert {"streamlit", "duckdb", "geopandas", "pptx", "fpdf", "js_lib_leaflet"} <= set(where)  # the scan works
    providers = metadata.packages_distributions()
    pinned = set(pins("requirements.txt"))
    unpinned = {name: (providers.get(name), files) for name, files in where.items()
                if not {canonicalize_name(d) for d in providers.get(name, [])} & pinned}  # fmt: skip
    assert not unpinned, f"imported by the server, provided by no package in requirements.txt: {unpinned}"


def test_every_dependency_of_the_server_is_pinned_on_linux_and_windows(server: dict[str, str]) -> None:
    # what `pip install --no-index` from a wheelhouse needs: nothing may be left for pip to find elsewhere
    missing = {name: by for name, by in server.items() if name not in pins("requirements.txt")}
    assert not missing, f"needed by the server (name: needed by), not in requirements.txt: {missing}"
    assert {"authlib", "httpx", "tzdata"} <= set(server)  # st.login's extra; pandas' time zones on Windows


def test_nothing_in_requirements_is_only_a_test_tool(server: dict[str, str]) -> None:
    pinned = pins("requirements.txt")
    tools = set(pinned) & TEST_TOOLS
    assert not tools, f"test tools in requirements.txt (they belong in requirements-dev.txt): {tools}"
    unneeded = set(pinned) - set(server)
    assert not unneeded, f"in requirements.txt but needed by nothing the server imports: {unneeded}"


def test_the_dev_file_brings_the_test_tools_and_all_they_need() -> None:
    dev, server_pins = pins("requirements-dev.txt"), pins("requirements.txt")
    assert {"pytest", "playwright", "pypdf", "ruff"} <= set(dev)
    here = [{"sys_platform": sys.platform, "platform_system": platform.system(), "os_name": os.name}]
    needed = closure({name: set() for name in ("pytest", "playwright", "pypdf", "ruff")}, here)  # run here only
    missing = {name: by for name, by in needed.items() if name not in dev and name not in server_pins}
    assert not missing, f"needed by the test tools, pinned nowhere: {missing}"


def test_the_pins_are_what_is_installed() -> None:
    # the checks above read the installed packages' metadata: it must be the pinned versions'
    wrong = {}
    for name, version in {**pins("requirements.txt"), **pins("requirements-dev.txt")}.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != version:
            wrong[name] = (version, have)
    assert not wrong, f"pinned (version, installed): {wrong}; pip install -r requirements-dev.txt"


def test_markers_are_read_for_both_server_systems() -> None:
    assert _needed(Requirement('tzdata; sys_platform == "win32"'), set(), SERVER_SYSTEMS)  # as pandas says
    assert not _needed(Requirement('appnope; sys_platform == "darwin"'), set(), SERVER_SYSTEMS)
    assert _needed(Requirement('Authlib>=1.3.2; extra == "auth"'), {"auth"}, SERVER_SYSTEMS)
    assert not _needed(Requirement('Authlib>=1.3.2; extra == "auth"'), set(), SERVER_SYSTEMS)
