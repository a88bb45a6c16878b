"""The database in trouble: missing, unreadable, read-only, locked, damaged, on a full disk, after kill -9.

For every fault the CLI says in Chinese what is wrong and what to do (exit code 2, no traceback),
the dashboard shows the message with a hint and no exception, and the file's bytes are unchanged:
nothing is overwritten, deleted or "repaired".

How the faults are made, given that the tests run as root (and root ignores file modes):

- permissions: this process takes an unprivileged *effective* user (``os.seteuid(nobody)``) around
  the CLI's ``main()`` and the dashboard's ``AppTest`` run, for files in a world-searchable folder;
  run as another user, the same file modes apply to it directly;
- a read-only folder or file: a read-only bind mount (EROFS, which binds root too);
- locked: a second process holds the database open for writing with ``duckdb.connect``;
- a full disk: a 16 MB tmpfs, filled up; and DuckDB's own "No space left on device" error raised
  by a patch, for machines where mounting is not allowed (the mount tests are skipped there).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridpulse import auth, config, dbfiles, dbopen, sessions
from gridpulse.__main__ import main
from gridpulse.benchmarks import imports as bench_import
from gridpulse.ingest import entry, run
from gridpulse.ingest.sources import ImportFileError
from gridpulse.store import Store
from gridpulse.store.connection import translated
from gridpulse.ui import cache, database, session
from gridpulse.ui.session import USER_KEY
from tests import apps, exportfiles, fixtures

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534
IS_ROOT = os.geteuid() == 0


# ---- helpers ---------------------------------------------------------------------------


def cli(*args: str, stdin: str = "", timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gridpulse", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else f"<{path} not a file>"


def says(stderr: str, *texts: str) -> None:
    assert "Traceback" not in stderr, stderr
    for text in texts:
        assert text in stderr, stderr


def dashboard(monkeypatch: pytest.MonkeyPatch, path: Path, cookie: str | None = None) -> AppTest:
    """app.py run once on ``path``: as a visitor, or with a session cookie made beforehand."""
    monkeypatch.setenv("GRIDPULSE_DB", str(path))
    return apps.app(None, state={USER_KEY: {"session": cookie}} if cookie else None)


def shows_error(at: AppTest, text: str) -> None:
    """The run stopped with the Chinese message and a hint: no exception, no log-in form."""
    assert not at.exception, [e.value for e in at.exception]
    assert any(text in e.value for e in at.error), [e.value for e in at.error]
    assert at.info, "a hint says what to do"
    assert not at.text_input, "the log-in form is not drawn over a database that cannot be opened"


def warnings(at: AppTest) -> str:
    return "\n".join(e.value for e in at.warning)


def login_form(at: AppTest) -> bool:
    return any(w.label == "密码" for w in at.text_input)


def cookie_for(path: Path, username: str = "admin") -> str:
    """A log-in session opened while the database could still be written (a user logged in before)."""
    store = Store(path)
    try:
        return sessions.open_session(store, username)
    finally:
        store.close()


@contextlib.contextmanager
def as_nobody(monkeypatch: pytest.MonkeyPatch | None = None) -> Iterator[None]:
    """File modes apply inside: root takes nobody's effective ids (other users are bound by them anyway).

    With ``monkeypatch``, the log-in page does not look for OIDC settings: root's own
    ``~/.streamlit/secrets.toml`` lies in /root, where nobody may not look (a dashboard's
    service account reads its own home).
    """
    if not IS_ROOT:
        yield
        return
    if monkeypatch is not None:
        monkeypatch.setattr(session, "oidc_configured", lambda: False)
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in this process (so it can run as nobody): exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def forget_stores(prefix: str = "") -> None:
    """Close the dashboard's open stores (under ``prefix``), as a restart would."""
    with database._stores_lock:
        for key in [k for k in database._stores if k.startswith(prefix)]:
            database._stores.pop(key)[1].close()


@pytest.fixture(autouse=True)
def _close_app_stores() -> Iterator[None]:
    """Stores the dashboard opened in this test are closed after it (files are unmounted, removed)."""
    before = set(database._stores)
    yield
    with database._stores_lock:
        for key in set(database._stores) - before:
            database._stores.pop(key)[1].close()


