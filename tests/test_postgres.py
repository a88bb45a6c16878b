"""The shared store: several processes (here several ``PgStore``s) on one PostgreSQL server.

What one process writes (an import, a user disabled, a log-in session) the others see; a copied
street gives the same figures as its file; backup and restore; a server that cannot be reached
is said in Chinese. The figures and scopes themselves run on both backends through the
``store`` fixtures (tests/conftest.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gridpulse import auth, sessions, views
from gridpulse.dbopen import DatabaseError
from gridpulse.ingest import run
from gridpulse.scope import Scope
from gridpulse.store import Store, open_store, postgres
from tests import apps, fixtures, pgkit
from tests.fixtures import AS_OF, MARCH


@pytest.fixture
def shared() -> tuple[str, list[Store]]:
    """The fixture street in a new schema, open in two stores as two server processes would."""
    url = pgkit.street(fixtures.build)
    stores = [open_store(url), open_store(url)]
    yield url, stores
    for s in stores:
        s.close()
    pgkit.drop(url)


def test_a_copied_street_gives_the_figures_of_its_file(tmp_path: Path) -> None:
    source = Store(fixtures.build(tmp_path / "street.duckdb"), write=False)
    url = pgkit.fresh_url()
    try:
        counts = postgres.copy_street(source, url)
        assert (counts["grids"], counts["users"]) == (9, len(fixtures.users()))
        a = open_store(url)
        assert views.headline(a, Scope.street(), MARCH, AS_OF) == views.headline(source, Scope.street(), MARCH, AS_OF)
        mine = views.grid_performance(a, Scope.street(), MARCH, AS_OF)
        theirs = views.grid_performance(source, Scope.street(), MARCH, AS_OF)
        assert mine.equals(theirs)
        assert a.users()["username"].tolist() == source.users()["username"].tolist()
        a.close()
    finally:
        source.close()
        pgkit.drop(url)


def test_hostile_text_comes_back_from_the_server_as_written(tmp_path: Path) -> None:
    texts = ["楼道\r\n漏水\r\n严重", 'he said "hi", ok', "a\\b\\N", "", "=cmd|' /C calc'!A0", "<b>粗</b>\t制表", "\\."]

    def edit(tables: dict) -> None:
        cases = tables["cases"]
        for i, text in enumerate(texts):
            cases.loc[i, "description"] = text
        cases.loc[len(texts), "description"] = None

    url = pgkit.street(lambda u: fixtures.build(u, edit))
    file = Store(fixtures.build(tmp_path / "street.duckdb", edit), write=False)
    try:
        pg = open_store(url)
        mine = pg.query("SELECT case_id, description FROM cases ORDER BY case_id")
        theirs = file.query("SELECT case_id, description FROM cases ORDER BY case_id")
        assert mine.equals(theirs)
        assert set(texts) <= set(mine["description"].dropna())
        pg.close()
    finally:
        file.close()
        pgkit.drop(url)


def test_an_import_through_one_process_is_seen_by_the_other(shared, tmp_path: Path) -> None:
    _, (a, b) = shared
    before = views.headline(b, Scope.street(), MARCH, AS_OF)["cases"]
    version = b.data_version()
    lon, lat = fixtures.centre(5)
    path = tmp_path / "new.csv"
    path.write_text("工单编号,受理时间,诉求类别,经度,纬度\n" + "".join(
        f"PG{i},2026-03-10 09:00,环境卫生,{lon},{lat}\n" for i in range(3)), encoding="utf-8")  # fmt: skip
    summary = run.import_file(a, "cases", path)
    assert summary.record["inserted"] == 3
    assert b.data_version() != version  # the other process's cached figures are keyed anew
    assert views.headline(b, Scope.street(), MARCH, AS_OF)["cases"] == before + 3
    assert b.imports()["import_id"].tolist() == a.imports()["import_id"].tolist()
    # the same file again changes nothing, counted on the server both share
    again = run.import_file(b, "cases", path)
    assert (again.record["inserted"], again.record["unchanged"]) == (0, 3)


def test_a_session_opened_on_one_process_is_valid_on_the_other_and_ends_on_both(shared) -> None:
    _, (a, b) = shared
    cookie = sessions.open_session(a, "leader")
    assert sessions.resolve(b, cookie).user.username == "leader"
    admin = auth.current_user(b, "admin")
    auth.toggle_user(b, admin, "leader")  # disabled on the other process
    assert sessions.resolve(a, cookie).user is None
    assert auth.current_user(a, "leader") is None


def test_failed_log_ins_count_on_every_process(shared) -> None:
    _, (a, b) = shared
    for s in (a, b, a):
        s.add_login_failure(["account:leader"], AS_OF, AS_OF.replace(year=2025))
    assert a.login_failures(["account:leader"])["account:leader"][0] == 3


def test_targets_set_on_one_process_apply_on_the_other(shared) -> None:
    _, (a, b) = shared
    a.save_targets_json('{"targets": {"satisfaction": 0.5}}')
    assert b.targets_json() == '{"targets": {"satisfaction": 0.5}}'


def _cli(url: str, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"GRIDPULSE_DB": url, "PATH": "/usr/bin:/bin:/usr/local/bin", "TZ": "UTC"}
    return subprocess.run([sys.executable, "-m", "gridpulse", *argv], env=env, input=stdin, capture_output=True,
                          text=True, check=False, cwd=Path(__file__).resolve().parent.parent)  # fmt: skip


def test_the_command_line_adds_a_user_while_stores_are_open_and_restores_a_backup(shared, tmp_path: Path) -> None:
    url, (a, _b) = shared
    backup = tmp_path / "street.backup"
    assert _cli(url, "backup", "--out", str(backup)).returncode == 0
    added = _cli(url, "users", "add", "wang", "--name", "王", "--role", "leader", "--password-stdin",
                 stdin="a-long-password-1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert auth.authenticate(a, "wang", "a-long-password-1").username == "wang"
    restored = _cli(url, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert a.user("wang") is None  # the backup is from before the user
    assert views.headline(a, Scope.street(), MARCH, AS_OF)["cases"] > 0  # the copy was read again


def test_an_unreachable_server_is_said_in_chinese() -> None:
    with pytest.raises(DatabaseError) as err:
        open_store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")
    assert "连不上共享数据库" in err.value.message
    assert "secret" not in err.value.message + err.value.hint
    assert "技术信息" in err.value.hint
    assert "{" not in err.value.hint  # every placeholder filled


def test_an_empty_server_is_refused_by_demo_only_with_force(tmp_path: Path) -> None:
    url = pgkit.fresh_url()
    try:
        assert _cli(url, "demo", "--cases", "500").returncode == 0
        again = _cli(url, "demo", "--cases", "500")
        assert again.returncode == 1
        assert "--force" in again.stderr
    finally:
        pgkit.drop(url)


def test_bench_store_computes_the_same_figures_on_the_copy_and_in_postgresql() -> None:
    from gridpulse.benchmarks import store as bench_store

    url = pgkit.fresh_url()
    try:
        row = bench_store.measure(url, 3000)
    finally:
        pgkit.drop(url)
    assert row["same"]
    assert row["copy_s"] > 0
    assert "PostgreSQL ÷ copy" in bench_store.table([row])
    assert set(row["pages"]) == {"overview", "heatmap", "service_matrix", "resolution"}
    assert all(seconds > 0 for seconds in row["pages"].values())
    assert "each page's data work" in bench_store.table([row])


def test_a_command_that_only_changes_users_reads_no_copy_of_the_street(shared) -> None:
    url, _ = shared
    store = open_store(url)
    try:
        store.add_user({"username": "li", "display_name": "李", "role": "leader", "communities": [], "grids": [],
                        "department": None, "password_hash": auth.hash_password("li-long-password-1")})  # fmt: skip
        assert store._version is None  # nothing was copied
        assert store.query("SELECT count(*) AS n FROM cases")["n"][0] > 0  # the first figure reads it
        assert store._version is not None
    finally:
        store.close()


def test_many_page_runs_at_once_bring_the_copy_up_to_date_once(shared, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _, (a, b) = shared

    def cases(_: int) -> int:
        return views.headline(b, Scope.street(), MARCH, AS_OF)["cases"]

    with ThreadPoolExecutor(8) as pool:  # the first figures of a fresh process, side by side
        first = set(pool.map(cases, range(16)))
    lon, lat = fixtures.centre(2)
    path = tmp_path / "more.csv"
    path.write_text("工单编号,受理时间,诉求类别,经度,纬度\n" + "".join(
        f"MT{i},2026-03-11 09:00,环境卫生,{lon},{lat}\n" for i in range(4)), encoding="utf-8")  # fmt: skip
    run.import_file(a, "cases", path)
    with ThreadPoolExecutor(8) as pool:  # then all of them find the version changed at once
        after = set(pool.map(cases, range(16)))
    assert len(first) == 1
    assert after == {first.pop() + 4}


def test_a_page_run_does_not_wait_for_the_copy_and_a_failed_catching_up_is_said(
    shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    _, (a, b) = shared
    views.headline(b, Scope.street(), MARCH, AS_OF)  # b keeps a copy
    version = b.meta()["data_version"]
    lon, lat = fixtures.centre(3)
    path = tmp_path / "bg.csv"
    path.write_text("工单编号,受理时间,诉求类别,经度,纬度\n" + "".join(
        f"BG{i},2026-03-12 09:00,环境卫生,{lon},{lat}\n" for i in range(2)), encoding="utf-8")  # fmt: skip
    run.import_file(a, "cases", path)
    with b._sync_lock:  # a catching-up under way: a page run reads the version the copy holds, at once
        assert b.meta(wait=False)["data_version"] == version
    b.meta(wait=False)  # starts one in the background
    for thread in threading.enumerate():
        if thread.name == "gridpulse-sync":
            thread.join(timeout=30)
    assert b.meta(wait=False)["data_version"] != version
    assert b.meta(wait=False)["data_version"] == b.meta()["data_version"]

    run.import_file(a, "cases", _another(path))

    def broken() -> int:
        raise RuntimeError("server went away")

    monkeypatch.setattr(b, "_sync", broken)
    b.meta(wait=False)  # the background try fails: logged
    for thread in threading.enumerate():
        if thread.name == "gridpulse-sync":
            thread.join(timeout=30)
    with pytest.raises(RuntimeError, match="server went away"):
        b.meta(wait=False)  # the next page run tries in its own run, and the error is shown


def test_a_page_run_draws_at_once_while_its_process_takes_an_import(
    shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole app on the shared store: after an import through another process, a page run draws the figures
    it holds while its process's copy takes the rows (every page run used to wait for them first, in the
    database check before the log-in)."""
    import threading

    from gridpulse.ui import cache, database

    url, (a, _b) = shared
    monkeypatch.setenv("GRIDPULSE_DB", url)
    monkeypatch.setattr(cache, "_asked", {})
    monkeypatch.setattr(cache, "_warming", {"shown": None, "next": None, "since": 0.0})
    at = apps.in_march(apps.app("sec"))
    assert not at.exception
    shown = [m.value for m in at.metric]
    assert shown
    lon, lat = fixtures.centre(3)
    path = tmp_path / "meanwhile.csv"
    path.write_text("工单编号,受理时间,诉求类别,经度,纬度\n" + "".join(
        f"MW{i},2026-03-12 09:00,环境卫生,{lon},{lat}\n" for i in range(3)), encoding="utf-8")  # fmt: skip
    run.import_file(a, "cases", path)  # another process imports
    served = database.store()
    try:
        with served._sync_lock:  # this process's copy is taking the rows meanwhile
            page_run = threading.Thread(target=at.run, kwargs={"timeout": 120}, daemon=True)
            page_run.start()
            page_run.join(timeout=20)
            waited = page_run.is_alive()
        page_run.join(timeout=120)
        assert not waited, "the page run waited for the copy to take the import's rows"
        assert not at.exception
        assert [m.value for m in at.metric] == shown  # the figures of the version before, at once
    finally:
        for thread in threading.enumerate():
            if thread.name in ("gridpulse-sync", "gridpulse-warm"):
                thread.join(timeout=30)
        with database._stores_lock:
            database._stores.pop(url, None)
        served.close()


def _another(path: Path) -> Path:
    lon, lat = fixtures.centre(4)
    out = path.with_name("bg2.csv")
    out.write_text("工单编号,受理时间,诉求类别,经度,纬度\n" + f"BH1,2026-03-12 10:00,环境卫生,{lon},{lat}\n",
                   encoding="utf-8")  # fmt: skip
    return out
