"""python -m gridpulse: demo and users commands, with Chinese messages on bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gridpulse import auth
from gridpulse.store import Store
from tests import fixtures

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gridpulse", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return fixtures.build(tmp_path / "street.duckdb")


def test_users_lifecycle(db: Path) -> None:
    r = cli("users", "add", "wang", "--name", "王网格长", "--role", "grid_head",
            "--grid", fixtures.code(3), "--password-stdin", "--db", str(db), stdin="a-long-password\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "已添加用户 wang" in r.stdout
    listing = cli("users", "list", "--db", str(db)).stdout
    assert "wang" in listing
    assert "password_hash" not in listing
    s = Store(db)
    assert auth.authenticate(s, "wang", "a-long-password").scope.grids == (fixtures.code(3),)
    s.close()
    assert (
        cli("users", "passwd", "wang", "--password-stdin", "--db", str(db), stdin="another-password\n").returncode == 0
    )
    assert cli("users", "disable", "wang", "--db", str(db)).returncode == 0
    s = Store(db)
    with pytest.raises(auth.AuthError, match="已停用"):
        auth.authenticate(s, "wang", "another-password")
    assert "user_disable" in s.audit_log()["action"].tolist()
    s.close()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "add", "x", "--role", "grid_head", "--password-stdin"], "a-long-password\n", "角色与范围不符"),
        (["users", "add", "x", "--role", "leader", "--password-stdin"], "short\n", "密码至少需要 8 位"),
        (["users", "add", "leader", "--role", "leader", "--password-stdin"], "a-long-password\n", "已存在"),
        (["users", "disable", "nobody"], "", "不存在"),
    ],
)
def test_users_bad_input(db: Path, args: list[str], stdin: str, message: str) -> None:
    r = cli(*args, "--db", str(db), stdin=stdin)
    assert r.returncode == 2
    assert message in r.stderr


def test_missing_database_is_explained(tmp_path: Path) -> None:
    r = cli("users", "list", "--db", str(tmp_path / "none.duckdb"))
    assert r.returncode == 2
    assert "找不到数据库" in r.stderr


def test_demo_command(tmp_path: Path) -> None:
    path = tmp_path / "d.duckdb"
    r = cli("demo", "--cases", "2000", "--seed", "3", "--db", str(path))
    assert r.returncode == 0, r.stderr
    shown = re.search(r"诉求 (\d+) 件（其中研判预警的演示事件 (\d+) 件", r.stdout)
    assert shown, r.stdout
    assert int(shown[1]) - int(shown[2]) == 2000  # the ordinary cases asked for, plus the planted ones
    again = cli("demo", "--db", str(path))
    assert again.returncode == 1
    assert "--force" in again.stderr
    s = Store(path)
    assert s.is_demo()
    assert {u for u in s.users()["username"]} == {"leader", "secretary", "gridhead", "liaison", "admin"}


def test_a_command_line_import_yields_the_cpu_but_the_dashboard_never_lowers_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gridpulse import __main__ as cli
    from gridpulse import config, serving

    asked: list[int] = []
    monkeypatch.setattr(cli.os, "nice", asked.append)
    cli._yield_cpu()
    assert config.IMPORT_NICE > 0
    assert asked == [config.IMPORT_NICE]
    token = serving.served_store.set(object())  # the dashboard runs the command for a caller
    try:
        cli._yield_cpu()
    finally:
        serving.served_store.reset(token)
    assert asked == [config.IMPORT_NICE]
