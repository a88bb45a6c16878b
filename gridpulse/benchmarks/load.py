"""``python -m gridpulse bench-load``: many logged-in users at once, speaking Streamlit's own websocket protocol.

A street of the given size is generated, ``streamlit run server.py`` (the README's command) is
started on a free loopback port, and N clients each:

1. open the websocket (``/_stcore/stream``), run the log-in page, fill the form (its widget ids
   read from the page's own messages), follow the one-time ticket link to get the session cookie,
   and reconnect with it: that is the log-in time;
2. for a fixed time, click: switch to another page (overview, heatmap, resolution, ranking), or
   change the category filter; a click is timed from the message sent to the server's
   "script finished".

Roles are mixed (leader, secretary, grid head, liaison; several clients may share an account).
The same load runs again while an import of cases goes through the serving dashboard
(``POST /gp/admin``, gridpulse/serving.py). Printed: p50/p95 click-to-finished, log-in p50/p95,
errors, the server's peak RSS and CPU seconds. Bounded: at most ``MAX_SESSIONS`` clients and
``MAX_SECONDS`` per step, loopback only. No browser: the client's cost is parsing protobuf.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from gridpulse import auth, config, demo

MAX_SESSIONS = 60
MAX_SECONDS = 300
ROLES = ("leader", "secretary", "gridhead", "liaison")  # the demo street's accounts
PAGES = ("overview", "heatmap", "resolution", "accountability")
CLICK_TIMEOUT_S = 120
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Results:
    clicks: list[float] = field(default_factory=list)
    logins: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Client:
    """One browser tab, as far as the server can tell: a websocket speaking Streamlit's protocol."""

    def __init__(self, base: str, username: str, results: Results, rng: random.Random) -> None:
        self.base, self.username, self.results, self.rng = base, username, results, rng
        self.cookie = ""
        self.ws: Any = None
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.widgets: dict[str, Any] = {}  # label -> element proto of the last run
        self.categories: list[str] = []

    async def connect(self) -> None:
        import websockets

        if self.ws is not None:
            await self.ws.close()
        headers = {"Origin": self.base}
        if self.cookie:
            headers["Cookie"] = self.cookie
        url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(url, subprotocols=["streamlit"], additional_headers=headers, max_size=None)

    async def run(self, page_hash: str = "", states: list[Any] | None = None) -> float:
        """One rerun; returns seconds until the script finished (raises on an exception element)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = page_hash
        msg.rerun_script.widget_states.widgets.extend(states or [])
        began = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._until_finished(), CLICK_TIMEOUT_S)
        return time.perf_counter() - began

    async def _until_finished(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.widgets = {}
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._element(fwd.delta.new_element)
            elif kind == "script_finished":
                return

    def _element(self, el: Any) -> None:
        kind = el.WhichOneof("type")
        if kind == "exception":
            raise RuntimeError(f"exception: {el.exception.message[:200]}")
        if kind in ("text_input", "button", "multiselect", "link_button"):
            inner = getattr(el, kind)
            label = getattr(inner, "label", "")
            self.widgets[f"{kind}:{label}"] = inner
            if kind == "multiselect" and "flt_category" in inner.id:
                self.categories = list(inner.options)

    async def log_in(self) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        began = time.perf_counter()
        await self.connect()
        await self.run()
        user = self._widget("text_input", "用户名")
        password = self._widget("text_input", "密码")
        submit = self._widget("button", "登录")
        states = [WidgetState(id=user.id, string_value=self.username),
                  WidgetState(id=password.id, string_value=auth.DEMO_PASSWORD),
                  WidgetState(id=submit.id, trigger_value=True)]  # fmt: skip
        await self.run(states=states)
        link = next((w for k, w in self.widgets.items() if k.startswith("link_button:")), None)
        if link is None:
            raise RuntimeError("no ticket link after log-in")
        self.cookie = await asyncio.to_thread(_exchange_ticket, urljoin(self.base, link.url))
        await self.connect()
        await self.run()
        self.results.logins.append(time.perf_counter() - began)

    def _widget(self, kind: str, label: str) -> Any:
        found = self.widgets.get(f"{kind}:{label}")
        if found is None:
            raise RuntimeError(f"no {kind} {label!r} on the page")
        return found

    async def click(self) -> None:
        """Another page, or (one time in four) a category filter on the current page."""
        from streamlit.proto.Common_pb2 import StringArray
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        if self.categories and self.rng.random() < 0.25:
            box = next(
                (w for k, w in self.widgets.items() if k.startswith("multiselect:") and "flt_category" in w.id), None
            )
            if box is not None:
                state = WidgetState(id=box.id, string_array_value=StringArray(data=[self.rng.choice(self.categories)]))
                self.results.clicks.append(await self.run(self.current, [state]))
                return
        path = self.rng.choice([p for p in PAGES if p in self.pages] or list(self.pages))
        self.current = self.pages.get(path, "")
        self.results.clicks.append(await self.run(self.current))

    current = ""


def _exchange_ticket(url: str) -> str:
    """GET the ticket link without following the redirect: the session cookie it sets."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    try:
        response = opener.open(url, timeout=60)
    except urllib.error.HTTPError as redirect:  # 303: what we want
        response = redirect
    cookies = [h.split(";", 1)[0] for h in response.headers.get_all("Set-Cookie") or []]
    if not any(c.startswith("gp_session=") for c in cookies):
        raise RuntimeError("the ticket gave no session cookie")
    return "; ".join(cookies)


