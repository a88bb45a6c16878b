"""deploy/nginx/gridpulse.conf as shipped, in front of two dashboard processes sharing PostgreSQL.

nginx from Debian's packages runs the file with only its ports changed. Requests are spread over both
processes by the route cookie, a browser's websocket works through the proxy, and a browser moved
to the other process (its route cookie changed, as when its process stops) is still logged in.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import browserkit, fixtures, pgkit

pytestmark = pytest.mark.browser

browserkit.require_browser()
CONF = browserkit.ROOT / "deploy" / "nginx" / "gridpulse.conf"


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        if os.environ.get("GRIDPULSE_REQUIRE_PG") == "1":
            pytest.fail("nginx is missing: .ci/run installs it")
        pytest.skip("nginx not installed")
    return found


@contextlib.contextmanager
def proxy(ports: list[int], tmp: Path) -> Iterator[str]:
    """nginx running deploy/nginx/gridpulse.conf, its upstreams and listen port changed only."""
    nginx = _nginx()
    listen = browserkit._free_port()
    conf = CONF.read_text(encoding="utf-8").replace("listen 80;", f"listen 127.0.0.1:{listen};")
    conf = conf.replace("127.0.0.1:8501", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:8502", f"127.0.0.1:{ports[1]}")
    (tmp / "gridpulse.conf").write_text(conf, encoding="utf-8")
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir()
        (tmp / d).chmod(0o777)
    (tmp / "nginx.conf").write_text(f"""
        daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
        events {{}}
        http {{
            access_log off;
            client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
            uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
            include {tmp}/gridpulse.conf;
        }}""", encoding="utf-8")  # fmt: skip
    proc = subprocess.Popen([nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")])
    url = f"http://127.0.0.1:{listen}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/_stcore/health", timeout=2).read()
                break
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _upstream(url: str, route: str) -> str:
    request = urllib.request.Request(url + "/_stcore/health", headers={"Cookie": f"gridpulse_route={route}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert any(f"gridpulse_route={route};" in c for c in response.headers.get_all("Set-Cookie"))
        return response.headers["X-GridPulse-Upstream"]


def test_the_shipped_proxy_config_spreads_browsers_and_keeps_them_logged_in(chromium, tmp_path: Path) -> None:
    url = pgkit.street(fixtures.build)
    try:
        with browserkit.running_server(url) as one, browserkit.running_server(url) as other:
            ports = [int(one.rsplit(":", 1)[1]), int(other.rsplit(":", 1)[1])]
            with proxy(ports, tmp_path) as front:
                routes = {f"r{i}": _upstream(front, f"r{i}") for i in range(40)}
                assert set(routes.values()) == {f"127.0.0.1:{p}" for p in ports}  # both processes get browsers
                assert all(_upstream(front, r) == u for r, u in list(routes.items())[:5])  # and keep them

                context, outside = browserkit.new_context(chromium)
                page = context.new_page()
                browserkit.log_in(page, front, "leader")  # the websocket through the proxy
                mine = next(c["value"] for c in context.cookies() if c["name"] == "gridpulse_route")
                served = _upstream(front, mine)
                moved = next(r for r, u in routes.items() if u != served)
                context.add_cookies([{"name": "gridpulse_route", "value": moved, "url": front}])
                response = page.goto(front + "/")
                assert response.headers["x-gridpulse-upstream"] != served
                browserkit.wait_logged_in(page)  # the other process, the same log-in
                assert outside == []
                context.close()
    finally:
        pgkit.drop(url)
