"""Opening the database, and saying in Chinese what is wrong when it cannot be opened or written.

Every DuckDB or OS error met while opening (missing, unreadable, read-only, locked by another
program, damaged, not a DuckDB file) and the write errors met later (a full disk, a read-only
file) are translated here, in one place, into a ``DatabaseError`` with a message and a hint.

Nothing here ever writes to, repairs or removes the user's database file (our own leftovers
beside it are gridpulse/dbfiles.py's).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from gridpulse.dbfiles import free_text, wal_path
from gridpulse.strings import t

log = logging.getLogger(__name__)

__all__ = ["DatabaseError", "creation_problem", "missing", "open_database", "problem", "soft_writes", "translate",
           "wal_path"]  # fmt: skip

MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file
MAGIC_OFFSET = 8

# What DuckDB says, and what it means (checked in this order).
_LOCKED = ("Could not set lock on file", "Conflicting lock")
_SAME_PROCESS = ("different configuration than existing connections",)
_NOT_DUCKDB = ("not a valid DuckDB database file", "Failed to download extension", "sqlite_scanner")
_DISK_FULL = ("No space left on device", "Disk quota exceeded")
_READ_ONLY = ("Read-only file system", "read-only mode", "attached in read-only")
_PERMISSION = ("Permission denied", "Operation not permitted")
_CORRUPT = (
    "Corrupt database file",
    "does not match stored checksum",
    "Could not read enough bytes",
    "Could not read from file",
    "Serialization Error",
    "Failed to deserialize",
    "Input/output error",
)
_INVALIDATED = ("database has been invalidated",)
_HELD_BY = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class DatabaseError(Exception):
    """The database cannot be opened or written: ``message`` says what is wrong, ``hint`` what to do.

    ``kind``: missing | not_file | permission | wal_permission | locked | in_use | empty | not_duckdb |
    corrupt | read_only | disk_full | create_failed | invalidated | io | other.
    """

    def __init__(self, kind: str, path: Path | str, message: str, hint: str, detail: str = "") -> None:
        super().__init__(f"{message}{hint}")
        self.kind = kind
        self.path = Path(path)
        self.message = message
        self.hint = hint
        self.detail = detail


def problem(kind: str, path: Path | str, detail: str = "", **kw: object) -> DatabaseError:
    """The ``DatabaseError`` of ``kind`` for ``path``, with its texts from ``strings``."""
    path = Path(path)
    fields: dict[str, object] = {"path": path, "folder": path.parent, "wal": wal_path(path).name, "detail": detail,
                                 "who": "", "reason": "", **kw}  # fmt: skip
    if kind == "disk_full" and "free" not in kw:
        fields["free"] = free_text(path)
    return DatabaseError(kind, path, t(f"dberr_{kind}", **fields), t(f"dberr_{kind}_hint", **fields), detail)


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:300]


def translate(err: BaseException, path: Path | str) -> DatabaseError | None:
    """The ``DatabaseError`` an OS or DuckDB error stands for, or None when it is none of ours."""
    if isinstance(err, DatabaseError):
        return err
    path = Path(path)
    if isinstance(err, OSError) and not isinstance(err, duckdb.Error):
        return _from_errno(err, path)
    if not isinstance(err, duckdb.Error):
        return None
    text = str(err)
    if any(s in text for s in _LOCKED):
        held = _HELD_BY.search(text)
        who = t("dberr_locked_by", pid=held["pid"], program=Path(held["program"]).name) if held else ""
        return problem("locked", path, _short(err), who=who)
    if any(s in text for s in _SAME_PROCESS):
        return problem("in_use", path, _short(err))
    if any(s in text for s in _NOT_DUCKDB):
        return problem("not_duckdb", path, _short(err))
    if any(s in text for s in _DISK_FULL):
        return problem("disk_full", path, _short(err), free=free_text(path))
    if any(s in text for s in _READ_ONLY):
        return problem("read_only", path, _short(err), reason=_write_reason(text, path))
    if any(s in text for s in _PERMISSION):
        if isinstance(err, duckdb.TransactionException):  # a commit that could not write its log
            return problem("read_only", path, _short(err), reason=_write_reason(text, path))
        return problem("wal_permission" if ".wal" in text else "permission", path, _short(err))
    if any(s in text for s in _INVALIDATED):
        return problem("invalidated", path, _short(err))
    if any(s in text for s in _CORRUPT):
        return problem("corrupt", path, _short(err))
    if isinstance(err, duckdb.IOException):
        return problem("io", path, _short(err))
    return None


def _from_errno(err: OSError, path: Path) -> DatabaseError:
    code = err.errno
    if code in (errno.ENOENT, errno.ENOTDIR):
        return problem("missing", path, _short(err))
    if code == errno.EISDIR:
        return problem("not_file", path, _short(err))
    if code in (errno.EACCES, errno.EPERM):
        return problem("permission", path, _short(err))
    if code == errno.EROFS:
        return problem("read_only", path, _short(err), reason=t("dbro_filesystem"))
    if code in (errno.ENOSPC, errno.EDQUOT):
        return problem("disk_full", path, _short(err), free=free_text(path))
    if code == errno.EIO:
        return problem("corrupt", path, _short(err))
    return problem("io", path, _short(err))


def _write_reason(text: str, path: Path) -> str:
    if "Read-only file system" in text:
        return t("dbro_filesystem")
    if ".wal" in text:
        wal = wal_path(path)
        return t("dbro_wal", wal=wal.name) if wal.exists() else t("dbro_folder", folder=path.parent)
    if "read-only mode" in text or "attached in read-only" in text:
        return t("dbro_opened_read_only")
    return t("dbro_file")


def missing(path: Path) -> bool:
    """True only when nothing at all is at ``path``: not a file, not a broken link, not a folder.

    A file that exists but cannot be read is not missing (``DatabaseError``, never a new database).
    """
    try:
        os.lstat(path)
    except FileNotFoundError:
        return True
    except NotADirectoryError as err:
        raise problem("missing", path, _short(err)) from err
    except OSError as err:  # a folder on the way that may not be searched
        raise _from_errno(err, path) from err
    return False


def check_file(path: Path) -> None:
    """Raise ``DatabaseError`` unless ``path`` is a readable file that starts like a DuckDB database.

    Checked here, not by DuckDB: DuckDB takes another database format (SQLite) for something to
    download an extension for, and would open an empty file as a new database.
    """
    try:
        info = os.stat(path)
    except OSError as err:
        raise _from_errno(err, path) from err
    if stat.S_ISDIR(info.st_mode):
        raise problem("not_file", path)
    if not stat.S_ISREG(info.st_mode):
        raise problem("not_duckdb", path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(MAGIC_OFFSET + len(MAGIC))
    except OSError as err:
        raise _from_errno(err, path) from err
    if not head:
        raise problem("empty", path)
    if head[MAGIC_OFFSET:] != MAGIC:
        raise problem("not_duckdb", path)


def why_read_only(path: Path) -> str | None:
    """Why the database cannot be written here (a Chinese reason), or None when it can.

    DuckDB writes the file, a log beside it (``<db>.wal``) and, for imports, scratch files
    beside it: all three are tried, without changing the database.
    """
    try:
        with open(path, "r+b"):
            pass
    except OSError as err:
        return t("dbro_filesystem") if err.errno == errno.EROFS else t("dbro_file")
    wal = wal_path(path)
    if wal.exists():
        try:
            with open(wal, "r+b"):
                pass
        except OSError:
            return t("dbro_wal", wal=wal.name)
    probe = path.with_name(f".{path.name}.probe-{uuid.uuid4().hex}")
    try:
        probe.touch(exist_ok=False)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return None  # writable, only full: said by the low-disk warning and the failing writes
        return t("dbro_filesystem") if err.errno == errno.EROFS else t("dbro_folder", folder=path.parent)
    probe.unlink(missing_ok=True)
    return None


# ---- opening -----------------------------------------------------------------------


def connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as err:
        raise (translate(err, path) or problem("io", path, _short(err))) from err


def verify(path: Path) -> None:
    """Read every row of every table once, so a damaged block is found now, not by a page later.

    On a connection of its own, closed at the end: nothing is written, and the rows read are
    not kept in memory. Skipped when this process has the file open already (it was checked then).
    """
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as err:
        if any(s in str(err) for s in _SAME_PROCESS):
            return
        raise (translate(err, path) or problem("corrupt", path, _short(err))) from err
    try:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary"
        ).fetchall()
        for (table,) in tables:
            quoted = '"' + str(table).replace('"', '""') + '"'
            con.execute(f"SELECT sum(hash(r)) FROM {quoted} r").fetchall()
    except duckdb.Error as err:
        raise (translate(err, path) or problem("corrupt", path, _short(err))) from err
    finally:
        con.close()


def open_database(path: Path, write: bool | None) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """A connection to ``path`` and why it is read-only (None: writable).

    ``write``: True must write (else ``DatabaseError``), False reads only, None writes when it
    can and otherwise falls back to reading (the dashboard: log-in and pages still work).
    """
    check_file(path)
    verify(path)
    reason = t("dbro_asked") if write is False else why_read_only(path)
    if reason is not None and write:
        raise problem("read_only", path, reason=reason)
    if reason is None:
        try:
            return connect(path, read_only=False), None
        except DatabaseError as err:
            if write or err.kind not in ("permission", "read_only"):
                raise
            reason = _write_reason(err.detail, path)
            log.warning("database %s opened read-only: %s", path, err.detail)
    return connect(path, read_only=True), reason


# ---- writes that may fail softly ---------------------------------------------------

SOFT_KINDS = ("read_only", "disk_full", "permission", "io")


def soft_writes(owner: Any, write: Callable[..., None]) -> Callable[..., None]:
    """``write`` that logs a warning instead of raising when the database cannot be written.

    For the dashboard: an audit line or a log-in counter that cannot be saved must not stop
    a page that only reads. The failure is kept on ``owner.write_problem`` (shown as a
    warning); the next write that works clears it. Other errors are raised as before.
    """

    def soft(*args: Any, **kwargs: Any) -> None:
        try:
            write(*args, **kwargs)
        except (duckdb.Error, DatabaseError) as err:  # the store translates; a raw DuckDB error may still come
            found = err if isinstance(err, DatabaseError) else translate(err, owner.path)
            if found is None or found.kind not in SOFT_KINDS:
                raise
            if getattr(owner, "read_only_reason", None):
                found = problem("read_only", owner.path, found.detail, reason=owner.read_only_reason)
            owner.write_problem = found
            log.warning("write to %s not saved: %s", owner.path, found.detail or found.message)
        else:
            owner.write_problem = None

    return soft


def creation_problem(err: BaseException, path: Path) -> DatabaseError:
    """Why a new database (the demo street, an import's new street) could not be made at ``path``."""
    found = translate(err, path)
    if found is not None and found.kind == "disk_full":
        return found
    if found is not None and found.kind in ("permission", "read_only", "missing"):
        reason = t("dbro_filesystem") if found.kind == "read_only" and "Read-only" in found.detail else None
        return problem("create_failed", path, found.detail, reason=reason or t("dbro_folder", folder=path.parent))
    return problem("create_failed", path, _short(err), reason=_short(err))