async def _session(base: str, username: str, seconds: float, results: Results, seed: int) -> None:
    client = _Client(base, username, results, random.Random(seed))
    try:
        await client.log_in()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            await client.click()
            await asyncio.sleep(client.rng.uniform(0.5, 1.5))  # a person reads before the next click
    except Exception as err:  # a failed click is a measured error, not a crash of the benchmark
        results.errors.append(f"{type(err).__name__}: {str(err)[:120]}")
    finally:
        if client.ws is not None:
            with contextlib.suppress(Exception):
                await client.ws.close()


async def _first_visitors(base: str) -> Results:
    """One log-in per role, all four at once, each then opening once every page the load clicks through."""
    results = Results()

    async def visit(i: int, username: str) -> None:
        client = _Client(base, username, results, random.Random(i))
        try:
            await client.log_in()
            for path in PAGES:
                if path in client.pages:
                    await client.run(client.pages[path])
        finally:
            if client.ws is not None:
                await client.ws.close()

    await asyncio.gather(*(visit(i, u) for i, u in enumerate(ROLES)))
    return results


async def _load(bases: list[str], sessions: int, seconds: float) -> Results:
    """``sessions`` clients, spread over the processes in turn (each keeps its process, as behind deploy/nginx)."""
    results = Results()
    users = [ROLES[i % len(ROLES)] for i in range(sessions)]
    await asyncio.gather(*(_session(bases[i % len(bases)], u, seconds, results, i) for i, u in enumerate(users)))
    return results


# ---- the server under test ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(db: Path | str, log_path: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    env = {**os.environ, "GRIDPULSE_DB": str(db)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                with contextlib.suppress(OSError):
                    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                    if opener.open(base + "/_stcore/health", timeout=2).status == 200:
                        break
                if proc.poll() is not None:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)
            yield base, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _proc_usage(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds so far) of a process, from /proc (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, IndexError):
        return float("nan"), float("nan")
    return rss_kb / 1024, cpu


