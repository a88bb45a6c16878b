"""Admin commands while the dashboard serves the database (gridpulse/serving.py).

The dashboard holds the DuckDB file; the command-line tools ask it to run their command.
Tried as a user would: ``streamlit run server.py``, then ``python -m gridpulse ...`` in a shell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gridpulse import serving
from gridpulse.__main__ import main
from gridpulse.store import Store
from tests import browserkit, fixtures

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path, db: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDPULSE_DB": str(db), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "gridpulse", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip


def test_paths_are_made_absolute_on_the_callers_side(tmp_path: Path) -> None:
    here = tmp_path
    assert serving.absolute_paths(["import", "cases", "a.csv", "--mapping", "m.json"], here) == [
        "import", "cases", str(here / "a.csv"), "--mapping", str(here / "m.json"),
    ]  # fmt: skip
    assert serving.absolute_paths(["report", "--period", "2026-03"], here)[-2:] == ["--out-dir", str(here)]
    assert serving.absolute_paths(["report", "--out", "r.xlsx"], here)[-1] == str(here / "r.xlsx")
    assert serving.absolute_paths(["targets", "set", "t.json"], here)[-1] == str(here / "t.json")
    assert serving.absolute_paths(["users", "list"], here) == ["users", "list"]


@pytest.mark.parametrize(
    ("host", "ok"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("192.0.2.7", False), (None, False)],
)
def test_only_this_machine_may_ask(host: str | None, ok: bool) -> None:
    info = serving.Serving(8501, "", "secret-token", 1)
    assert serving.allowed(host, "secret-token", info) is ok
    assert not serving.allowed("127.0.0.1", "wrong-token", info)
    assert not serving.allowed("127.0.0.1", "", info)
    assert not serving.allowed("127.0.0.1", "secret-token", None)


def test_a_served_command_uses_the_servers_store_and_never_replaces_it(tmp_path: Path) -> None:
    store = Store(fixtures.build(tmp_path / "s.duckdb"))
    rc, out, _ = serving.run_here(main, store, ["users", "list", "--db", "/elsewhere.duckdb"], None)
    assert rc == 0
    assert "leader" in out
    rc, _, err = serving.run_here(main, store, ["demo", "--force"], None)
    assert rc == 2
    assert "请先停止仪表盘" in err
    store.query("SELECT 1")  # still open: a served command does not close the dashboard's store
    store.close()


def _wait_for_announcement(db: Path) -> serving.Serving:
    for _ in range(100):
        info = serving.read(db)
        if info is not None:
            return info
        time.sleep(0.2)
    raise TimeoutError(db)


@pytest.mark.browser
def test_admin_while_serving(tmp_path: Path, chromium) -> None:
    db = fixtures.build(tmp_path / "street.duckdb")
    work = tmp_path / "shell"
    work.mkdir()
    with browserkit.running_server(db) as url:
        info = _wait_for_announcement(db)
        assert oct(serving.info_path(db).stat().st_mode & 0o777) == "0o600"
        added = cli("users", "add", "newcomer", "--role", "leader", "--password-stdin", cwd=work, db=db,
                    stdin="newcomer-pass\n")  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "已添加用户 newcomer" in added.stdout
        assert "已交给本机运行中的仪表盘" in added.stderr
        listed = cli("users", "list", cwd=work, db=db)
        assert listed.returncode == 0, listed.stderr
        assert "newcomer" in listed.stdout
        report = cli("report", "--period", "2026-03..2026-03", "--format", "xlsx", cwd=work, db=db)
        assert report.returncode == 0, report.stderr
        assert len(list(work.glob("*.xlsx"))) == 1  # in the caller's folder, not the server's
        lon, lat = fixtures.centre(5)
        (work / "new.csv").write_text(
            "工单编号,受理时间,诉求类别,诉求内容,办结时间,处理状态,经度,纬度,所属网格\n"
            f"n01,2026-03-30 09:00,环境卫生,served import,,已受理,{lon},{lat},\n",
            encoding="utf-8",
        )
        imported = cli("import", "cases", "new.csv", cwd=work, db=db)
        assert imported.returncode == 0, imported.stderr + imported.stdout
        assert "新增 1" in imported.stdout
        assert serving.read(db) == info  # the dashboard still serves its file
        # A wrong token is refused (403), whatever the command.
        request = urllib.request.Request(
            url + serving.ADMIN_PATH, data=json.dumps({"argv": ["users", "list"]}).encode(), method="POST",
            headers={"Content-Type": "application/json", serving.TOKEN_HEADER: "guess"},
        )  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30)
        assert denied.value.code == 403
        # The new user logs in on the dashboard that added them.
        context, outside = browserkit.new_context(chromium)
        page = context.new_page()
        browserkit.log_in(page, url, "newcomer", password="newcomer-pass")
        assert outside == []
        context.close()
    after = cli("users", "list", cwd=work, db=db)  # the server has stopped: the tool opens the file itself
    assert after.returncode == 0, after.stderr
    assert "已交给" not in after.stderr
    assert serving.read(db) is None  # a file left by a stopped server names a process that is gone
    store = Store(db)
    audit = store.audit_log()
    assert {"user_add", "export", "login", "import"} <= set(audit["action"])
    assert store.query("SELECT grid_code FROM cases WHERE case_id = 'n01'")["grid_code"].tolist() == [
        fixtures.code(5)
    ]  # written by the one process that writes
    store.close()
