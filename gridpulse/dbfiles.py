"""Files beside the database: free space, leftovers of killed imports, private upload copies.

Nothing here touches the database file itself. What it removes are our own leftovers beside
it: scratch databases of imports (``<db>.import-<uuid>.tmp``) and uploaded copies
(``<db folder>/.uploads/``, which hold residents' data) that a killed process could not remove.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import logging
import shutil
import time
from pathlib import Path

from gridpulse.strings import t

log = logging.getLogger("gridpulse.dbopen")

LOW_DISK_BYTES = 100 * 1024 * 1024  # below this, the dashboard warns before writes start failing
UPLOADS = ".uploads"
UPLOAD_MIN_AGE_S = 60  # an unlocked upload copy younger than this may be one being created right now
SCRATCH_MAX_AGE_S = 3600  # without /proc/locks, scratch files older than this are taken for leftovers


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


# ---- before DuckDB touches the file ------------------------------------------------


# ---- free space --------------------------------------------------------------------


def free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path.parent if not path.is_dir() else path).free
    except OSError:
        return None


def free_text(path: Path) -> str:
    free = free_bytes(path)
    return t("size_unknown") if free is None else size_text(free)


def size_text(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return t("size_bytes", n=n)


def low_disk(path: Path) -> str | None:
    """The free space left beside the database, as text, when it is about to run out; else None."""
    free = free_bytes(path)
    return size_text(free) if free is not None and free < LOW_DISK_BYTES else None


# ---- leftovers of killed imports ----------------------------------------------------


def _locked_inodes() -> set[int] | None:
    """Inode numbers of every file some process holds a lock on; None when unknown.

    Read from /proc/locks rather than by trying a lock: opening and closing a file that this
    process holds a POSIX lock on would drop that lock (DuckDB's, on a running import's scratch).
    Matched by inode alone (device numbers differ between stat and /proc/locks on some file
    systems): a stranger's lock on the same number only keeps a leftover a little longer.
    """
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    out: set[int] = set()
    for line in text.splitlines():
        for field in line.split():
            parts = field.split(":")
            if len(parts) == 3 and parts[2].isdigit():
                out.add(int(parts[2]))
    return out


def _in_use(path: Path, locked: set[int] | None, now: float) -> bool:
    try:
        info = path.stat()
    except OSError:
        return True
    if locked is None:
        return now - info.st_mtime < SCRATCH_MAX_AGE_S
    return info.st_ino in locked


def remove_leftovers(path: Path) -> list[Path]:
    """Remove scratch files of imports and uploaded copies that no running import uses; returns them.

    Scratch databases (``<db>.import-<uuid>.tmp`` and their ``.wal``) are kept while a process
    holds DuckDB's lock on them; uploaded copies while their import holds a lock on them (or for
    a minute after they were written). They hold residents' data: they do not stay behind.
    """
    removed: list[Path] = []
    now = time.time()
    locked = _locked_inodes()
    pattern = f"{glob.escape(path.name)}.import-*.tmp"
    for scratch in sorted(path.parent.glob(pattern)):
        if _in_use(scratch, locked, now):
            continue
        for part in (scratch, wal_path(scratch)):
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
                removed.append(part)
    for orphan in sorted(path.parent.glob(pattern + ".wal")):  # a log whose scratch is gone
        if not orphan.with_suffix("").exists() and not _in_use(orphan, locked, now):
            with contextlib.suppress(FileNotFoundError):
                orphan.unlink()
                removed.append(orphan)
    removed += _clean_uploads(upload_dir(path), now)
    if removed:
        log.warning("removed leftovers of interrupted imports: %s", ", ".join(p.name for p in removed))
    return removed


# ---- uploaded files ----------------------------------------------------------------


def upload_dir(path: Path) -> Path:
    """The one private folder (0700) for uploaded copies, beside the database."""
    return path.parent / UPLOADS


def _clean_uploads(folder: Path, now: float) -> list[Path]:
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for item in sorted(folder.iterdir()):
        try:
            if not item.is_file() or now - item.stat().st_mtime < UPLOAD_MIN_AGE_S:
                continue
            with open(item, "rb") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by its import while it runs
            item.unlink()
            removed.append(item)
        except OSError:
            continue
    return removed