def _import_file(db: Path, rows: int, folder: Path, tag: str) -> Path:
    """A 12345-style export of ``rows`` new cases in the street (CSV), for the import under load."""
    import pandas as pd

    from gridpulse.store import Store

    store = Store(db, write=False)
    sample = store.query(f"SELECT * FROM cases USING SAMPLE {int(rows)} ROWS (reservoir, 7)")
    store.close()
    out = pd.DataFrame({
        "工单编号": [f"LOAD{tag}-{i:08d}" for i in range(len(sample))],
        "受理时间": sample["reported_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "诉求类别": sample["category"], "诉求内容": sample["description"],
        "办结时间": sample["resolved_at"].dt.strftime("%Y-%m-%d %H:%M:%S").fillna(""),
        "处理状态": sample["resolved_at"].notna().map({True: "已办结", False: "已受理"}),
        "经度": sample["lon"], "纬度": sample["lat"],
    })  # fmt: skip
    path = folder / f"load_import_{tag}.csv"
    out.to_csv(path, index=False, encoding="utf-8")
    return path


def _importing(db: Path | str, csv: Path) -> subprocess.Popen[bytes]:
    """``python -m gridpulse import cases`` while the dashboard serves: it runs inside the dashboard."""
    env = {**os.environ, "GRIDPULSE_DB": str(db)}
    log = open(csv.with_suffix(".log"), "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([sys.executable, "-m", "gridpulse", "import", "cases", str(csv)], cwd=ROOT, env=env,
                            stdout=log, stderr=log)  # fmt: skip


@dataclass
class Setup:
    """What serves: ``processes`` dashboard processes on one database (a DuckDB file or a PostgreSQL URL)."""

    name: str
    db: Path | str
    processes: int
    folder: Path


def measure(setup: Setup, sessions: int, seconds: float, import_csv: Path | None = None) -> dict[str, Any]:
    """One load step against fresh server processes for ``setup``."""
    sessions = min(sessions, MAX_SESSIONS)
    seconds = min(seconds, MAX_SECONDS)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(_server(setup.db, setup.folder / f"{setup.name}-{i}.server.log"))
                   for i in range(setup.processes)]  # fmt: skip
        bases, pids = [b for b, _ in servers], [p for _, p in servers]
        # Warm-up, as the first visitors of a day: the first run of a fresh process imports everything, and each
        # role's pages fill the caches of its scope's figures. One log-in per role, on each process, all at once,
        # each then opening the pages the load clicks through: the slowest of those log-ins is printed as
        # "first log-in", apart from the load that follows.
        cold = Results()
        for base in bases:
            cold.logins += asyncio.run(_first_visitors(base)).logins
        cpu0 = sum(_proc_usage(pid)[1] for pid in pids)
        importer = _importing(setup.db, import_csv) if import_csv else None
        results, peak_rss = asyncio.run(_watched(_load(bases, sessions, seconds), pids))
        cpu1 = sum(_proc_usage(pid)[1] for pid in pids)
        import_rc = importer.wait(timeout=MAX_SECONDS * 4) if importer is not None else None
    import_error = ""
    if import_csv is not None and import_rc not in (None, 0):  # its log goes with the temporary folder: keep why
        lines = import_csv.with_suffix(".log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        import_error = " / ".join(lines[-3:])[:300]
    return {
        "setup": setup.name,
        "processes": setup.processes,
        "sessions": sessions,
        "import": import_csv is not None,
        "clicks": len(results.clicks),
        "click_p50": _pct(results.clicks, 50),
        "click_p95": _pct(results.clicks, 95),
        "login_p50": _pct(results.logins, 50),
        "login_p95": _pct(results.logins, 95),
        "errors": len(results.errors),
        "first_error": results.errors[0] if results.errors else "",
        "rss_mb": peak_rss,
        "cpu_s": cpu1 - cpu0,
        "import_rc": import_rc,
        "import_error": import_error,
        "first_login": max(cold.logins, default=float("nan")),
    }


async def _watched(work: Any, pids: list[int]) -> tuple[Results, float]:
    """Run the load while sampling the servers' RSS every half second; (results, peak of their summed RSS)."""
    peak = 0.0
    job = asyncio.ensure_future(work)
    while not job.done():
        rss = sum(r for r, _ in map(_proc_usage, pids) if r == r)
        peak = max(peak, rss)
        await asyncio.sleep(0.5)
    return job.result(), peak


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def street(db: Path, cases: int) -> None:
    """The demo street of ``cases`` cases, marked as a real street: it accepts imports, its accounts stay usable."""
    from gridpulse.store import Store

    demo.generate(db, cases, config.DEMO_SEED)
    store = Store(db, write=True)
    store._exec("UPDATE meta SET value = 'bench' WHERE key = 'source'")
    store._exec("UPDATE users SET demo = false")
    store.close()


def run(
    cases: int,
    session_counts: list[int],
    seconds: float,
    with_import: int,
    pg_url: str | None = None,
    processes: int | None = None,
) -> list[dict[str, Any]]:
    """Generate the street; then, for today's single process on the DuckDB file and, given ``pg_url``, for
    ``processes`` processes (default: one per core) on PostgreSQL, one step per session count, and the same
    with an import running. The PostgreSQL street is a copy of the file's (``copy``): the same data."""
    with tempfile.TemporaryDirectory(prefix="gridpulse-load-") as tmp:
        folder = Path(tmp)
        db = folder / "street.duckdb"
        street(db, cases)
        setups = [Setup("single", db, 1, folder)]
        if pg_url:
            from gridpulse.store import Store, postgres

            source = Store(db, write=False)
            postgres.copy_street(source, pg_url, replace=True)
            source.close()
            setups.append(Setup("shared", pg_url, processes or os.cpu_count() or 2, folder))
        rows = []
        for setup in setups:
            rows += [measure(setup, n, seconds) for n in session_counts]
            if with_import:  # each step imports new cases (its own ids): real work, not "unchanged"
                rows += [measure(setup, n, seconds, _import_file(db, with_import, folder, f"{setup.name}{n}"))
                         for n in session_counts]  # fmt: skip
        return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'setup':>9} {'sessions':>8} {'import':>6} {'clicks':>6} {'p50 s':>7} {'p95 s':>7} {'login p50':>9} " \
           f"{'login p95':>9} {'errors':>6} {'RSS MB':>7} {'CPU s':>6} {'first log-in':>12}"  # fmt: skip
    lines = [head]
    for r in rows:
        name = "1×DuckDB" if r["setup"] == "single" else f"{r['processes']}×PG"
        lines.append(
            f"{name:>9} {r['sessions']:>8} {'yes' if r['import'] else 'no':>6} {r['clicks']:>6} {r['click_p50']:>7.2f} "
            f"{r['click_p95']:>7.2f} {r['login_p50']:>9.2f} {r['login_p95']:>9.2f} {r['errors']:>6} "
            f"{r['rss_mb']:>7.0f} {r['cpu_s']:>6.1f} {r['first_login']:>12.2f}"
        )
        if r["import_rc"] not in (None, 0):
            lines.append(f"         the import failed (exit code {r['import_rc']}): {r.get('import_error', '')}")
        if r["first_error"]:
            lines.append(f"         first error: {r['first_error']}")
    return "\n".join(lines)
