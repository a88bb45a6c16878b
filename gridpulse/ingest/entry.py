"""One import, as the CLI and the admin's 数据导入 page both run it.

``import_any`` dispatches by kind (grid layers replace the old layer; cases and resources
are upserted); ``import_upload`` first writes the browser's upload to a private copy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gridpulse import dbopen
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
    progress: Callable[[int, float], None] | None = None,
) -> Summary:
    """Import an uploaded file as ``admin``: it is written to a private copy beside the database and read like
    the CLI's; the copy is removed afterwards (and, after a crash, when the database is next opened)."""
    spec = mapping.MappingSpec(kind=kind)
    if spec_json:
        try:
            spec = mapping.parse(spec_json.decode("utf-8-sig"), "映射文件")
        except UnicodeDecodeError as err:
            raise ImportFileError(t("imp_bad_mapping", name="映射文件", error=err)) from err
    crs = None if crs in (None, "", "auto") else crs
    maps = mapping.parse_map_flags([line for line in maps_text.splitlines() if line.strip()])
    suffix = Path(name).suffix or ".dat"
    with dbopen.upload_copy(store, data, suffix) as path:
        size = max(len(data), 1)
        rough_rows = max(size // 120, 1)  # ~120 bytes a row in a 12345 export: enough for a progress bar

        def report(done: int) -> None:
            if progress is not None:
                progress(done, min(done / rough_rows, 0.99))

        return import_any(store, kind, path, crs=crs, maps=maps, spec=spec, sheet=sheet, username=admin.username,
                          file_name=name, progress=report)  # fmt: skip
