"""Admin commands while the dashboard serves the embedded database (one machine, one writer).

DuckDB lets one process write a file, and while the dashboard has it open no other process may
even read it. So the command-line tools do not fight the dashboard for the file: they ask it.

- The server, when it starts, writes ``<database>.serving`` beside the database (mode 0600): its
  port and a random token. Only the account that runs the dashboard (and root) can read it,
  the same accounts that could open the database file itself.
- A command that finds the database locked and this file present sends its arguments to
  ``POST /gp/admin`` on the loopback address with the token; the server runs the very same
  command on its own open store, one at a time, and returns what it printed and its exit code.
  Audit lines are written by the one process that writes the file, so none is lost.
- Paths in the arguments are made absolute on the caller's side (the server reads and writes
  them as its own account); a password is read on the caller's side and sent in the request.
"""

from __future__ import annotations

import contextlib
import contextvars
import hmac
import io
import ipaddress
import json
import os
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADMIN_PATH = "/gp/admin"
TOKEN_HEADER = "X-GridPulse-Admin"
# Commands the server runs for a caller; ``demo`` would replace the file under everyone's feet.
SERVED_COMMANDS = frozenset({"users", "import", "report", "rejects", "targets", "backup"})
# Options whose value is a file the server reads or writes.
PATH_OPTIONS = frozenset({"--out", "--mapping", "--save-mapping", "--db", "--out-dir"})
TIMEOUT_S = 3600  # an import of a big export may take minutes

_run_lock = threading.Lock()  # one command at a time: they share the process's stdout
# The store a served command uses instead of opening the file (see ``__main__._open_store``).
served_store: contextvars.ContextVar[Any] = contextvars.ContextVar("served_store", default=None)
served_password: contextvars.ContextVar[str | None] = contextvars.ContextVar("served_password", default=None)


def info_path(db: Path) -> Path:
    return db.with_name(db.name + ".serving")


@dataclass(frozen=True)
class Serving:
    port: int
    host: str
    token: str
    pid: int


def announce(db: Path, port: int, host: str) -> Serving:
    """Write ``<database>.serving`` (0600) for this server process; removed again when it exits."""
    info = Serving(port=port, host=host, token=secrets.token_urlsafe(32), pid=os.getpid())
    path = info_path(db)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info.__dict__, fh)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return info


def withdraw(db: Path, info: Serving) -> None:
    """Remove the file if it is still ours (a newer server may have replaced it)."""
    with contextlib.suppress(OSError):
        if read(db) == info:
            info_path(db).unlink()


def read(db: Path) -> Serving | None:
    """The serving dashboard's announcement for ``db``; None without one, or when its process is gone.

    A server stopped by a signal cannot remove its file; such a file names a process that no longer runs.
    """
    try:
        raw = json.loads(info_path(db).read_text(encoding="utf-8"))
        info = Serving(int(raw["port"]), str(raw["host"]), str(raw["token"]), int(raw["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _alive(info.pid) else None


def _alive(pid: int) -> bool:
    if os.name == "nt":  # signal 0 there is CTRL_C_EVENT: never send it; a dead server is found by connecting
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another account's process (or a system without the signal): assume alive
        return True
    return True


def client_host(host: str) -> str:
    """Where a caller on this machine reaches a server listening on ``host`` (all interfaces: loopback)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


# ---- the caller's side -----------------------------------------------------------


def absolute_paths(argv: list[str], cwd: Path | None = None) -> list[str]:
    """The arguments with every file named made absolute (the server's working folder is not the caller's).

    A report without ``--out`` is written to the caller's folder (``--out-dir``).
    """
    here = cwd or Path.cwd()

    def absolute(arg: str) -> str:
        return str((here / Path(arg).expanduser()).resolve())

    out = list(argv)
    for i in range(1, len(out)):
        if out[i - 1] in PATH_OPTIONS:
            out[i] = absolute(out[i])
    if out[:1] == ["import"] and len(out) > 2:
        out[2] = absolute(out[2])
    if out[:2] == ["targets", "set"] and len(out) > 2 and not out[2].startswith("-"):
        out[2] = absolute(out[2])
    if out[:1] == ["report"] and "--out" not in out:
        out += ["--out-dir", str(here.resolve())]
    return out


class NotServingError(Exception):
    """No dashboard answered for this database (the lock is someone else's)."""


def ask(info: Serving, argv: list[str], password: str | None) -> tuple[int, str, str]:
    """Run ``argv`` in the serving dashboard: (exit code, what it printed, what it printed as errors)."""
    body = json.dumps({"argv": absolute_paths(argv), "password": password}).encode("utf-8")
    host = client_host(info.host)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{info.port}{ADMIN_PATH}"
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", TOKEN_HEADER: info.token}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise NotServingError(str(err)) from err
    return int(answer["rc"]), str(answer["stdout"]), str(answer["stderr"])


# ---- the server's side -----------------------------------------------------------


def allowed(client: str | None, token: str | None, info: Serving | None) -> bool:
    """Only a caller on this machine with the token of this server's file."""
    if info is None or not token or not is_loopback(client):
        return False
    return hmac.compare_digest(token.encode("utf-8"), info.token.encode("utf-8"))


def is_loopback(host: str | None) -> bool:
    """127.0.0.1, ::1, and 127.0.0.1 as an IPv6 listener reports it (::ffff:127.0.0.1)."""
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def run_here(
    main: Callable[[list[str]], int], store: Any, argv: list[str], password: str | None
) -> tuple[int, str, str]:
    """Run ``main`` (``python -m gridpulse``'s) on this process's open store; (exit code, stdout, stderr)."""
    from gridpulse.strings import t

    if not argv or argv[0] not in SERVED_COMMANDS:
        return 2, "", t("serving_refused", command=argv[0] if argv else "")
    argv = _without_db(argv)
    with _run_lock, _captured() as (out, err):
        store_token = served_store.set(store)
        password_token = served_password.set(password)
        try:
            try:
                rc = main(argv)
            except SystemExit as stop:  # argparse's own errors
                rc = int(stop.code or 0) if isinstance(stop.code, int) else 2
        finally:
            served_store.reset(store_token)
            served_password.reset(password_token)
    return rc, out.getvalue(), err.getvalue()


def _without_db(argv: list[str]) -> list[str]:
    """The served database is this server's: a ``--db`` naming it is dropped."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--db":
            skip = True
            continue
        if arg.startswith("--db="):
            continue
        out.append(arg)
    return out


# ---- this process as a server ------------------------------------------------------

_listening: tuple[int, str] | None = None  # (port, host) when this process is the dashboard's server
_announced: dict[str, Serving] = {}


def listening(port: int, host: str) -> None:
    """Called by server.py: this process serves the dashboard on ``port``."""
    global _listening
    _listening = (port, host)


def opened(db: Path) -> None:
    """Called when this process has opened ``db`` for writing: announce it to the command-line tools."""
    if _listening is None or str(db) in _announced:
        return
    import atexit

    try:
        info = announce(db, *_listening)
    except OSError:  # a read-only folder: the tools then say the database is in use, as before
        return
    _announced[str(db)] = info
    atexit.register(withdraw, db, info)


def mine(db: Path) -> Serving | None:
    """This process's announcement for ``db`` (what a caller's token is checked against)."""
    return _announced.get(str(db))
