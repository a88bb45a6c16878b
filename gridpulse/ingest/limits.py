"""Caps on what one imported file may cost, checked before the file is read.

A 4.5 MB XLSX zip bomb once took 225 s and 2.3 GB of memory and slowed every user of the
server six-fold; a 171 MB Open311 JSON took 1.9 GB. Each cap below is sized so that a real
street's year of data (a few hundred thousand 12345 rows, a 5,000-grid district layer) still
passes, and each refusal says in Chinese which cap was hit and what to do instead.

Every cap can be changed on the server with an environment variable of the same name with
the prefix ``GRIDPULSE_`` (``GRIDPULSE_MAX_ROWS=2000000``), read when the process starts.
The readers (``sources``, ``grids``) call these checks, so the command line and the import
page refuse the same files. Sizes are checked from what a file declares about itself (a
zip's central directory, a sheet's ``<dimension>``, the file size): Python's ``zipfile``
never inflates a member past its declared size, and openpyxl pads every row to the declared
dimension and stops there, so the declarations bound the work.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any

from gridpulse.ingest.errors import ImportFileError
from gridpulse.strings import t

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


def _env_int(name: str, default: int) -> int:
    """``GRIDPULSE_<name>`` from the environment when set (a positive integer), else ``default``."""
    variable = f"GRIDPULSE_{name}"
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(t("lim_bad_env", name=variable, value=raw, default=default))
    return value


# Data rows in one file. A street's year is a few hundred thousand 12345 rows; Excel's own sheet
# holds 1,048,576; `bench-import` imports a million-row CSV. Time, not memory, grows with rows
# (files are read in chunks), so a bigger year goes in two files.
MAX_ROWS = _env_int("MAX_ROWS", 1_000_000)
# Columns of one file. 12345 exports have 20-80; every chunk of 50,000 rows holds all its columns
# in memory, so a sheet of thousands of columns (or one stray cell at column XFD) would not.
MAX_COLUMNS = _env_int("MAX_COLUMNS", 256)
# Cells of an XLSX sheet or an Open311 JSON (rows × columns, as openpyxl pads them). openpyxl reads
# ~100,000 cells a second here (measured: 50,000 rows × 20 columns in 10 s), so this is ~4 minutes,
# the longest an upload may hold a server core: 500,000 rows × 50 columns. CSV reads several times
# faster and is not capped by cells.
MAX_CELLS = _env_int("MAX_CELLS", 25_000_000)
# Everything in an XLSX once unpacked. Excel, openpyxl and XlsxWriter write 0.7-1.5 KB per row of a
# 20-column export (measured), so a 500,000-row year is ~0.5-0.75 GB; MAX_CELLS cells at ~70 bytes
# each is ~1.8 GB.
MAX_XLSX_UNPACKED_BYTES = _env_int("MAX_XLSX_UNPACKED_BYTES", 2 * GIB)
# An XLSX's shared strings (xl/sharedStrings.xml), which openpyxl holds in memory whole, at ~5× their
# size (measured: 17 MB took 80 MB). A 12345 export writes ~350 bytes of them per row (50,000 rows:
# 17 MB), so this is ~750,000 rows and ~1.2 GB of memory at most.
MAX_XLSX_SHARED_STRINGS_BYTES = _env_int("MAX_XLSX_SHARED_STRINGS_BYTES", 256 * MIB)
# Unpacked size / packed size of one zip member. Real sheets and Shapefiles pack 2-10× (measured 7-9×
# for 12345 exports); zip bombs pack 100-1000×. Members under ZIP_RATIO_FLOOR_BYTES are not checked:
# small files can pack any amount and cost nothing.
MAX_ZIP_RATIO = _env_int("MAX_ZIP_RATIO", 100)
ZIP_RATIO_FLOOR_BYTES = 10 * MIB
# An Open311 JSON file. It is parsed whole, at ~11× its size in memory (171 MB took 1.9 GB): 64 MB is
# ~700 MB, and 100,000+ requests, more than a month of a large street. A year goes in monthly files
# or as CSV, which is read in chunks.
MAX_JSON_BYTES = _env_int("MAX_JSON_BYTES", 64 * MIB)
# An old-Excel (.xls) or WPS (.et) workbook. Its format holds at most 65,536 rows × 256 columns a sheet,
# and calamine reads a sheet whole (about 3× the file in memory): 128 MB is far beyond a real export.
MAX_XLS_BYTES = _env_int("MAX_XLS_BYTES", 128 * MIB)
# A grid layer file (GeoJSON, KML) or a zipped Shapefile once unpacked. MAX_GRID_VERTICES vertices
# are ~56 MB of GeoJSON at full precision (measured) and 32 MB of .shp; reading a 112 MB GeoJSON took
# 4 s and 170 MB.
MAX_GRID_FILE_BYTES = _env_int("MAX_GRID_FILE_BYTES", 128 * MIB)
# Polygon vertices of a grid layer. Repair, overlap and gap checks and the raster index grow with
# them: 2,000,000 took 15 s and ~700 MB (measured). A 5,000-grid district layer with 400 vertices a
# grid passes; a finer one is simplified in a GIS first (0.5 m changes no case's grid).
MAX_GRID_VERTICES = _env_int("MAX_GRID_VERTICES", 2_000_000)

SHP_HEADER_BYTES = 100  # a .shp and a .shx start with a 100-byte header
SHP_RECORD_OVERHEAD = 8 + 44  # record header, then shape type, bounding box and counts of a polygon
SHX_RECORD_BYTES = 8
POINT_BYTES = 16  # x and y, two doubles: Z and M only add bytes, so size / 16 bounds the vertices


def size_text(n: int) -> str:
    """A byte count for people: 2.0 GB, 64 MB, 12 KB, 900 字节."""
    if n >= GIB:
        return f"{n / GIB:.1f} GB"
    if n >= MIB:
        return f"{n / MIB:,.0f} MB"
    if n >= KIB:
        return f"{n / KIB:,.0f} KB"
    return t("size_bytes", n=n)


def _refuse(key: str, **kwargs: Any) -> Exception:

    return ImportFileError(t(key, **kwargs))


def _zip_members(path: Path) -> list[zipfile.ZipInfo]:
    """The members a zip declares (its central directory), nothing inflated."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise _refuse("imp_bad_zip", name=path.name) from err