@pytest.fixture(scope="module")
def warm_app(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One run as root first: the modules AppTest needs are imported before a test drops privileges."""
    path = fixtures.build(tmp_path_factory.mktemp("warm") / "street.duckdb")
    mp = pytest.MonkeyPatch()
    try:
        at = dashboard(mp, path)
        assert login_form(at)
        at = apps.app("admin")  # and the pages' modules (matplotlib, ...) as well
        assert not at.exception
    finally:
        mp.undo()
        with database._stores_lock:
            if str(path) in database._stores:
                database._stores.pop(str(path))[1].close()


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder any user may enter (pytest's own tmp folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="gp-trouble-"))
    folder.chmod(0o755)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _mount_or_skip(*args: str) -> None:
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) to make a read-only or a full file system")
    r = subprocess.run(["mount", *args], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mount {' '.join(args)} not allowed here: {r.stderr.strip()}")


def _unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


# ---- the damaged files -----------------------------------------------------------------


def _cases_block_offset(path: Path) -> int:
    """Where the cases table's first data block lies in the file: damage there is always read."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        block = con.execute("SELECT min(block_id) FROM pragma_storage_info('cases') WHERE block_id >= 0").fetchone()[0]
        size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    finally:
        con.close()
    return 3 * 4096 + int(block) * int(size)  # after the file's three header blocks


def _truncated(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 10)


def _truncated_half(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _garbage(path: Path) -> None:
    offset = _cases_block_offset(path) + 1000
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(os.urandom(3000))


def _text(path: Path) -> None:
    path.unlink()
    path.write_text("工单编号,受理时间\nA1,2026-03-01\n", encoding="utf-8")


def _sqlite(path: Path) -> None:
    path.unlink()
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE cases (case_id TEXT)")
    con.commit()
    con.close()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _missing(path: Path) -> None:
    path.unlink()


FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (_missing, "找不到数据库"),
    "directory": (_directory, "是一个文件夹，不是数据库文件"),
    "empty": (_empty, "是空的（0 字节）"),
    "truncated": (_truncated, "已损坏，无法读取"),
    "truncated_half": (_truncated_half, "已损坏，无法读取"),
    "garbage_in_the_middle": (_garbage, "已损坏，无法读取"),
    "text_file": (_text, "不是 GridPulse 的数据库（DuckDB）文件"),
    "sqlite_file": (_sqlite, "不是 GridPulse 的数据库（DuckDB）文件"),
}


@pytest.fixture(params=sorted(FAULTS))
def faulty(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    path = fixtures.build(tmp_path / "street.duckdb")
    make, message = FAULTS[request.param]
    make(path)
    return path, message


def test_cli_names_the_fault_and_leaves_the_file(faulty: tuple[Path, str], tmp_path: Path) -> None:
    path, message = faulty
    before = digest(path)
    csv = exportfiles.write_csv(exportfiles.hotline(fixtures.case_rows()), tmp_path / "12345.csv")
    for args in (
        ["users", "list"],
        ["users", "add", "wang", "--role", "leader", "--password-stdin"],
        ["rejects"],
        ["report", "--period", "2026-03..2026-03", "--out", str(tmp_path / "r.xlsx")],
        ["import", "cases", str(csv)],
    ):
        r = cli(*args, "--db", str(path), stdin="a-long-password\n")
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        if args[0] == "import" and not path.exists():  # nothing to import into: a new street needs its name
            says(r.stderr, "不存在：新建时请加 --street")
        else:
            says(r.stderr, message)
        assert digest(path) == before, args
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("street")) == (
        ["street.duckdb"] if path.exists() else []
    ), "no log, scratch or new file beside it"


def test_dashboard_names_the_fault_and_leaves_the_file(
    faulty: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, message = faulty
    before = digest(path)
    at = dashboard(monkeypatch, path)
    shows_error(at, message)
    assert digest(path) == before
    assert path.exists() == (message != "找不到数据库"), "a missing database is not made up"


def test_a_broken_default_database_is_not_replaced_by_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo street is generated only where nothing exists, never over a file that cannot be opened."""
    path = fixtures.build(tmp_path / "gridpulse.duckdb")
    _garbage(path)
    before = digest(path)
    monkeypatch.setattr(config, "DEFAULT_DB_PATH", path)
    monkeypatch.delenv("GRIDPULSE_DB", raising=False)
    at = apps.app(None)
    shows_error(at, "已损坏")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gridpulse.duckdb"]


def test_the_demo_is_not_generated_where_the_folder_cannot_be_searched(
    open_dir: Path, monkeypatch: pytest.MonkeyPatch, warm_app: None
) -> None:
    """Unreadable is not missing: the default path behind a closed folder is left alone."""
    data = open_dir / "data"
    data.mkdir()
    path = fixtures.build(data / "gridpulse.duckdb")
    before = digest(path)
    data.chmod(0o000)  # nobody may look inside
    monkeypatch.setattr(config, "DEFAULT_DB_PATH", path)
    monkeypatch.delenv("GRIDPULSE_DB", raising=False)
    with as_nobody():
        at = apps.app(None)
    shows_error(at, "没有权限读取数据库")
    data.chmod(0o755)
    assert digest(path) == before


# ---- permissions (an unprivileged effective user) -----------------------------------------


def test_unreadable_database(
    open_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, warm_app: None
) -> None:
    path = fixtures.build(open_dir / "street.duckdb")
    path.chmod(0o000)
    before = digest(path)
    with as_nobody():
        code, _, err = run_main(capsys, "users", "list", "--db", str(path))
        add = run_main(capsys, "users", "add", "wang", "--role", "leader", "--db", str(path), "--password-stdin")
        at = dashboard(monkeypatch, path)
    assert code == 2
    says(err, "没有权限读取数据库", "chown")
    assert add[0] == 2
    says(add[2], "没有权限读取数据库")
    shows_error(at, "没有权限读取数据库")
    assert digest(path) == before


def _leave_wal(path: Path) -> None:
    """A process that committed a change and was killed before its checkpoint: the log stays beside."""
    code = f"""
        import duckdb, os
        con = duckdb.connect({str(path)!r})
        con.execute("SET checkpoint_threshold = '1GB'")
        con.execute("INSERT INTO audit VALUES (now(), 'wal', 'wal_test', '', '')")
        os._exit(0)
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=60)
    assert dbopen.wal_path(path).exists()


def test_read_only_folder_falls_back_to_reading(
    open_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, warm_app: None
) -> None:
    """The data folder may not be written (no log, no scratch file): read-only, and said so."""
    path = fixtures.build(open_dir / "street.duckdb")
    cookie = cookie_for(path)
    path.chmod(0o666)  # the file itself could be written; its folder cannot
    open_dir.chmod(0o555)
    before = digest(path)
    with as_nobody(monkeypatch):
        listing = run_main(capsys, "users", "list", "--db", str(path))
        monkeypatch.setattr("sys.stdin", SimpleNamespace(readline=lambda: "a-long-password\n"))
        add = run_main(capsys, "users", "add", "wang", "--role", "leader", "--db", str(path), "--password-stdin")
        store = Store(path)
        try:
            assert store.read_only
            assert auth.authenticate(store, "admin", fixtures.PASSWORD).username == "admin"  # log-in still works
            with pytest.raises(ImportFileError, match="不能导入"):
                run.import_file(store, "cases", ROOT / "README.md")
        finally:
            store.close()
        visitor = dashboard(monkeypatch, path)
        member = dashboard(monkeypatch, path, cookie)
    assert listing[0] == 0
    assert "admin" in listing[1]
    assert add[0] == 2
    says(add[2], "无法写入", f"文件夹 {open_dir} 不可写")
    assert not visitor.exception
    assert login_form(visitor)
    assert "数据库以只读方式打开" in warnings(visitor)
    assert not member.exception
    assert not login_form(member)
    assert "数据库以只读方式打开" in warnings(member)
    assert digest(path) == before
    assert sorted(p.name for p in open_dir.iterdir()) == ["street.duckdb"]


def test_read_only_file(
    open_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, warm_app: None
) -> None:
    """The file may not be written, its folder may: read-only too, nothing left beside it."""
    path = fixtures.build(open_dir / "street.duckdb")
    cookie = cookie_for(path)
    path.chmod(0o444)
    open_dir.chmod(0o777)
    before = digest(path)
    with as_nobody(monkeypatch):
        listing = run_main(capsys, "users", "list", "--db", str(path))
        add = run_main(capsys, "users", "disable", "leader", "--db", str(path))
        member = dashboard(monkeypatch, path, cookie)
    assert listing[0] == 0
    assert add[0] == 2
    says(add[2], "无法写入：文件只读")
    assert not member.exception
    assert not login_form(member)
    assert "数据库以只读方式打开（文件只读）" in warnings(member)
    assert digest(path) == before
    assert sorted(p.name for p in open_dir.iterdir()) == ["street.duckdb"]


def test_read_only_wal(
    open_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, warm_app: None
) -> None:
    """A log left by another account: unreadable stops (it may hold recent changes), unwritable reads only."""
    path = fixtures.build(open_dir / "street.duckdb")
    cookie_for(path)  # it has served a dashboard before: its session secret is made
    path.chmod(0o666)
    open_dir.chmod(0o777)
    _leave_wal(path)
    wal = dbopen.wal_path(path)
    before, before_wal = digest(path), digest(wal)
    wal.chmod(0o444)
    with as_nobody(monkeypatch):
        listing = run_main(capsys, "users", "list", "--db", str(path))
        add = run_main(capsys, "users", "passwd", "admin", "--db", str(path), "--password-stdin")
        at = dashboard(monkeypatch, path)
    assert listing[0] == 0
    assert "admin" in listing[1]
    assert add[0] == 2
    says(add[2], f"日志文件 {wal.name} 不可写")
    assert not at.exception
    assert login_form(at)
    assert f"日志文件 {wal.name} 不可写" in warnings(at)
    forget_stores()  # the dashboard opens the file again, as after a restart
    wal.chmod(0o000)
    with as_nobody():
        code, _, err = run_main(capsys, "users", "list", "--db", str(path))
        at = dashboard(monkeypatch, path)
    assert code == 2
    says(err, "没有权限读取数据库的日志文件", "请不要删除它")
    shows_error(at, "没有权限读取数据库的日志文件")
    assert (digest(path), digest(wal)) == (before, before_wal)


def test_log_in_page_on_a_read_only_database_that_never_had_a_session(
    open_dir: Path, monkeypatch: pytest.MonkeyPatch, warm_app: None
) -> None:
    path = fixtures.build(open_dir / "street.duckdb")
    path.chmod(0o666)
    open_dir.chmod(0o555)
    with as_nobody(monkeypatch):
        at = dashboard(monkeypatch, path, cookie="a-stale-cookie-from-another-server")
    assert "数据库以只读方式打开" in warnings(at)
    assert not at.exception
    assert login_form(at)


def test_log_in_works_on_a_read_only_database(tmp_path: Path) -> None:
    """Sessions, tickets and failed log-ins move to memory when the file cannot take them."""
    from datetime import datetime

    from gridpulse import auth, sessions
    from gridpulse.store import Store

    path = fixtures.build(tmp_path / "street.duckdb")
    before = digest(path)
    store = Store(path, write=False)
    assert store.read_only
    now = datetime(2026, 3, 31, 9, 0)
    with pytest.raises(auth.AuthError):
        auth.authenticate(store, "head", "wrong", now, client="10.0.0.1")
    assert store.login_failures(["account:head"])["account:head"][0] == 1  # still counted
    user = auth.authenticate(store, "head", fixtures.PASSWORD, now, client="10.0.0.1")
    cookie = sessions.redeem_ticket(store, sessions.issue_ticket(store, user.username, now), now=now)
    assert cookie
    assert sessions.resolve(store, cookie, now).user == user
    sessions.end(store, cookie)
    assert sessions.resolve(store, cookie, now).user is None
    store.close()
    assert digest(path) == before


# ---- read-only file system (bind mount) ------------------------------------------------


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The street, with a logged-in user's session, seen through a read-only bind mount."""
    source, view = tmp_path / "rw", tmp_path / "ro"
    source.mkdir()
    view.mkdir()
    cookie = cookie_for(fixtures.build(source / "street.duckdb"))
    _mount_or_skip("--bind", str(source), str(view))
    r = subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], capture_output=True, text=True)
    if r.returncode != 0:
        _unmount(view)
        pytest.skip(f"read-only remount not allowed here: {r.stderr.strip()}")
    yield view / "street.duckdb", cookie
    forget_stores(str(view))
    _unmount(view)


