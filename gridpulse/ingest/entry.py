"""One import, as the CLI and the admin's 数据导入 page both run it.

``import_any`` dispatches by kind (grid layers replace the old layer; cases and resources
are upserted); ``import_upload`` first writes the browser's upload to a private copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from gridpulse import dbfiles, dbopen
from gridpulse.auth import User
from gridpulse.ingest import grids, mapping, run
from gridpulse.ingest.mapping import MappingSpec
from gridpulse.ingest.run import Summary
from gridpulse.ingest.sources import ImportFileError
from gridpulse.store import Store
from gridpulse.strings import t


def import_any(
    store: Store,
    kind: str,
    path: Path,
    *,
    crs: str | None,
    maps: dict[str, str],
    spec: MappingSpec,
    sheet: str | None,
    username: str,
    file_name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Import ``path`` as ``kind`` (cases, resources or grids) for ``username``."""
    if kind == "grids":
        return grids.import_grids(store, path, crs=crs or spec.crs, maps={**spec.columns, **maps}, username=username,
                                  file_name=file_name)  # fmt: skip
    return run.import_file(store, kind, path, crs=crs, maps=maps, spec=spec, sheet=sheet, username=username,
                           file_name=file_name, progress=progress)  # fmt: skip


def import_upload(
    store: Store,
    admin: User,
    kind: str,
    name: str,
    data: bytes,
    *,
    crs: str | None,
    sheet: str | None = None,
    maps_text: str = "",
    spec_json: bytes | None = None,
    date_order: str | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Summary:
    """Import an uploaded file as ``admin``: it is written to a private copy beside the database and read like
    the CLI's; the copy is removed afterwards (and, after a crash, when the database is next opened)."""
    spec = mapping.MappingSpec(kind=kind)
    if spec_json:
        try:
            spec = mapping.parse(spec_json.decode("utf-8-sig"), t("imp_mapping_file_name"))
        except UnicodeDecodeError as err:
            raise ImportFileError(t("imp_bad_mapping", name=t("imp_mapping_file_name"), error=err)) from err
    spec.date_order = mapping.check_date_order(date_order or None) or spec.date_order  # the page's choice first
    crs = None if crs in (None, "", "auto") else crs
    maps = mapping.parse_map_flags([line for line in maps_text.splitlines() if line.strip()])
    suffix = Path(name).suffix or ".dat"
    with upload_copy(store, data, suffix) as path:
        size = max(len(data), 1)
        rough_rows = max(size // 120, 1)  # ~120 bytes a row in a 12345 export: enough for a progress bar

        def report(done: int) -> None:
            if progress is not None:
                progress(done, min(done / rough_rows, 0.99))

        return import_any(store, kind, path, crs=crs, maps=maps, spec=spec, sheet=sheet, username=admin.username,
                          file_name=name, progress=report)  # fmt: skip


@contextlib.contextmanager
def upload_copy(store: Store, data: bytes, suffix: str) -> Iterator[Path]:
    """``data`` written to a private file beside ``store``'s database, locked while in use, removed after.

    Raises ``ImportFileError`` (Chinese) when the store is read-only (nothing to import into) or
    the copy cannot be written (a full disk, a read-only folder).
    """
    from gridpulse.ingest.sources import ImportFileError

    if getattr(store, "read_only", False):
        raise ImportFileError(t("imp_refused_read_only", reason=store.read_only_reason))
    db_path = Path(store.path)
    folder = dbfiles.upload_dir(db_path)
    target = folder / f"upload-{uuid.uuid4().hex}{suffix}"
    fd = -1
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(OSError):  # made 0700 by us; an older one is tightened
            os.chmod(folder, 0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when the copy is closed: then it is a leftover
        view = memoryview(data)
        while view:  # unbuffered: a full disk is met here, not later when the file is closed
            view = view[os.write(fd, view) :]
    except OSError as err:
        if fd >= 0:
            os.close(fd)
        target.unlink(missing_ok=True)
        found = dbopen.translate(err, db_path) or dbopen.problem("io", db_path, str(err))
        reason = found.message if found.kind == "disk_full" else t("dbro_folder", folder=folder)
        raise ImportFileError(t("imp_upload_unsaved", reason=reason)) from err
    try:
        yield target
    finally:
        target.unlink(missing_ok=True)
        os.close(fd)
