"""Reading a file of rows, whatever its format and encoding, in bounded memory.

The format is recognised from the content, never from the file name: XLSX (a zip with
a workbook), old Excel (.xls) and WPS (.et) workbooks (OLE files, read by calamine),
Open311 GeoReport v2 JSON, or delimited text in UTF-8 (with or without BOM), UTF-16
(with BOM) or GB18030/GBK. Every data row keeps the number the user sees in a spreadsheet
(a CSV's rows counted as records, so a cell with line breaks is one row), so a rejected row
can be found again. Title rows above the header (one cell each, e.g. a merged
``凤鸣街道2026年10月12345工单明细``) are skipped and named; blank rows and total rows
(``合计``, ``总计``…) are skipped and counted, not rejected. A file over
one of the caps in ``limits`` (size, unpacked size, rows, columns, cells) is refused before
its rows are read.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gridpulse.ingest import limits
from gridpulse.ingest.errors import ImportFileError
from gridpulse.strings import t

CHUNK_ROWS = 50_000
MAX_FIELD_CHARS = 32_767  # Excel's own limit for one cell: longer is not a real field
SNIFF_BYTES = 64 * 1024
DELIMITERS = ",\t;|"


def _fail(key: str, **kwargs: object) -> ImportFileError:
    return ImportFileError(t(key, **kwargs))


TITLE_SCAN_ROWS = 20  # title rows above a header: at most this many
# A row whose first filled cell is one of these sums the rows above: not a case.
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "总数", "total", "grandtotal", "subtotal"})


@dataclass
class Chunk:
    """Up to ``CHUNK_ROWS`` rows: values by header, and each row's number in the file."""

    frame: pd.DataFrame
    row_numbers: list[int]
    # Rows that could not be split into fields: (row number, raw text, reason).
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)
    blank_rows: int = 0  # skipped: nothing in them
    total_rows: list[int] = field(default_factory=list)  # skipped: a 合计 row (their numbers)


@dataclass
class Table:
    path: Path
    format: str  # csv | xlsx | xls | open311
    encoding: str | None
    headers: list[str]
    chunks: Iterator[Chunk]
    title_rows: list[str] = field(default_factory=list)  # skipped above the header, as written


def _filled(row: Iterable[Any]) -> int:
    return sum(1 for v in row if v is not None and str(v).strip())


def _find_header(
    rows: Iterator[tuple[int, list[Any]]],
) -> tuple[int, list[Any], list[str], list[tuple[int, list[Any]]]]:
    """The header row among leading rows: the first with two or more filled cells; rows of one filled cell
    before it are titles. Returns (its number, its cells, the titles, rows read past it to give back);
    number 0 when the rows hold nothing. A one-column file: its first filled row is the header."""
    titles: list[tuple[int, list[Any]]] = []
    for number, row in rows:
        filled = _filled(row)
        if filled >= 2:
            return number, row, [_first_filled(r) for _, r in titles], []
        if filled == 1:
            titles.append((number, row))
            if len(titles) > TITLE_SCAN_ROWS:
                break
    if not titles:
        return 0, [], [], []
    (number, row), rest = titles[0], titles[1:]
    return number, row, [], rest


def _first_filled(row: Iterable[Any]) -> str:
    """The row's first filled cell as text, stripped ("" when the row holds nothing)."""
    return next((text for v in row if v is not None and (text := str(v).strip())), "")


def _is_total(row: list[Any]) -> bool:
    return "".join(_first_filled(row).split()).rstrip(":：").lower() in TOTAL_WORDS


def open_table(path: Path, sheet: str | None = None, chunk_rows: int = CHUNK_ROWS) -> Table:
    """Recognise ``path``'s format and encoding and read its header; rows come lazily."""
    path = Path(path)
    if not path.exists():
        raise _fail("imp_not_found", path=path)
    size = path.stat().st_size
    if size == 0:
        raise _fail("imp_empty_file", name=path.name)
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _xlsx(path, sheet, chunk_rows)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE file: Excel 97-2003 (.xls) or WPS (.et)
        return _xls(path, sheet, chunk_rows)
    encoding = detect_encoding(path, head)
    text_head = head.decode(encoding, errors="ignore").lstrip("\ufeff \r\n\t")
    if text_head.startswith(("[", "{")):
        limits.check_json_size(path, size)
        return _open311(path, encoding, chunk_rows)
    return _csv(path, encoding, text_head, chunk_rows)


