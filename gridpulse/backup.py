"""Backup and restore of a street: ``python -m gridpulse backup --out F`` and ``restore F``.

PostgreSQL: ``pg_dump`` in its custom format, and ``pg_restore`` in one transaction (Debian's
postgresql-client). The embedded DuckDB file: a consistent copy made through DuckDB
(``COPY FROM DATABASE``), restored by putting the copy in the file's place while no dashboard runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gridpulse import auth, dbopen
from gridpulse import store as store_pkg
from gridpulse.strings import t


def _schema(url: str) -> str | None:
    """The schema a URL's ``options=-csearch_path=…`` names (the tests' streets), else None (the whole database)."""
    for option in parse_qs(urlsplit(url).query).get("options", []):
        if option.startswith("-csearch_path="):
            return option.split("=", 1)[1]
    return None


def _run(argv: list[str]) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        raise auth.AuthError(t("backup_tool_missing", tool=argv[0]))
    done = subprocess.run([tool, *argv[1:]], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise auth.AuthError(t("backup_tool_failed", tool=argv[0], detail=done.stderr.strip()[-500:]))


def backup(target: Path | str, out: Path, opened: Callable[[], Any]) -> str:
    """``opened()`` gives the store of a DuckDB file (the dashboard's own, when it holds the file)."""
    if out.exists():
        raise auth.AuthError(t("backup_exists", path=out))
    if store_pkg.is_shared(target):
        schema = _schema(str(target))
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={out}",
              *([f"--schema={schema}"] if schema else []), f"--dbname={target}"])  # fmt: skip
        return t("backup_done", path=out, size=out.stat().st_size)
    store = opened()
    try:
        store.copy_to(out)
    finally:
        store.close()
    return t("backup_done", path=out, size=out.stat().st_size)


def restore(target: Path | str, source: Path, *, force: bool = False) -> str:
    if not source.is_file():
        raise auth.AuthError(t("restore_missing", path=source))
    if store_pkg.is_shared(target):
        schema = _schema(str(target))
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              *([f"--schema={schema}"] if schema else []), f"--dbname={target}", str(source)])  # fmt: skip
        from gridpulse.store import postgres

        postgres.new_generation(str(target))
        return t("restore_done", path=source)
    path = Path(target)
    dbopen.check_file(source)
    dbopen.verify(source)  # every row of the copy is read before it takes the street's place
    if not dbopen.missing(path) and not force:
        raise auth.AuthError(t("restore_needs_force", path=path))
    tmp = path.with_name(path.name + ".restore.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, path)
    return t("restore_done", path=source)