def _check_ratio(path: Path, members: list[zipfile.ZipInfo]) -> None:
    for info in members:
        if info.file_size >= ZIP_RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_ZIP_RATIO:
                raise _refuse("lim_zip_ratio", name=path.name, member=info.filename, ratio=ratio,
                              size=size_text(info.file_size), limit=MAX_ZIP_RATIO)  # fmt: skip


def _checked_zip(path: Path, limit: int, key: str) -> list[zipfile.ZipInfo]:
    """A zip's members, refused when they pack suspiciously well or unpack to more than ``limit`` bytes."""
    members = _zip_members(path)
    _check_ratio(path, members)
    total = sum(info.file_size for info in members)
    if total > limit:
        raise _refuse(key, name=path.name, size=size_text(total), limit=size_text(limit))
    return members


def check_xlsx(path: Path) -> list[str]:
    """Refuse a workbook whose parts unpack too large or pack suspiciously well; its member names."""
    members = _checked_zip(path, MAX_XLSX_UNPACKED_BYTES, "lim_xlsx_unpacked")
    shared = sum(info.file_size for info in members if info.filename.lower().endswith("sharedstrings.xml"))
    if shared > MAX_XLSX_SHARED_STRINGS_BYTES:
        raise _refuse("lim_shared_strings", name=path.name, size=size_text(shared),
                      limit=size_text(MAX_XLSX_SHARED_STRINGS_BYTES))  # fmt: skip
    return [info.filename for info in members]


def check_sheet(path: Path, ws: Any) -> None:
    """Refuse a read-only openpyxl sheet whose declared dimension is too large (rows are padded to it)."""
    max_row, max_col = ws.max_row, ws.max_column
    if max_row is None or max_col is None:  # no <dimension>: rows are counted as they stream
        return
    if max_col > MAX_COLUMNS:
        raise _refuse("lim_columns", name=path.name, n=max_col, limit=MAX_COLUMNS)
    if max_row - 1 > MAX_ROWS:  # the header is a row too
        raise _refuse("lim_rows", name=path.name, limit=MAX_ROWS)
    check_cells(path, max_row, max_col)


