"""Files that would explode are refused before they are read, in Chinese, and change nothing.

Each hostile file is made here: a real zip bomb of a workbook, sheets that declare a huge
dimension, CSV, JSON and grid layers over a cap (the cap patched low rather than writing
huge files). Where a refusal must come before the reading, the reader itself is replaced
by one that fails the test if it is ever called.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from gridpulse.ingest import grids, limits, sources
from gridpulse.ingest.sources import ImportFileError
from gridpulse.store import Store
from tests import apps, fixtures
from tests import test_import as imports
from tests.test_import import C5, HEADER, _grid_file, _import_page, _layer, csv_file, imported, table

# The import tests' fixtures: a real street with the fixture's nine grids and no cases, and the
# fixture street in a file of the test's own that the app reads.
street = imports.street
own_street = imports.own_street

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _never(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the file was read although a cap refuses it")


def _refused(store: Store, path: Path, match: str, kind: str = "cases") -> str:
    """Import ``path``, expect a refusal naming ``match``, and check nothing changed; the message."""
    before = {name: table(store, name) for name in ("cases", "resources", "grids")}
    imports_before = len(store.imports())

    def start() -> object:
        return grids.import_grids(store, path) if kind == "grids" else imported(store, path, kind=kind)

    with pytest.raises(ImportFileError, match=match) as err:
        start()
    for name, frame in before.items():
        pd.testing.assert_frame_equal(table(store, name), frame)
    assert len(store.imports()) == imports_before
    return str(err.value)


def _workbook(tmp: Path, sheet_xml: bytes, name: str = "in.xlsx", level: int = 9) -> Path:
    """A real workbook (written by openpyxl) whose first sheet's XML is ``sheet_xml``, deflated."""
    wb = Workbook()
    wb.active.append(["工单编号", "受理时间"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp / name, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            out.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return tmp / name


def _sheet(rows: bytes, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>工单编号</t></is></c>' \
             '<c r="B1" t="inlineStr"><is><t>受理时间</t></is></c></row>'  # fmt: skip
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{header}'
            .encode() + rows + b"</sheetData></worksheet>")  # fmt: skip


def _row(case_id: str) -> bytes:
    return (f'<row><c t="inlineStr"><is><t>{case_id}</t></is></c>'
            f'<c t="inlineStr"><is><t>2026-03-01 09:00</t></is></c></row>').encode()  # fmt: skip


# ---- XLSX -------------------------------------------------------------------------------


def test_an_xlsx_zip_bomb_is_refused_before_it_is_inflated(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _workbook(tmp_path, _sheet(_row("A1") * 600_000))  # ~60 MB of identical rows, packed in 0.2 MB
    with zipfile.ZipFile(bomb) as zf:
        sheet = zf.getinfo("xl/worksheets/sheet1.xml")
    assert sheet.file_size > 50 * limits.MIB
    assert sheet.file_size / sheet.compress_size > 2 * limits.MAX_ZIP_RATIO  # a bomb (~300×), not a big sheet
    monkeypatch.setattr("openpyxl.load_workbook", _never)
    message = _refused(street, bomb, "压缩比")
    assert "xl/worksheets/sheet1.xml" in message
    assert "压缩炸弹" in message
    assert "CSV" in message  # what to do instead


def test_an_xlsx_that_unpacks_beyond_the_cap_is_refused(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _workbook(tmp_path, _sheet(b"".join(_row(f"A{i}") for i in range(2000))))
    monkeypatch.setattr(limits, "MAX_XLSX_UNPACKED_BYTES", 64 * limits.KIB)
    monkeypatch.setattr("openpyxl.load_workbook", _never)
    message = _refused(street, path, "超过 Excel 文件的上限 64 KB")
    assert "另存为 CSV" in message
    assert "拆分" in message


def test_an_xlsx_with_too_many_shared_strings_is_refused(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Excel and XlsxWriter keep texts in one shared table, which openpyxl loads whole
    frame = pd.DataFrame({"工单编号": [f"A{i}" for i in range(300)], "诉求内容": [f"第{i}条" for i in range(300)]})
    frame.to_excel(tmp_path / "in.xlsx", index=False, engine="xlsxwriter")
    with zipfile.ZipFile(tmp_path / "in.xlsx") as zf:
        assert zf.getinfo("xl/sharedStrings.xml").file_size > 1024
    monkeypatch.setattr(limits, "MAX_XLSX_SHARED_STRINGS_BYTES", 1024)
    monkeypatch.setattr("openpyxl.load_workbook", _never)
    message = _refused(street, tmp_path / "in.xlsx", "文字表（sharedStrings.xml）解压后有 .* KB，超过上限 1 KB")
    assert "另存为 CSV" in message


@pytest.mark.parametrize(
    ("dimension", "match"),
    [
        ("A1:XFD1048576", "有 16,384 列，超过上限 256 列"),  # Excel's whole sheet: one stray cell far right
        ("A1:B1048576", "超过 1,000,000 行"),
        ("A1:CV300000", "有 30,000,000 个单元格（300,000 行 × 100 列"),
    ],
)
def test_a_tiny_xlsx_declaring_a_huge_sheet_is_refused_before_its_rows(
    dimension: str, match: str, street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openpyxl would pad every row to the declared dimension: a 2 KB file, hours of work
    path = _workbook(tmp_path, _sheet(_row("A1"), dimension))
    assert path.stat().st_size < 10_000
    monkeypatch.setattr("openpyxl.worksheet._read_only.ReadOnlyWorksheet._cells_by_row", _never)
    _refused(street, path, match)


def test_an_xlsx_without_a_dimension_is_counted_as_it_streams(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_ROWS", 5)
    rows = b"".join(_row(f"A{i}") for i in range(6))
    _refused(street, _workbook(tmp_path, _sheet(rows), "six.xlsx"), "超过 5 行")
    # a row numbered far beyond the cap: openpyxl would yield every blank row before it
    far = b'<row r="1000000000"><c r="A1000000000" t="inlineStr"><is><t>Z</t></is></c></row>'
    _refused(street, _workbook(tmp_path, _sheet(far), "far.xlsx"), "超过 5 行")
    monkeypatch.setattr(limits, "MAX_COLUMNS", 4)
    wide = b'<row><c r="A2" t="inlineStr"><is><t>A1</t></is></c><c r="Z2"><v>1</v></c></row>'
    _refused(street, _workbook(tmp_path, _sheet(wide), "wide.xlsx"), "有 26 列，超过上限 4 列")
    # at the caps, the same kind of file imports
    ok = _workbook(tmp_path, _sheet(b"".join(_row(f"A{i}") for i in range(5))), "five.xlsx")
    summary = imported(street, ok)
    assert summary.record["rows_read"] == 5


# ---- CSV ---------------------------------------------------------------------------------


def test_a_csv_over_the_row_cap_is_refused_before_any_row_is_read(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_ROWS", 5)
    lines = [HEADER] + [f"A{i},2026-03-01,环境卫生,x,,,{C5}," for i in range(6)]
    path = csv_file(tmp_path, lines, "gbk")
    monkeypatch.setattr(sources, "_csv_rows", _never)
    message = _refused(street, path, "超过 5 行")
    assert "拆分" in message


def test_a_csv_at_the_row_cap_imports_even_with_line_breaks_in_fields(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 5 records over 15 lines: the line count is only a bound, the records are what count
    monkeypatch.setattr(limits, "MAX_ROWS", 5)
    lines = [HEADER] + [f'A{i},2026-03-01,环境卫生,"楼道\r\n漏水\r\n严重",,,{C5},' for i in range(5)]
    summary = imported(street, csv_file(tmp_path, lines))
    assert (summary.record["inserted"], summary.record["rejected"]) == (5, 0)


def test_a_csv_with_too_many_columns_is_refused(street: Store, tmp_path: Path) -> None:
    header = HEADER + "," + ",".join(f"备用{i}" for i in range(300))
    _refused(street, csv_file(tmp_path, [header, f"A1,2026-03-01,环境卫生,x,,,{C5},"]), "超过上限 256 列")


# ---- JSON --------------------------------------------------------------------------------


def _open311(tmp: Path, n: int) -> Path:
    lon, lat = fixtures.centre(5)
    items = [{"service_request_id": f"o{i}", "requested_datetime": "2026-03-01T09:00:00+08:00",
              "service_name": "环境卫生", "lat": lat, "long": lon} for i in range(n)]  # fmt: skip
    path = tmp / "open311.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_oversize_json_is_refused_before_it_is_parsed(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _open311(tmp_path, 40)
    monkeypatch.setattr(limits, "MAX_JSON_BYTES", 2 * limits.KIB)
    assert path.stat().st_size > 2 * limits.KIB
    monkeypatch.setattr(sources, "_open311", _never)
    message = _refused(street, path, "超过 JSON 文件的上限 2 KB")
    assert "按月分批导出" in message
    assert "CSV" in message


def test_a_json_with_too_many_records_or_keys_is_refused(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_ROWS", 10)
    _refused(street, _open311(tmp_path, 11), "超过 10 行")
    assert imported(street, _open311(tmp_path, 10)).record["inserted"] == 10
    monkeypatch.setattr(limits, "MAX_COLUMNS", 3)
    _refused(street, _open311(tmp_path, 2), "超过上限 3 列")


# ---- grid layers --------------------------------------------------------------------------


def _fine_layer(n: int = 3) -> gpd.GeoDataFrame:
    """``n`` fixture grids with ~41 vertices each (edges cut every 0.001°)."""
    return _layer([shapely.segmentize(fixtures.cell(i + 1), 0.001) for i in range(n)])


def _shapefile_zip(tmp: Path, layer: gpd.GeoDataFrame, extra: dict[str, bytes] | None = None) -> Path:
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    layer = layer.rename(columns={"网格编码": "code", "网格名称": "name", "所属社区": "community"})
    layer.to_file(folder / "grids.shp", driver="ESRI Shapefile", encoding="utf-8")
    with zipfile.ZipFile(tmp / "grids.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
        for member, data in (extra or {}).items():
            zf.writestr(member, data)
    return tmp / "grids.zip"


def test_a_grid_layer_over_the_vertex_cap_is_refused(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = _fine_layer()
    vertices = int(shapely.get_num_coordinates(layer.geometry.values).sum())
    assert vertices > 100
    monkeypatch.setattr(limits, "MAX_GRID_VERTICES", vertices - 1)
    monkeypatch.setattr(grids, "to_wgs84", _never)  # refused before any repair, join or check
    message = _refused(street, _grid_file(tmp_path, layer), f"共有 {vertices:,} 个顶点", kind="grids")
    assert "简化" in message
    assert "原有网格未改动" in message
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_GRID_VERTICES", vertices)  # at the cap, the same layer imports
    summary = grids.import_grids(street, _grid_file(tmp_path, layer, "again.geojson"))
    assert (summary.record["inserted"] + summary.record["updated"], summary.record["rejected"]) == (3, 0)


def test_a_zipped_shapefile_over_the_vertex_cap_is_refused_unread(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = _fine_layer()
    vertices = int(shapely.get_num_coordinates(layer.geometry.values).sum())
    path = _shapefile_zip(tmp_path, layer)
    monkeypatch.setattr(limits, "MAX_GRID_VERTICES", vertices - 1)
    monkeypatch.setattr(grids.pyogrio, "list_layers", _never)  # the .shp's size alone refuses it
    _refused(street, path, f"可容纳约 {vertices:,} 个顶点", kind="grids")  # the bound is exact for simple polygons
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_GRID_VERTICES", vertices)
    assert grids.import_grids(street, path).record["rejected"] == 0


def test_a_zip_bomb_posing_as_a_shapefile_is_refused(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _shapefile_zip(tmp_path, _layer([fixtures.cell(1)]), {"notes.txt": b"\0" * (20 * limits.MIB)})
    monkeypatch.setattr(grids.pyogrio, "list_layers", _never)
    message = _refused(street, path, "notes.txt 解压后有 20 MB，压缩比达", kind="grids")
    assert "原系统重新导出" in message
    monkeypatch.setattr(limits, "MAX_ZIP_RATIO", 10**6)
    monkeypatch.setattr(limits, "MAX_GRID_FILE_BYTES", 10 * limits.MIB)
    _refused(street, path, "解压后有 20 MB，超过网格图层的上限 10 MB", kind="grids")


def test_an_oversize_geojson_or_kml_is_refused_unread(
    street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_GRID_FILE_BYTES", 1024)
    monkeypatch.setattr(grids.pyogrio, "list_layers", _never)
    for name, driver in (("g.geojson", "GeoJSON"), ("g.kml", "KML")):
        path = _grid_file(tmp_path, _fine_layer(), name, driver)
        _refused(street, path, "超过网格图层文件的上限 1 KB", kind="grids")


# ---- the caps' settings -------------------------------------------------------------------


def test_caps_fit_a_real_streets_year_and_the_environment_overrides_them(monkeypatch: pytest.MonkeyPatch) -> None:
    assert limits.MAX_ROWS >= 500_000
    assert limits.MAX_CELLS >= 500_000 * 40
    assert limits.MAX_GRID_VERTICES >= 5_000 * 300
    assert limits.MAX_XLSX_UNPACKED_BYTES >= limits.MAX_CELLS * 70  # XLSX cells at ~70 bytes each
    monkeypatch.setenv("GRIDPULSE_MAX_ROWS", "2_000_000")
    assert limits._env_int("MAX_ROWS", 1) == 2_000_000
    monkeypatch.setenv("GRIDPULSE_MAX_ROWS", "")
    assert limits._env_int("MAX_ROWS", 7) == 7
    for bad in ("abc", "0", "-5"):
        monkeypatch.setenv("GRIDPULSE_MAX_ROWS", bad)
        with pytest.raises(ValueError, match=f"GRIDPULSE_MAX_ROWS={bad} 不是正整数"):
            limits._env_int("MAX_ROWS", 1)
    assert limits.size_text(64 * limits.MIB) == "64 MB"
    assert limits.size_text(2 * limits.GIB) == "2.0 GB"


# ---- both doors: the command line and the import page -------------------------------------


def test_the_command_line_refuses_with_the_cap_from_the_environment(tmp_path: Path) -> None:
    path = fixtures.build(tmp_path / "cli.duckdb")
    store = Store(path)
    before = table(store)
    store.close()
    lines = [HEADER] + [f"Z{i},2026-03-01,环境卫生,x,,,{C5}," for i in range(4)]
    cases = csv_file(tmp_path, lines, "gbk")
    env = {**os.environ, "PYTHONPATH": str(apps.ROOT), "GRIDPULSE_MAX_ROWS": "3"}
    r = subprocess.run([sys.executable, "-m", "gridpulse", "import", "cases", str(cases), "--db", str(path)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "导入失败，数据库未改动：in.csv 的数据超过 3 行" in r.stderr
    store = Store(path)
    try:
        pd.testing.assert_frame_equal(table(store), before)
    finally:
        store.close()


def test_the_import_page_states_the_upload_limit_and_refuses_an_oversize_file(
    own_street: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridpulse.ui import cache

    at = _import_page()
    captions = [c.value for c in at.caption]
    limit = next(c for c in captions if "server.maxUploadSize" in c)
    assert "每个不超过 200 MB" in limit  # Streamlit's default, read from its own option
    assert "python -m gridpulse import cases" in limit
    before = cache.store().query("SELECT count(*) AS n FROM cases")["n"].iloc[0]
    monkeypatch.setattr(limits, "MAX_JSON_BYTES", 1024)
    data = _open311(tmp_path, 40).read_bytes()
    at.file_uploader(key="imp_file").set_value(("十一月.json", data, "application/json"))
    at.button[0].click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("导入失败，数据库未改动：" in e and "超过 JSON 文件的上限 1 KB" in e for e in errors), errors
    assert cache.store().query("SELECT count(*) AS n FROM cases")["n"].iloc[0] == before