def detect_encoding(path: Path, head: bytes) -> str:
    """utf-8-sig, utf-16 or utf-8 when the whole file decodes as such, else gb18030 (GBK's superset), or
    cp950 (Big5, traditional characters) where the text reads as Big5 rather than GBK (``chinese_encoding``)."""
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if _looks_binary(head):
            raise _fail("imp_binary", name=path.name)
        if _decodes(path, "utf-8"):  # most files: no need to weigh Chinese encodings
            return "utf-8"
        candidates = list(dict.fromkeys([chinese_encoding(head), "gb18030"]))
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise _fail("imp_encoding", name=path.name)


def chinese_encoding(data: bytes) -> str:
    """``gb18030`` (GBK, simplified) or ``cp950`` (Big5, traditional) for non-UTF-8 Chinese text.

    Big5 bytes often decode as GBK too, into nonsense: charset-normalizer weighs which reading is
    Chinese text. Where it cannot tell, GB18030, the mainland offices' encoding.
    """
    from charset_normalizer import from_bytes

    best = from_bytes(data[:SNIFF_BYTES], cp_isolation=["gb18030", "big5"]).best()
    return "cp950" if best is not None and best.encoding in ("big5", "cp950") else "gb18030"


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > max(8, len(head) // 100)


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# ---- delimited text -------------------------------------------------------------


def _csv(path: Path, encoding: str, text_head: str, chunk_rows: int) -> Table:
    lines = text_head[:16_384].splitlines(keepends=True)
    titles = 0  # title lines above the header hold no delimiter: the sniffer is shown the table only
    while titles < min(TITLE_SCAN_ROWS, len(lines) - 1) and not any(d in lines[titles] for d in DELIMITERS):
        titles += 1
    try:
        delimiter = csv.Sniffer().sniff("".join(lines[titles:]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(MAX_FIELD_CHARS * 64)  # far beyond a real cell, yet an open quote cannot eat 1 GB
    fh = path.open(encoding=encoding, newline="")
    reader = csv.reader(fh, delimiter=delimiter, strict=True)
    try:
        header_record, header_row, titles, back = _find_header((n, row) for n, row in enumerate(reader, start=1))
    except csv.Error as err:
        fh.close()
        raise _fail("imp_csv_broken", name=path.name, error=err) from err
    if not header_record:
        fh.close()
        raise _fail("imp_no_header", name=path.name)
    headers = _clean_headers(header_row)
    try:
        limits.check_columns(path, len(headers))
        limits.check_csv_rows(path, encoding, delimiter, reader.line_num)
    except ImportFileError:
        fh.close()
        raise
    given_back: list[RawRow] = [(n, row, "", "") for n, row in back]
    rows = _csv_rows(reader, header_record + len(back), reader.line_num)
    return Table(path, "csv", encoding, headers, _chunks(itertools.chain(given_back, rows), headers, chunk_rows,
                                                         close=fh.close), titles)  # fmt: skip


def _csv_rows(reader: Any, record: int, line: int) -> Iterator[RawRow]:
    """Data rows numbered as a spreadsheet shows them (one per record, however many lines its cells hold);
    a stretch that cannot be read is named by its lines in the file."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            record += 1
            yield record, None, t("rej_unparsable", first=line + 1, last=reader.line_num, error=err), ""
            line = reader.line_num
            continue
        record, line = record + 1, reader.line_num
        yield record, row, "", ""


# One row as a source reads it: (row number in the file, values or None, why it cannot be read, its text).
RawRow = tuple[int, list[Any] | None, str, str]


def _chunks(rows: Iterable[RawRow], headers: list[str], chunk_rows: int, close: Callable[[], None]) -> Iterator[Chunk]:
    """The one loop every format's rows go through: checked, padded to the headers, batched into chunks."""
    width = len(headers)
    batch: list[list[Any]] = []
    numbers: list[int] = []
    unreadable: list[tuple[int, str, str]] = []
    blank, totals = 0, []
    try:
        for number, values, problem, text in rows:
            reason, preview = problem, text
            if values is not None:
                if not _filled(values):
                    blank += 1
                    continue
                if _is_total(values):
                    totals.append(number)
                    continue
                reason = _row_problem([str(v) for v in values], width) or ""
                preview = _preview(values) if reason else ""
            if reason or values is None:
                unreadable.append((number, preview, reason))
                continue
            batch.append(list(values[:width]) + [""] * (width - len(values)))
            numbers.append(number)
            if len(batch) >= chunk_rows:
                yield Chunk(pd.DataFrame(batch, columns=headers, dtype=object), numbers, unreadable, blank, totals)
                batch, numbers, unreadable, blank, totals = [], [], [], 0, []
        if batch or unreadable or blank or totals:
            yield Chunk(pd.DataFrame(batch, columns=headers, dtype=object), numbers, unreadable, blank, totals)
    finally:
        close()


def _row_problem(row: list[str], width: int) -> str | None:
    joined = "".join(row)
    if len(row) > width and "".join(row[width:]).strip():
        return t("rej_too_many_fields", n=len(row), width=width)
    if len(joined) > MAX_FIELD_CHARS and max(map(len, row)) > MAX_FIELD_CHARS:
        return t("rej_huge_field", limit=MAX_FIELD_CHARS)
    return None


def _preview(row: list[Any], limit: int = 2000) -> str:
    text = json.dumps(row, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _clean_headers(row: list[Any]) -> list[str]:
    """Header texts, stripped; blanks and repeats get a position so every column has a name."""
    names = ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in row]
    taken = set(names)
    out: list[str] = []
    for i, name in enumerate(names, start=1):
        name = name or t("imp_unnamed_column", i=i)
        if name in out:  # a repeated header gets a suffix that is no other header's name
            k = i
            while f"{name}_{k}" in taken:
                k += 1
            name = f"{name}_{k}"
        taken.add(name)
        out.append(name)
    return out


# ---- Excel ---------------------------------------------------------------------


def _xlsx(path: Path, sheet: str | None, chunk_rows: int) -> Table:
    from openpyxl import load_workbook

    names = set(limits.check_xlsx(path))  # sizes and packing checked before anything is inflated
    if "xl/workbook.xml" not in names:
        raise _fail("imp_zip_not_xlsx", name=path.name)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a broken workbook
        raise _fail("imp_bad_xlsx", name=path.name, error=type(err).__name__) from err
    if sheet is not None and sheet not in wb.sheetnames:
        raise _fail("imp_no_sheet", name=path.name, sheet=sheet, sheets="、".join(wb.sheetnames))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    try:
        limits.check_sheet(path, ws)  # openpyxl pads every row to the declared dimension
    except ImportFileError:
        wb.close()
        raise
    rows = enumerate((list(r) for r in ws.iter_rows(values_only=True)), start=1)
    return _sheet_table(path, "xlsx", ws.title, wb.sheetnames, rows, chunk_rows, wb.close)


def _sheet_table(path: Path, fmt: str, title: str, sheets: list[str], rows: Iterator[tuple[int, list[Any]]],
                 chunk_rows: int, close: Callable[[], None]) -> Table:  # fmt: skip
    """A worksheet's rows (numbered as the sheet numbers them) as a table: header found below any titles."""

    def bounded() -> Iterator[tuple[int, list[Any]]]:
        for number, row in rows:
            if number > limits.MAX_ROWS + TITLE_SCAN_ROWS:  # a sheet of blank rows (row 10⁹, say) ends here
                raise _fail("lim_rows", name=path.name, limit=limits.MAX_ROWS)
            yield number, row

    scan = bounded()
    try:
        header_number, header_row, titles, back = _find_header(scan)
        if not header_number:
            raise _fail("imp_empty_sheet", name=path.name, sheet=title, sheets="、".join(sheets))
        headers = _clean_headers(header_row)
        limits.check_columns(path, len(headers))
    except ImportFileError:
        close()
        raise
    raw = _sheet_rows(path, itertools.chain(back, scan), header_number)  # lazily: a sheet is never held whole
    return Table(path, fmt, None, headers, _chunks(raw, headers, chunk_rows, close=close), titles)


def _sheet_rows(path: Path, rows: Iterable[tuple[int, list[Any]]], header_line: int) -> Iterator[RawRow]:
    cells = 0
    for number, row in rows:
        cells += len(row)  # a sheet without a dimension is counted as it streams: the import rolls back
        limits.check_row(path, number - header_line, len(row), cells)
        yield number, ["" if v is None else v for v in row], "", ""


def _xls(path: Path, sheet: str | None, chunk_rows: int) -> Table:
    """Excel 97-2003 (.xls) and WPS (.et) workbooks, read with calamine (Rust), first sheet unless named."""
    import python_calamine as calamine

    limits.check_ole(path)
    try:
        wb = calamine.CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
        if sheet is not None and sheet not in names:
            raise _fail("imp_no_sheet", name=path.name, sheet=sheet, sheets="、".join(names))
        if not names:
            raise _fail("imp_bad_xls", name=path.name, error="no sheet")
        ws = wb.get_sheet_by_name(sheet or names[0])
        if ws.total_width > limits.MAX_COLUMNS:
            raise _fail("lim_columns", name=path.name, n=ws.total_width, limit=limits.MAX_COLUMNS)
        if ws.total_height > limits.MAX_ROWS + TITLE_SCAN_ROWS:
            raise _fail("lim_rows", name=path.name, limit=limits.MAX_ROWS)
        rows = enumerate(ws.iter_rows(), start=1)  # calamine pads from the sheet's first row: numbers as shown
    except ImportFileError:
        raise
    except Exception as err:  # a broken or encrypted workbook: calamine raises its own kinds
        raise _fail("imp_bad_xls", name=path.name, error=type(err).__name__) from err
    return _sheet_table(path, "xls", sheet or names[0], names, rows, chunk_rows, lambda: None)


# ---- Open311 GeoReport v2 ---------------------------------------------------------


def _open311(path: Path, encoding: str, chunk_rows: int = CHUNK_ROWS) -> Table:
    try:
        data = json.loads(path.read_text(encoding=encoding))
    except json.JSONDecodeError as err:
        raise _fail("imp_bad_json", name=path.name, line=err.lineno, error=err.msg) from err
    if isinstance(data, dict):
        data = data.get("service_requests", data.get("requests"))
    if not isinstance(data, list):
        raise _fail("imp_not_open311", name=path.name)
    limits.check_row(path, len(data), 0, 0)
    names: dict[str, None] = {}  # the headers, in order of first appearance
    for item in data:
        if isinstance(item, dict):
            names.update(dict.fromkeys(item))
            limits.check_columns(path, len(names))
    headers = list(names)
    if not headers:
        raise _fail("imp_no_records", name=path.name)
    limits.check_cells(path, len(data), len(headers))
    rows = _json_rows(data, headers)
    return Table(path, "open311", encoding, headers, _chunks(rows, headers, chunk_rows, close=lambda: None))


def _json_rows(data: list[Any], headers: list[str]) -> Iterator[RawRow]:
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            yield number, None, t("rej_not_record"), _preview([item])
            continue
        yield number, [_json_value(item.get(h)) for h in headers], "", ""


def _json_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def preview_rows(frame: pd.DataFrame) -> list[str]:
    """Each row of ``frame`` as a JSON object (header: value), for the rejects table."""
    records = frame.to_dict(orient="records")
    return [json.dumps(r, ensure_ascii=False, default=str) for r in records]