def test_read_only_file_system(
    read_only_mount: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, cookie = read_only_mount
    before = digest(path)
    csv = exportfiles.write_csv(exportfiles.hotline(fixtures.case_rows()), tmp_path / "12345.csv")
    listing = cli("users", "list", "--db", str(path))
    assert listing.returncode == 0
    assert "admin" in listing.stdout
    add = cli("users", "add", "wang", "--role", "leader", "--password-stdin", "--db", str(path),
              stdin="a-long-password\n")  # fmt: skip
    assert add.returncode == 2
    says(add.stderr, "无法写入：所在磁盘（文件系统）是只读的")
    imported = cli("import", "cases", str(csv), "--db", str(path))
    assert imported.returncode == 2
    says(imported.stderr, "只读")
    report = cli("report", "--period", "2026-03..2026-03", "--out", str(tmp_path / "r.xlsx"), "--db", str(path))
    assert report.returncode == 0, report.stderr
    says(report.stderr, "审计记录未能保存")
    visitor = dashboard(monkeypatch, path)
    assert not visitor.exception
    assert login_form(visitor)
    assert "数据库以只读方式打开（所在磁盘（文件系统）是只读的）" in warnings(visitor)
    member = dashboard(monkeypatch, path, cookie)
    assert not member.exception
    assert not login_form(member)
    assert "数据库以只读方式打开" in warnings(member)
    store = cache.store()
    assert store.read_only
    assert auth.authenticate(store, "admin", fixtures.PASSWORD).username == "admin"
    with pytest.raises(ImportFileError, match="不能导入"):
        entry.import_upload(store, SimpleNamespace(username="admin"), "cases", "12345.csv", csv.read_bytes(),
                            crs=None)  # fmt: skip
    assert digest(path) == before
    forget_stores()
    monkeypatch.setattr(config, "DEFAULT_DB_PATH", path.with_name("gridpulse.duckdb"))  # first start, here
    monkeypatch.delenv("GRIDPULSE_DB")
    shows_error(apps.app(None), f"无法在 {path.parent} 中新建数据库：所在磁盘（文件系统）是只读的")


# ---- locked by another process ------------------------------------------------------------


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """The street held open for writing by another process (a running dashboard or CLI command)."""
    path = fixtures.build(tmp_path / "street.duckdb")
    code = f"""
        import duckdb, sys
        con = duckdb.connect({str(path)!r})
        print("holding", flush=True)
        sys.stdin.read()
    """
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        yield path
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_locked_database_cli(locked: Path) -> None:
    before = digest(locked)
    for args in (["users", "add", "wang", "--role", "leader", "--password-stdin"], ["users", "list"]):
        r = cli(*args, "--db", str(locked), stdin="a-long-password\n")
        assert r.returncode == 2
        says(r.stderr, "另一个程序正在写入此数据库", "（进程 ", "请等它结束后再试")
    assert digest(locked) == before


def test_locked_database_dashboard(locked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = digest(locked)
    at = dashboard(monkeypatch, locked)
    shows_error(at, "另一个程序正在写入此数据库")
    assert digest(locked) == before


# ---- a full disk ----------------------------------------------------------------------------


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The street, with a logged-in user's session, on a 16 MB file system that is then filled up."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    _mount_or_skip("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder))
    try:
        path = fixtures.build(folder / "street.duckdb")
        cookie = cookie_for(path)
        filler = _fill(folder)
        assert shutil.disk_usage(folder).free < 64 * 1024
        yield path, cookie
    finally:
        forget_stores(str(folder))
        with contextlib.suppress(NameError, OSError):
            filler.unlink()
        _unmount(folder)


def test_full_disk(full_disk: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, cookie = full_disk
    before = digest(path)
    csv = exportfiles.write_csv(exportfiles.hotline(fixtures.case_rows()), tmp_path / "12345.csv")
    add = cli("users", "add", "wang", "--role", "leader", "--password-stdin", "--db", str(path),
              stdin="a-long-password\n")  # fmt: skip
    assert add.returncode == 2
    says(add.stderr, "磁盘已满", "请清理")
    imported = cli("import", "cases", str(csv), "--db", str(path))
    assert imported.returncode == 2
    says(imported.stderr, "导入失败，数据库未改动", "磁盘已满")
    visitor = dashboard(monkeypatch, path)  # before log-in
    assert not visitor.exception
    assert login_form(visitor)
    assert "数据库所在磁盘只剩" in warnings(visitor)
    store = cache.store()
    assert auth.authenticate(store, "admin", fixtures.PASSWORD).username == "admin"  # its writes are not saved
    assert store.write_problem is not None
    assert store.write_problem.kind == "disk_full"
    member = dashboard(monkeypatch, path, cookie)  # after log-in
    assert not member.exception
    assert not login_form(member)
    assert "磁盘已满" in warnings(member)
    assert "数据库所在磁盘只剩" in warnings(member)
    with pytest.raises(ImportFileError, match="磁盘已满"):
        entry.import_upload(store, SimpleNamespace(username="admin"), "cases", "12345.csv", csv.read_bytes(),
                            crs=None)  # fmt: skip
    assert digest(path) == before
    assert not list(path.parent.glob("street.duckdb.import-*"))
    assert not any(dbfiles.upload_dir(path).glob("*"))
    forget_stores()
    monkeypatch.setattr(config, "DEFAULT_DB_PATH", path.with_name("gridpulse.duckdb"))  # first start, here
    monkeypatch.delenv("GRIDPULSE_DB")
    shows_error(apps.app(None), "磁盘已满")
    assert not list(path.parent.glob("gridpulse.duckdb*")), "no half-written demo street is left"


NO_SPACE = 'TransactionContext Error: Failed to commit: Could not write file "x.wal": No space left on device'


def test_full_disk_simulated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no small file system can be mounted: DuckDB's own error, raised on every write."""
    path = fixtures.build(tmp_path / "street.duckdb")

    def no_space(self: Store, sql: str, params: object = None) -> None:  # what the store raises for it
        raise translated(duckdb.TransactionException(NO_SPACE), self.path)

    monkeypatch.setattr(Store, "_exec", no_space)
    monkeypatch.setattr("sys.stdin", SimpleNamespace(readline=lambda: "a-long-password\n"))
    code, _, err = run_main(capsys, "users", "add", "wang", "--role", "leader", "--db", str(path), "--password-stdin")
    assert code == 2
    says(err, "磁盘已满，无法写入数据库", "请清理数据库所在磁盘的空间后重试")
    store = Store(path)  # the dashboard's: writes fail softly
    try:
        assert auth.authenticate(store, "admin", fixtures.PASSWORD).username == "admin"
        assert store.write_problem is not None
        assert "磁盘已满" in store.write_problem.message
    finally:
        store.close()
    found = dbopen.translate(duckdb.IOException("IO Error: No space left on device"), path)
    assert found is not None
    assert found.kind == "disk_full"


# ---- kill -9 in the middle of an import -------------------------------------------------------

KILL_ROWS = 100_000


@pytest.fixture(scope="module")
def big_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An empty real street (the demo street's grids) and a 12345 CSV of 100,000 rows for it."""
    folder = tmp_path_factory.mktemp("kill")
    bounds = bench_import.write_street(folder / "street.duckdb")
    bench_import.write_csv(folder / "12345.csv", KILL_ROWS, bounds)
    return folder / "street.duckdb", folder / "12345.csv"


def _kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and not ready():
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the import did not reach the moment to kill it")
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def _consistent_after_kill(path: Path) -> None:
    """It opens; the cases are unchanged or the import is complete, and the imports table agrees."""
    store = Store(path)
    try:
        cases = int(store.query("SELECT count(*) AS n FROM cases")["n"].iloc[0])
        imports = store.imports()
        audit = store.audit_log()
        if cases == 0:
            assert imports.empty
            assert "import" not in set(audit["action"])
        else:
            assert len(imports) == 1
            row = imports.iloc[0]
            assert int(row["inserted"]) == cases
            assert int(row["rows_read"]) == KILL_ROWS == int(row["inserted"]) + int(row["rejected"])
            assert list(audit["action"]).count("import") == 1
    finally:
        store.close()
    assert not list(path.parent.glob(f"{path.name}.import-*")), "no scratch file remains after the next open"


@pytest.mark.parametrize("moment", ["staging", "writing", "committed"])
def test_cli_import_killed_midway(big_import: tuple[Path, Path], tmp_path: Path, moment: str) -> None:
    template, csv = big_import
    path = tmp_path / "street.duckdb"
    shutil.copy(template, path)
    started = path.stat().st_mtime_ns
    proc = subprocess.Popen([sys.executable, "-m", "gridpulse", "import", "cases", str(csv), "--db", str(path)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    if moment == "staging":  # rows are being staged in the scratch file: the first progress line
        assert proc.stderr is not None
        _kill_when(proc, lambda: "已读取" in proc.stderr.readline())
        assert list(tmp_path.glob("street.duckdb.import-*.tmp")), "killed with its scratch file on disk"
    elif moment == "writing":  # the import's transaction writes into the database file
        _kill_when(proc, lambda: path.stat().st_mtime_ns != started)
    else:  # committed, its scratch file removed, the checkpoint (maybe) under way

        def committed(seen: list[bool] = []) -> bool:  # noqa: B006 - remembers across polls
            scratch = bool(list(tmp_path.glob("street.duckdb.import-*.tmp")))
            seen.append(scratch)
            return any(seen) and not scratch

        _kill_when(proc, committed)
    _consistent_after_kill(path)


def test_page_import_killed_midway(big_import: tuple[Path, Path], tmp_path: Path) -> None:
    """The admin page's import (the upload copy and the scratch file) in a dashboard process killed -9."""
    template, csv = big_import
    path = tmp_path / "street.duckdb"
    shutil.copy(template, path)
    code = f"""
        from pathlib import Path
        from types import SimpleNamespace
        from gridpulse.ingest import entry
        from gridpulse.store import Store
        store = Store({str(path)!r})
        entry.import_upload(store, SimpleNamespace(username="admin"), "cases", "12345.csv",
                            Path({str(csv)!r}).read_bytes(), crs=None)
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _kill_when(proc, lambda: bool(list(tmp_path.glob("street.duckdb.import-*.tmp"))))
    uploads = dbfiles.upload_dir(path)
    left = list(uploads.iterdir())
    assert len(left) == 1, "the upload copy stayed behind"
    assert left[0].stat().st_size == csv.stat().st_size
    assert uploads.stat().st_mode & 0o777 == 0o700
    assert left[0].stat().st_mode & 0o777 == 0o600
    old = time.time() - 2 * dbfiles.UPLOAD_MIN_AGE_S
    os.utime(left[0], (old, old))  # the next start comes later
    _consistent_after_kill(path)
    assert not list(uploads.iterdir()), "the next open removed the upload copy"


# ---- leftovers and uploads ----------------------------------------------------------------------


def test_leftovers_removed_only_when_no_one_uses_them(tmp_path: Path) -> None:
    path = fixtures.build(tmp_path / "street.duckdb")
    stale = tmp_path / "street.duckdb.import-0123abcd.tmp"
    duckdb.connect(str(stale)).close()
    stale_wal = dbopen.wal_path(stale)
    stale_wal.write_bytes(b"x")
    orphan_wal = tmp_path / "street.duckdb.import-deadbeef.tmp.wal"
    orphan_wal.write_bytes(b"x")
    other = tmp_path / "other.duckdb.import-0123abcd.tmp"  # another database's: not ours to touch
    other.write_bytes(b"x")
    busy = tmp_path / "street.duckdb.import-feedface.tmp"  # a running import's, in another process
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(busy)!r}); print('ok', flush=True); "
                               "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    uploads = dbfiles.upload_dir(path)
    uploads.mkdir(mode=0o700)
    old_upload, new_upload = uploads / "upload-old.csv", uploads / "upload-new.csv"
    old_upload.write_bytes(b"residents' data")
    new_upload.write_bytes(b"being written now")
    old = time.time() - 2 * dbfiles.UPLOAD_MIN_AGE_S
    os.utime(old_upload, (old, old))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ok"
        Store(path, write=False).close()  # read-only: removes nothing
        assert stale.exists()
        assert old_upload.exists()
        Store(path).close()
        assert not stale.exists()
        assert not stale_wal.exists()
        assert not orphan_wal.exists()
        assert busy.exists()
        assert other.exists()
        assert not old_upload.exists()
        assert new_upload.exists()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_upload_copies_live_in_one_private_folder_and_go(tmp_path: Path) -> None:
    path = fixtures.build(tmp_path / "street.duckdb")
    csv = exportfiles.write_csv(exportfiles.hotline(fixtures.case_rows()), tmp_path / "12345.csv")
    store = Store(path)
    admin = SimpleNamespace(username="admin")
    seen: list[Path] = []
    original = run.import_file
    try:

        def spy(store: Store, kind: str, upload: Path, **kw: object) -> object:
            seen.append(upload)
            assert upload.read_bytes() == csv.read_bytes()
            return original(store, kind, upload, **kw)  # type: ignore[arg-type]

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(run, "import_file", spy)
            summary = entry.import_upload(store, admin, "cases", "12345.csv", csv.read_bytes(), crs=None)
        assert summary.record["rows_read"] > 0
        assert seen
        assert seen[0].parent == dbfiles.upload_dir(path)
        assert dbfiles.upload_dir(path).stat().st_mode & 0o777 == 0o700
        assert not list(dbfiles.upload_dir(path).iterdir()), "removed after the import"
        with pytest.raises(ImportFileError):
            entry.import_upload(store, admin, "cases", "bad.csv", b"\x00\x01\x02 not a table", crs=None)
        assert not list(dbfiles.upload_dir(path).iterdir()), "removed after a failed import too"
    finally:
        store.close()


# ---- failed and refused imports are audited ---------------------------------------------------------


def _failed_imports(path: Path) -> pd.DataFrame:
    store = Store(path)
    try:
        log = store.audit_log()
    finally:
        store.close()
    return log[log["action"] == "import_failed"]


def test_failed_cli_import_is_audited(tmp_path: Path) -> None:
    path = fixtures.build(tmp_path / "street.duckdb")
    bad = tmp_path / "无列.csv"
    bad.write_text("甲,乙\n1,2\n", encoding="utf-8")
    r = cli("import", "cases", str(bad), "--db", str(path))
    assert r.returncode == 2
    says(r.stderr, "导入失败，数据库未改动")
    failed = _failed_imports(path)
    assert len(failed) == 1
    row = failed.iloc[0]
    assert row["username"] == "cli"
    assert "无列.csv" in row["detail"]
    reason = r.stderr.strip().removeprefix("导入失败，数据库未改动：")
    assert reason[:20] in row["detail"]


def test_failed_page_import_is_audited(tmp_path: Path) -> None:
    path = fixtures.build(tmp_path / "street.duckdb")
    store = Store(path)
    try:
        with pytest.raises(ImportFileError) as err:
            entry.import_upload(store, SimpleNamespace(username="admin"), "cases", "坏.csv", b"", crs=None)
        with pytest.raises(ImportFileError):
            entry.import_upload(store, SimpleNamespace(username="admin"), "grids", "坏.geojson", b"{}", crs=None)
    finally:
        store.close()
    failed = _failed_imports(path)
    assert len(failed) == 2
    assert set(failed["username"]) == {"admin"}
    assert any(str(err.value)[:20] in d and "坏.csv" in d for d in failed["detail"])
    assert any(d.startswith("grids 坏.geojson") for d in failed["detail"])


def test_refused_demo_import_is_audited(tmp_path: Path) -> None:
    def as_demo(tables: dict[str, object]) -> None:
        tables["meta"] = {**tables["meta"], "source": "demo"}  # type: ignore[dict-item]

    path = fixtures.build(tmp_path / "demo.duckdb", as_demo)
    csv = exportfiles.write_csv(exportfiles.hotline(fixtures.case_rows()), tmp_path / "12345.csv")
    r = cli("import", "cases", str(csv), "--db", str(path))
    assert r.returncode == 2
    says(r.stderr, "是演示数据库，不接收真实数据")
    failed = _failed_imports(path)
    assert len(failed) == 1
    assert "演示数据库" in failed.iloc[0]["detail"]


def test_import_into_a_read_only_store_is_refused(tmp_path: Path) -> None:
    path = fixtures.build(tmp_path / "street.duckdb")
    before = digest(path)
    csv = exportfiles.write_csv(exportfiles.hotline(fixtures.case_rows()), tmp_path / "12345.csv")
    store = Store(path, write=False)
    try:
        with pytest.raises(ImportFileError, match="数据库以只读方式打开（按调用要求），不能导入"):
            run.import_file(store, "cases", csv)
        store.audit(fixtures.AS_OF, "x", "export", "")  # fails softly: nothing raised, the reason kept
        assert store.write_problem is not None
        assert store.write_problem.kind == "read_only"
    finally:
        store.close()
    assert digest(path) == before


# ---- the translation itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (duckdb.IOException('IO Error: Could not set lock on file "/d/s.duckdb": Conflicting lock is held in '
                            "/usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs"), "locked",
         "另一个程序正在写入此数据库 /d/s.duckdb（进程 4242：python3.11）"),
        (duckdb.IOException('IO Error: The file "/d/s.duckdb" exists, but it is not a valid DuckDB database file!'),
         "not_duckdb", "不是 GridPulse 的数据库"),
        (duckdb.Error("Corrupt database file: computed checksum 1 does not match stored checksum 2 in block"),
         "corrupt", "已损坏"),
        (duckdb.IOException('IO Error: Cannot open file "/d/s.duckdb": Read-only file system'), "read_only",
         "所在磁盘（文件系统）是只读的"),
        (duckdb.IOException('IO Error: Cannot open file "/d/s.duckdb": Permission denied'), "permission",
         "没有权限读取数据库"),
        (duckdb.TransactionException(NO_SPACE), "disk_full", "磁盘已满"),
        (OSError(28, "No space left on device"), "disk_full", "磁盘已满"),
        (PermissionError(13, "Permission denied"), "permission", "没有权限"),
    ],
)  # fmt: skip
def test_translate(error: BaseException, kind: str, text: str) -> None:
    found = dbopen.translate(error, Path("/d/s.duckdb"))
    assert found is not None
    assert found.kind == kind
    assert text in found.message
    assert found.hint
    assert dbopen.translate(ValueError("not ours"), Path("/d/s.duckdb")) is None


def test_log_in_on_a_read_only_database_from_before_sessions_existed(tmp_path: Path) -> None:
    from gridpulse import auth, sessions

    path = fixtures.build(tmp_path / "old.duckdb")
    con = duckdb.connect(str(path))
    for table in ("sessions", "login_tickets", "login_failures"):
        con.execute(f"DROP TABLE {table}")
    con.execute("DELETE FROM meta WHERE key = 'session_secret'")
    con.close()
    before = digest(path)
    store = Store(path, write=False)
    stranger = sessions.resolve(store, sessions._signer(store).sign("made-up-id").decode())
    assert stranger.user is None
    assert stranger.reason == "ended"
    user = auth.authenticate(store, "sec", fixtures.PASSWORD, client="10.0.0.1")
    cookie = sessions.redeem_ticket(store, sessions.issue_ticket(store, user.username))
    assert sessions.resolve(store, cookie).user == user
    store.close()
    assert digest(path) == before
