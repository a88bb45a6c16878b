"""What the real-browser tests share: a server started the README's way, Debian's Chromium, log-in.

Every request that is not to this machine goes to a dead proxy and fails, and is listed.
Skipped when /usr/bin/chromium is missing, unless GRIDPULSE_REQUIRE_BROWSER=1 (CI sets
it), in which case a missing browser fails the run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import fixtures

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"localhost", "127.0.0.1", None}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def require_browser() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("GRIDPULSE_REQUIRE_BROWSER") == "1":
            raise RuntimeError("GRIDPULSE_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing: apt-get install chromium")
        pytest.skip("Debian chromium not installed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, deadline_s: float = 90) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


@contextlib.contextmanager
def running_server(db: Path, *args: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``streamlit run server.py`` (the README's command) on a free loopback port, for ``db``."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", *args]  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / f"server-{port}.log", "wb") as out:  # the server's log, kept for a failed run
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, "GRIDPULSE_DB": str(db), **(env or {})}, stdout=out, stderr=out
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def launch(p: Any) -> Any:
    return p.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
            # Every request that is not to this machine goes to a dead proxy and fails.
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=localhost;127.0.0.1",
        ],
    )  # fmt: skip


def new_context(browser: Any, **options: Any) -> tuple[Any, list[str]]:
    """A browser context (desktop unless ``options`` say otherwise) and the list of its outside requests."""
    outside: list[str] = []
    context = browser.new_context(**({"viewport": {"width": 1440, "height": 1000}} | options), locale="zh-CN")
    context.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).hostname not in LOCAL_HOSTS else None)
    return context, outside


def log_in(page: Any, url: str, username: str, path: str = "/", password: str = fixtures.PASSWORD) -> None:
    """Log in through the form and wait until the page behind it is drawn."""
    page.goto(url + path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    wait_logged_in(page)


def wait_logged_in(page: Any, timeout: int = 60_000) -> None:
    page.wait_for_selector("[data-testid=stMetric]", timeout=timeout)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=timeout)


def wait_login_form(page: Any, timeout: int = 60_000) -> None:
    page.get_by_role("button", name="登录", exact=True).wait_for(timeout=timeout)


SHOWN_MAP = "iframe[title='streamlit_folium.st_folium'] >> visible=true"  # not one a rerun left hidden


def eval_in_map(page: Any, script: str, until: Callable[[Any], bool] = bool, tries: int = 150) -> Any:
    """Run ``script`` in the page's shown map frame until ``until(result)``; return the last result.

    A Streamlit rerun may replace or hide the map's frame at any moment (the frame found a moment
    ago is then detached): each try finds the shown frame again, and a detached one is tried again.
    """
    from playwright.sync_api import Error

    result: Any = None
    for _ in range(tries):
        try:
            handle = page.locator(SHOWN_MAP).first.element_handle(timeout=5_000)
            frame = handle.content_frame() if handle is not None else None
            if frame is not None:
                result = frame.evaluate(script)
                if until(result):
                    return result
        except Error:  # detached, or its document replaced, between finding and asking
            pass
        time.sleep(0.2)
    return result