def check_cells(path: Path, rows: int, columns: int) -> None:
    if rows * columns > MAX_CELLS:
        raise _refuse("lim_cells", name=path.name, cells=rows * columns, rows=rows, columns=columns, limit=MAX_CELLS)


def check_row(path: Path, data_rows: int, width: int, cells: int) -> None:
    """The streamed check, row by row, for a sheet that declared no dimension (and JSON records)."""
    if data_rows > MAX_ROWS:
        raise _refuse("lim_rows", name=path.name, limit=MAX_ROWS)
    if width > MAX_COLUMNS:
        raise _refuse("lim_columns", name=path.name, n=width, limit=MAX_COLUMNS)
    if cells > MAX_CELLS:
        raise _refuse("lim_cells_streamed", name=path.name, limit=MAX_CELLS)


def check_columns(path: Path, width: int) -> None:
    if width > MAX_COLUMNS:
        raise _refuse("lim_columns", name=path.name, n=width, limit=MAX_COLUMNS)


def check_csv_rows(path: Path, encoding: str, delimiter: str, header_line: int) -> None:
    """Refuse delimited text with more than ``MAX_ROWS`` records after its header.

    Line-break bytes bound the records from above (one pass at disk speed); only a file whose
    bound exceeds the cap is parsed, as the reader will parse it, and counting stops at the cap.
    """
    breaks = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            breaks += block.count(b"\n") + block.count(b"\r")
    if breaks + 1 - header_line <= MAX_ROWS:
        return
    records = 0
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        while True:
            try:
                next(reader)
            except StopIteration:
                break
            except csv.Error:  # the reader names such lines as rejects; they count as rows here too
                pass
            if reader.line_num > header_line:
                records += 1
                if records > MAX_ROWS:
                    raise _refuse("lim_rows", name=path.name, limit=MAX_ROWS)


def check_ole(path: Path) -> None:
    """Refuse an old-Excel or WPS workbook too large to read whole."""
    size = path.stat().st_size
    if size > MAX_XLS_BYTES:
        raise _refuse("lim_xls", name=path.name, size=size_text(size), limit=size_text(MAX_XLS_BYTES))


def check_json_size(path: Path, size: int) -> None:
    if size > MAX_JSON_BYTES:
        raise _refuse("lim_json", name=path.name, size=size_text(size), limit=size_text(MAX_JSON_BYTES))


def check_grid_file(path: Path, size: int) -> None:
    """Refuse a GeoJSON or KML grid layer too large to read."""
    if size > MAX_GRID_FILE_BYTES:
        raise _refuse("lim_grid_file", name=path.name, size=size_text(size), limit=size_text(MAX_GRID_FILE_BYTES))


def check_shapefile_zip(path: Path) -> list[str]:
    """Refuse a zipped Shapefile that unpacks too large, packs suspiciously well, or holds too many vertices.

    The vertices are bounded from the sizes the zip declares: a polygon record is 52 bytes of
    header and 16 or more bytes a vertex, and the .shx has 8 bytes per record.
    """
    members = _checked_zip(path, MAX_GRID_FILE_BYTES, "lim_grid_unpacked")
    sizes = {info.filename.lower(): info.file_size for info in members}
    for name, size in sizes.items():
        if name.endswith(".shp"):
            shx = sizes.get(name[:-4] + ".shx", SHP_HEADER_BYTES)
            records = max(shx - SHP_HEADER_BYTES, 0) // SHX_RECORD_BYTES
            bound = max(size - SHP_HEADER_BYTES - records * SHP_RECORD_OVERHEAD, 0) // POINT_BYTES
            if bound > MAX_GRID_VERTICES:
                raise _refuse("lim_vertices_bound", name=path.name, n=bound, limit=MAX_GRID_VERTICES)
    return [info.filename for info in members]


def check_vertices(path: Path, vertices: int) -> None:
    """Refuse a grid layer, once read, whose polygons have too many vertices to check and index."""
    if vertices > MAX_GRID_VERTICES:
        raise _refuse("lim_vertices", name=path.name, n=vertices, limit=MAX_GRID_VERTICES)
