"""Importing real data: a corpus of bad files, each with its exact outcome, and round trips.

Every file is made here, in code. A failed import must leave the database as it was; a
rejected row must be in the rejects table with its row number and reason.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from geo import chinacrs, shapes
from gridpulse import exports
from gridpulse import store as store_pkg
from gridpulse.ingest import entry, grids, mapping, run, sources
from gridpulse.ingest.sources import ImportFileError
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests import exportfiles, fixtures, pgkit
from tests.conftest import BACKENDS

HEADER = "工单编号,受理时间,诉求类别,诉求内容,办结时间,处理状态,经度,纬度,所属网格"


def lonlat(n: int) -> str:
    lon, lat = fixtures.centre(n)
    return f"{lon},{lat}"


@pytest.fixture(params=BACKENDS)
def street(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A real (non-demo) street with the fixture's nine grids and no cases yet, on each backend."""
    path = tmp_path / "测试-street 1.duckdb"  # a name that is no SQL identifier
    target = path if request.param == "duckdb" else pgkit.fresh_url()
    empty = pd.DataFrame(columns=store_pkg.CASE_COLUMNS)
    res = pd.DataFrame(columns=store_pkg.RESOURCE_COLUMNS)
    store_pkg.write_street(target, fixtures.grid_rows(), empty, res, {"street_name": "测试街道", "source": "import"})
    s = store_pkg.open_store(target)
    yield s
    s.close()
    if request.param != "duckdb":
        pgkit.drop(str(target))


def table(store: Store, name: str = "cases") -> pd.DataFrame:
    key = "case_id" if name == "cases" else "resource_id" if name == "resources" else "grid_code"
    return store.query(f"SELECT * FROM {name} ORDER BY {key}")


def csv_file(tmp_path: Path, lines: list[str], encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding))
    return path


def imported(store: Store, path: Path, **kw: object) -> run.Summary:
    return run.import_file(store, kw.pop("kind", "cases"), path, **kw)  # type: ignore[arg-type]


# ---- coordinates ------------------------------------------------------------------

# eviltransform's published pairs (WGS-84 -> GCJ-02) and coordtransform's BD-09 -> GCJ-02 example.
WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]


def test_gcj02_matches_published_pairs_both_ways() -> None:
    wgs = np.array([p[0] for p in WGS_GCJ])
    gcj = np.array([p[1] for p in WGS_GCJ])
    lon, lat = chinacrs.wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    np.testing.assert_allclose(np.column_stack([lon, lat]), gcj, atol=1e-9)
    back_lon, back_lat = chinacrs.gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    np.testing.assert_allclose(np.column_stack([back_lon, back_lat]), wgs, atol=1e-7)  # ~1 cm


def test_bd09_matches_the_published_pair() -> None:
    lon, lat = chinacrs.bd09_to_gcj02(np.array([116.404]), np.array([39.915]))
    assert lon[0] == pytest.approx(116.39762729119315, abs=1e-12)
    assert lat[0] == pytest.approx(39.90865673957631, abs=1e-12)


def test_no_shift_outside_china_and_projected_systems_go_through_pyproj() -> None:
    lon, lat = chinacrs.wgs84_to_gcj02(np.array([-104.9903]), np.array([39.7392]))  # Denver
    assert (lon[0], lat[0]) == (-104.9903, 39.7392)
    x, y = chinacrs.to_wgs84(np.array([500000.0]), np.array([4000000.0]), "EPSG:4547")  # CGCS2000 GK CM 114E
    assert 36 < y[0] < 36.2
    assert x[0] == pytest.approx(114.0)
    with pytest.raises(ValueError, match="坐标系 mars 无法识别"):
        chinacrs.canonical("mars")


# ---- the bad-file corpus -----------------------------------------------------------
# Each entry: name, a maker writing the file into tmp_path, and the exact outcome:
# ("error", message part) — nothing imported; or ("ok", inserted, rejected, reason part or None).

Maker = Callable[[Path], Path]


def _lines(*lines: str, encoding: str = "utf-8", name: str = "in.csv") -> Maker:
    return lambda tmp: csv_file(tmp, list(lines), encoding, name)


def _bytes(data: bytes, name: str = "in.csv") -> Maker:
    def make(tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name

    return make


def _xlsx(rows: list[list[object]], number_format: str | None = None) -> Maker:
    def make(tmp: Path) -> Path:
        wb = Workbook()
        ws = wb.active
        for r in rows:
            ws.append(r)
        if number_format:
            for cell in ws["B"][1:]:
                cell.number_format = number_format
        wb.save(tmp / "in.xlsx")
        return tmp / "in.xlsx"

    return make


def _zip(members: dict[str, bytes], name: str = "in.zip") -> Maker:
    def make(tmp: Path) -> Path:
        with zipfile.ZipFile(tmp / name, "w") as zf:
            for member, data in members.items():
                zf.writestr(member, data)
        return tmp / name

    return make


C5 = lonlat(5)
CORPUS: list[tuple[str, Maker, tuple[object, ...]]] = [
    ("zero_bytes", _bytes(b""), ("error", "空的（0 字节）")),
    ("binary_garbage", _bytes(bytes(range(256)) * 40), ("error", "不是文本表格")),
    ("undecodable_text", _bytes("工单编号,受理时间\n".encode() + b"A1,\xff\x80\xff\n"), ("error", "编码无法识别")),
    ("broken_xls", _bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "in.xls"), ("error", "无法读取")),
    ("zip_not_workbook", _zip({"readme.txt": b"hello"}), ("error", "不是 Excel 工作簿")),
    ("broken_json", _bytes(b'[{"service_request_id": "1",'), ("error", "不是有效的 JSON")),
    ("json_not_a_list", _bytes(b'{"hello": 1}'), ("error", "不是 Open311")),
    ("blank_lines_only", _lines("", "", ""), ("error", "没有表头")),
    (
        "missing_reported_at",
        _lines("工单编号,诉求类别", "A1,环境卫生"),
        ("error", "缺少必需的列：reported_at（受理时间）"),
    ),
    (
        "missing_case_id",
        _lines("受理时间,诉求类别", "2026-03-01,环境卫生"),
        ("error", "缺少必需的列：case_id（工单编号）"),
    ),
    ("header_only", _lines(HEADER), ("ok", 0, 0, None)),
    ("gbk", _lines(HEADER, f"A1,2026-03-01 09:00,环境卫生,楼道漏水,,办理中,{C5},", encoding="gbk"), ("ok", 1, 0, None)),
    (
        "gb18030_rare_chars",
        _lines(HEADER, f"A1,2026-03-01,环境卫生,䶮䶮,,,{C5},", encoding="gb18030"),
        ("ok", 1, 0, None),
    ),
    ("utf8_bom", _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", encoding="utf-8-sig"), ("ok", 1, 0, None)),
    (
        "utf16_tabs",
        _lines(
            HEADER.replace(",", "\t"),
            f"A1\t2026-03-01\t环境卫生\tx\t\t\t{C5.replace(',', chr(9))}\t",
            encoding="utf-16",
        ),
        ("ok", 1, 0, None),
    ),
    (
        "semicolons",
        _lines(HEADER.replace(",", ";"), f"A1;2026-03-01;环境卫生;x;;;{C5.replace(',', ';')};"),
        ("ok", 1, 0, None),
    ),
    (
        "dates_many_formats",
        _lines(
            HEADER,
            f"A1,2026-03-01 09:00:00,环境卫生,x,,,{C5},",
            f"A2,2026/3/2 9:05,环境卫生,x,,,{C5},",
            f"A3,2026年3月3日 10时20分,环境卫生,x,,,{C5},",
            f"A4,20260304,环境卫生,x,,,{C5},",
            f"A5,46086.5,环境卫生,x,,,{C5},",
            f"A6,2026-03-07T09:00:00+08:00,环境卫生,x,,,{C5},",
            f"A7,2026.3.8,环境卫生,x,,,{C5},",
            f"A8,2026-03-09 09:00:00.000,环境卫生,x,,,{C5},",
            f"A9,2026-03-10T01:00:00.000Z,环境卫生,x,,,{C5},",
            f"A10,2026-03-11T09:00:00+08,环境卫生,x,,,{C5},",
        ),
        ("ok", 10, 0, None),
    ),
    ("month_first_date", _lines(HEADER, f"A1,03/04/2026,环境卫生,x,,,{C5},"), ("ok", 0, 1, "--date-order mdy")),
    ("words_for_date", _lines(HEADER, f"A1,昨天下午,环境卫生,x,,,{C5},"), ("ok", 0, 1, "无法识别为时间")),
    ("year_1900", _lines(HEADER, f"A1,1900-01-01,环境卫生,x,,,{C5},"), ("ok", 0, 1, "无法识别为时间")),
    (
        "empty_rows_between",
        _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", ",,,,,,,,", "", f"A2,2026-03-02,环境卫生,x,,,{C5},"),
        ("ok", 2, 0, None),  # skipped and counted, not rejected
    ),
    (
        "duplicated_ids",
        _lines(HEADER, f"A1,2026-03-01,环境卫生,first,,,{C5},", f"A1,2026-03-01,环境卫生,last,,,{C5},"),
        ("ok", 1, 1, "编号重复（以第 3 行为准）"),
    ),
    ("no_case_id", _lines(HEADER, f",2026-03-01,环境卫生,x,,,{C5},"), ("ok", 0, 1, "缺少工单编号")),
    ("no_reported_at", _lines(HEADER, f"A1,,环境卫生,x,,,{C5},"), ("ok", 0, 1, "缺少受理时间")),
    ("out_of_range_coords", _lines(HEADER, "A1,2026-03-01,环境卫生,x,,,200.5,37.01,"), ("ok", 0, 1, "超出中国范围")),
    ("zero_zero", _lines(HEADER, "A1,2026-03-01,环境卫生,x,,,0,0,"), ("ok", 0, 1, "(0, 0)")),
    ("coords_not_numbers", _lines(HEADER, "A1,2026-03-01,环境卫生,x,,,东经121度,37.01,"), ("ok", 0, 1, "不是数字")),
    ("half_coords", _lines(HEADER, "A1,2026-03-01,环境卫生,x,,,121.015,,"), ("ok", 0, 1, "只填了一个")),
    ("swapped_coords", _lines(HEADER, "A1,2026-03-01,环境卫生,x,,,37.015,121.015,"), ("ok", 1, 0, None)),
    ("unknown_status", _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,待审核,{C5},"), ("ok", 0, 1, "未知处理状态“待审核”")),
    (
        "resolved_before_reported",
        _lines(HEADER, f"A1,2026-03-05,环境卫生,x,2026-03-01,已办结,{C5},"),
        ("ok", 0, 1, "办结时间早于受理时间"),
    ),
    (
        "unquoted_comma",
        _lines(HEADER, f"A1,2026-03-01,环境卫生,漏水,严重,,,{C5},第5网格"),
        ("ok", 0, 1, "列数多于表头"),
    ),
    (
        "unbalanced_quote",
        _lines(HEADER, f'A1,2026-03-01,环境卫生,"漏水,,,{C5},', f"A2,2026-03-01,环境卫生,x,,,{C5},"),
        ("ok", 0, 1, "第 2–3 行无法按表格读取"),  # the open quote swallows A2: both lines named
    ),
    ("huge_field", _lines(HEADER, f"A1,2026-03-01,环境卫生,{'很' * 40_000},,,{C5},"), ("ok", 0, 1, "字段超长")),
    ("formula_text", _lines(HEADER, f"A1,2026-03-01,=cmd|' /C calc'!A0,@SUM(1),,,{C5},"), ("ok", 1, 0, None)),
    ("id_too_long", _lines(HEADER, f"{'A' * 80},2026-03-01,环境卫生,x,,,{C5},"), ("ok", 0, 1, "编号超过 64 个字符")),
    (
        "xlsx_dates_and_serials",
        _xlsx(
            [
                ["工单编号", "受理时间", "诉求类别"],
                ["A1", pd.Timestamp("2026-03-01 09:00"), "环境卫生"],
                [1002, 46086.5, "噪声扰民"],
            ]
        ),
        ("ok", 2, 0, None),
    ),
    (
        "xlsx_blank_rows",
        _xlsx([["工单编号", "受理时间"], ["A1", "2026-03-01"], [None, None], ["A2", "2026-03-02"]]),
        ("ok", 2, 0, None),
    ),
    # ---- exports as offices make them (issue 16) ----
    (
        "title_rows_csv",
        _lines("凤鸣街道2026年3月12345工单明细", "", HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},"),
        ("ok", 1, 0, None),
    ),
    (
        "two_title_rows_csv",
        _lines("12345工单明细", "导出时间：2026-04-01", HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},"),
        ("ok", 1, 0, None),
    ),
    ("total_row_csv", _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", "合计,1,,,,,,,"), ("ok", 1, 0, None)),
    ("total_row_spaced", _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", ",合 计,,,,,,,"), ("ok", 1, 0, None)),
    ("total_row_english", _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", "Total,1,,,,,,,"), ("ok", 1, 0, None)),
    (
        "subtotal_between",
        _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", "小计,1,,,,,,,", f"A2,2026-03-02,环境卫生,x,,,{C5},"),
        ("ok", 2, 0, None),
    ),
    ("whitespace_rows", _lines(HEADER, "  ,  , ,,,,,,", f"A1,2026-03-01,环境卫生,x,,,{C5},", "\t"), ("ok", 1, 0, None)),
    ("blank_rows_only", _lines(HEADER, ",,,,,,,,", ",,,,,,,,"), ("ok", 0, 0, None)),
    ("title_only", _lines("凤鸣街道工单明细"), ("error", "缺少必需的列")),
    ("twelve_hour_chinese", _lines(HEADER, f"A1,2026/3/1 下午3:05,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    ("twelve_hour_english", _lines(HEADER, f"A1,2026-03-01 3:05 PM,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    ("twelve_hour_midnight", _lines(HEADER, f"A1,2026-03-01 上午12:30,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    ("thirteen_pm", _lines(HEADER, f"A1,2026-03-01 13:05 PM,环境卫生,x,,,{C5},"), ("ok", 0, 1, "无法识别为时间")),
    ("no_seconds", _lines(HEADER, f"A1,2026-03-01 9:05,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    ("hour_only_chinese", _lines(HEADER, f"A1,2026年3月1日 9时,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    ("two_digit_year", _lines(HEADER, f"A1,26/3/1,环境卫生,x,,,{C5},"), ("ok", 0, 1, "--date-order")),
    ("day_first_dotted", _lines(HEADER, f"A1,31.12.2025,环境卫生,x,,,{C5},"), ("ok", 0, 1, "--date-order")),
    ("month_first_12h", _lines(HEADER, f"A1,12/31/2025 11:59:58 PM,环境卫生,x,,,{C5},"), ("ok", 0, 1, "--date-order")),
    ("impossible_day", _lines(HEADER, f"A1,2026-02-30,环境卫生,x,,,{C5},"), ("ok", 0, 1, "无法识别为时间")),
    (
        "line_breaks_in_cells",
        _lines(HEADER, f'A1,2026-03-01,环境卫生,"楼上\n装修\n很吵",,,{C5},', f"A2,昨天,环境卫生,x,,,{C5},"),
        ("ok", 1, 1, "无法识别为时间"),
    ),
    (
        "xls_title_and_total",
        lambda tmp: _xls(
            tmp,
            [
                ["凤鸣街道2026年3月12345工单明细"],
                [],
                ["工单编号", "受理时间", "诉求类别"],
                ["A1", datetime(2026, 3, 1, 9, 5), "环境卫生"],
                ["A2", "2026-03-02 10:00", "噪声扰民"],
                ["合计", 2],
            ],
        ),
        ("ok", 2, 0, None),
    ),
    ("xls_bad_date", lambda tmp: _xls(tmp, [["工单编号", "受理时间"], ["A1", "下周"]]), ("ok", 0, 1, "无法识别为时间")),
    ("xls_empty", lambda tmp: _xls(tmp, []), ("error", "是空的")),
    (
        "wps_et",
        lambda tmp: _xls(tmp, [["工单编号", "受理时间"], ["A1", datetime(2026, 3, 1)]], "in.et"),
        ("ok", 1, 0, None),
    ),  # WPS's .et: read by its content, an OLE workbook like .xls
    (
        "xls_numeric_ids",
        lambda tmp: _xls(tmp, [["工单编号", "受理时间"], [1001, datetime(2026, 3, 1)]]),
        ("ok", 1, 0, None),
    ),
    ("crlf_lines", _bytes(f"{HEADER}\r\nA1,2026-03-01,环境卫生,x,,,{C5},\r\n".encode()), ("ok", 1, 0, None)),
    (
        "header_repeated_below",
        _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", HEADER),
        ("ok", 1, 1, "无法识别为时间"),
    ),
    ("pm_lowercase_dots", _lines(HEADER, f"A1,2026-03-01 3:05 p.m.,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    ("noon_12pm", _lines(HEADER, f"A1,2026/03/01 12:00 PM,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    ("iso_no_seconds", _lines(HEADER, f"A1,2026-03-01T09:05,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    (
        "gbk_with_title",
        _lines("凤鸣街道工单", HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", encoding="gbk"),
        ("ok", 1, 0, None),
    ),
    (
        "tabs_with_title",
        _lines("工单明细", HEADER.replace(",", "\t"), f"A1\t2026-03-01\t环境卫生\tx\t\t\t{C5.replace(',', chr(9))}\t"),
        ("ok", 1, 0, None),
    ),
    ("total_with_colon", _lines(HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", "总计：,1,,,,,,,"), ("ok", 1, 0, None)),
    ("future_date", _lines(HEADER, f"A1,2031-01-01,环境卫生,x,,,{C5},"), ("ok", 0, 1, "无法识别为时间")),
    ("am_pm_before_digits_english", _lines(HEADER, f"A1,2026-03-01 PM 3:05,环境卫生,x,,,{C5},"), ("ok", 1, 0, None)),
    (
        "xlsx_title_and_total",
        _xlsx([["凤鸣街道12345工单"], [None], ["工单编号", "受理时间"], ["A1", "2026-03-01"], ["合计", None]]),
        ("ok", 1, 0, None),
    ),
]


def _xls(tmp: Path, rows: list[list[object]], name: str = "in.xls") -> Path:
    """An old-Excel workbook as street offices' systems still export it (xlwt writes BIFF8); a merged title."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("工单明细")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    for r, row in enumerate(rows):
        if len(row) == 1 and r == 0:
            ws.write_merge(0, 0, 0, 2, row[0])
            continue
        for c, value in enumerate(row):
            ws.write(r, c, value, stamp) if isinstance(value, datetime) else ws.write(r, c, value)
    wb.save(str(tmp / name))
    return tmp / name


@pytest.mark.parametrize(("name", "make", "outcome"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_file_corpus(name: str, make: Maker, outcome: tuple[object, ...], street: Store, tmp_path: Path) -> None:
    assert len(CORPUS) >= 60
    path = make(tmp_path)
    before = table(street)
    imports_before = len(street.imports())
    if outcome[0] == "error":
        with pytest.raises(ImportFileError, match=re.escape(str(outcome[1]))):
            imported(street, path)
        pd.testing.assert_frame_equal(table(street), before)  # nothing changed
        assert len(street.imports()) == imports_before
        return
    _, inserted, rejected, reason = outcome
    summary = imported(street, path)
    assert (summary.record["inserted"], summary.record["rejected"]) == (inserted, rejected), summary.lines()
    rejects = street.import_rejects(summary.record["import_id"])
    assert len(rejects) == rejected
    if reason:
        assert rejects["reasons"].str.contains(str(reason), regex=False).all(), rejects["reasons"].tolist()
        assert rejects["row_number"].ge(2).all()  # spreadsheet row numbers: the header is row 1
        assert any(str(reason).split("“")[0][:6] in r for r, _ in summary.top_reasons), summary.top_reasons
    assert summary.record["rows_read"] == inserted + rejected + summary.record["updated"] + summary.record["unchanged"]


# ---- exact values after an import ------------------------------------------------


def test_dates_in_every_format_mean_the_same_moments(street: Store, tmp_path: Path) -> None:
    make = dict((c[0], c[1]) for c in CORPUS)["dates_many_formats"]
    imported(street, make(tmp_path))
    got = dict(zip(table(street)["case_id"], table(street)["reported_at"], strict=True))
    assert got["A1"] == pd.Timestamp("2026-03-01 09:00")
    assert got["A2"] == pd.Timestamp("2026-03-02 09:05")
    assert got["A3"] == pd.Timestamp("2026-03-03 10:20")
    assert got["A4"] == pd.Timestamp("2026-03-04")
    assert got["A5"] == pd.Timestamp("2026-03-05 12:00")  # Excel serial 46086.5
    assert got["A6"] == pd.Timestamp("2026-03-07 09:00")  # +08:00 is Beijing time
    assert got["A7"] == pd.Timestamp("2026-03-08")
    assert got["A8"] == pd.Timestamp("2026-03-09 09:00")  # database exports write milliseconds
    assert got["A9"] == pd.Timestamp("2026-03-10 09:00")  # UTC (JavaScript) to Beijing time
    assert got["A10"] == pd.Timestamp("2026-03-11 09:00")


def test_swapped_coordinates_are_fixed_and_placed(street: Store, tmp_path: Path) -> None:
    summary = imported(street, csv_file(tmp_path, [HEADER, "A1,2026-03-01,环境卫生,x,,,37.015,121.015,"]))
    row = table(street).iloc[0]
    assert (row["lon"], row["lat"]) == (121.015, 37.015)
    assert row["grid_code"] == fixtures.code(5)
    assert summary.warnings == {"经纬度写反，已自动互换": 1}


def test_gcj02_and_bd09_input_lands_in_the_right_grid(street: Store, tmp_path: Path) -> None:
    # A point 20 m inside grid 5's west edge: read as WGS-84, its GCJ-02 form lies ~500 m east, in grid 6.
    wgs = (fixtures.LON0 + fixtures.SIDE + 0.0002, fixtures.LAT0 + 1.5 * fixtures.SIDE)
    glon, glat = chinacrs.wgs84_to_gcj02(np.array([wgs[0]]), np.array([wgs[1]]))
    lines = [HEADER, f"G1,2026-03-01,环境卫生,x,,,{glon[0]:.8f},{glat[0]:.8f},"]
    imported(street, csv_file(tmp_path, lines), crs="gcj02")
    row = table(street).iloc[0]
    assert row["grid_code"] == fixtures.code(5)
    assert row["lon"] == pytest.approx(wgs[0], abs=1e-7)
    bd_lon, bd_lat = _gcj_to_bd(glon[0], glat[0])  # BD-09 of the same point
    street2_lines = [HEADER, f"B1,2026-03-01,环境卫生,x,,,{bd_lon:.8f},{bd_lat:.8f},"]
    imported(street, csv_file(tmp_path, street2_lines, name="bd.csv"), crs="bd09")
    bd_row = table(street).set_index("case_id").loc["B1"]
    assert bd_row["grid_code"] == fixtures.code(5)
    assert bd_row["lon"] == pytest.approx(wgs[0], abs=1e-6)


def _gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * chinacrs.X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * chinacrs.X_PI)
    return float(z * np.cos(theta) + 0.0065), float(z * np.sin(theta) + 0.006)


def test_no_coordinates_placed_by_grid_name_else_kept_unassigned(street: Store, tmp_path: Path) -> None:
    lines = [
        HEADER,
        "N1,2026-03-01,环境卫生,x,,,,,第4网格",
        "N2,2026-03-01,环境卫生,x,,,,,",
        "N3,2026-03-01,环境卫生,x,,,,,无此网格",
    ]
    summary = imported(street, csv_file(tmp_path, lines))
    rows = table(street).set_index("case_id")
    assert (rows.loc["N1", "grid_code"], rows.loc["N1", "placement"]) == (fixtures.code(4), "name")
    assert pd.isna(rows.loc["N2", "grid_code"])
    assert pd.isna(rows.loc["N3", "grid_code"])
    assert summary.record["inserted"] == 3  # nothing lost
    assert summary.warnings["无坐标，按网格名称落入网格"] == 1
    assert summary.warnings["不在任何网格内（记为未落网格，未丢弃）"] == 2


def test_formula_text_is_stored_as_written_and_exported_escaped(street: Store, tmp_path: Path) -> None:
    make = dict((c[0], c[1]) for c in CORPUS)["formula_text"]
    imported(street, make(tmp_path))
    row = table(street).iloc[0]
    assert row["category"] == "=cmd|' /C calc'!A0"
    csv_text = exports.to_csv(table(street)[["category", "description"]]).decode("utf-8-sig")
    assert "'=cmd" in csv_text
    assert "'@SUM(1)" in csv_text


def test_unknown_status_is_mapped_through_the_mapping_file(street: Store, tmp_path: Path) -> None:
    spec_path = tmp_path / "mapping.json"
    mapping.MappingSpec(statuses={"待审核": "reported"}, categories={"环卫": "环境卫生"}).save(spec_path)
    lines = [HEADER, f"A1,2026-03-01,环卫,x,,待审核,{C5},"]
    summary = imported(street, csv_file(tmp_path, lines), spec=mapping.load(spec_path))
    assert summary.record["rejected"] == 0
    row = table(street).iloc[0]
    assert (row["status"], row["category"]) == ("reported", "环境卫生")


def test_new_categories_are_kept_and_named(street: Store, tmp_path: Path) -> None:
    imported(street, csv_file(tmp_path, [HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},"]))
    summary = imported(street, csv_file(tmp_path, [HEADER, f"A2,2026-03-01,井盖缺失,x,,,{C5},"], name="b.csv"))
    assert table(street).set_index("case_id").loc["A2", "category"] == "井盖缺失"  # never turned into "other"
    assert any(w.startswith("新出现的诉求类别：井盖缺失") for w in summary.warnings)


def test_unknown_columns_are_mapped_by_flags(street: Store, tmp_path: Path) -> None:
    lines = ["流水号,来单日期,事项", "X1,2026-03-01,环境卫生"]
    with pytest.raises(ImportFileError, match="--map reported_at=你的列名"):
        imported(street, csv_file(tmp_path, lines))
    summary = imported(
        street, csv_file(tmp_path, lines), maps={"case_id": "流水号", "reported_at": "来单日期", "category": "事项"}
    )
    assert summary.record["inserted"] == 1
    with pytest.raises(ImportFileError, match="文件中没有列“单号”"):
        imported(street, csv_file(tmp_path, lines), maps={"case_id": "单号"})


# ---- nothing lost, nothing doubled ----------------------------------------------------


def test_reimport_changes_nothing_and_a_newer_export_updates(street: Store, tmp_path: Path) -> None:
    first = [HEADER, f"A1,2026-03-01 09:00,环境卫生,x,,办理中,{C5},", f"A2,2026-03-02 09:00,环境卫生,y,,办理中,{C5},"]
    imported(street, csv_file(tmp_path, first))
    before = table(street)
    again = imported(street, csv_file(tmp_path, first))
    assert (again.record["inserted"], again.record["updated"], again.record["unchanged"]) == (0, 0, 2)
    pd.testing.assert_frame_equal(table(street), before)
    newer = [
        HEADER,
        f"A1,2026-03-01 09:00,环境卫生,x,2026-03-02 15:00,已办结,{C5},",
        f"A3,2026-03-03,环境卫生,z,,,{C5},",
    ]
    later = imported(street, csv_file(tmp_path, newer, name="newer.csv"))
    assert (later.record["inserted"], later.record["updated"], later.record["unchanged"]) == (1, 1, 0)
    rows = table(street).set_index("case_id")
    assert rows.loc["A1", "status"] == "resolved"
    assert rows.loc["A1", "resolved_at"] == pd.Timestamp("2026-03-02 15:00")
    assert rows.loc["A2", "status"] == "accepted"  # not in the newer export: left alone


def test_a_later_export_without_a_column_does_not_erase_it(street: Store, tmp_path: Path) -> None:
    imported(street, csv_file(tmp_path, ["工单编号,受理时间,满意度,评价时间", "A1,2026-03-01,满意,2026-03-03"]))
    imported(street, csv_file(tmp_path, ["工单编号,受理时间,诉求内容", "A1,2026-03-01,补充说明"], name="b.csv"))
    row = table(street).iloc[0]
    assert (row["satisfaction"], row["description"]) == (5, "补充说明")


def test_an_error_midway_rolls_everything_back(street: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [HEADER] + [f"A{i},2026-03-01,环境卫生,x,,,{C5}," for i in range(10)]
    original = run.rows.cases
    calls = []

    def fail_second(*args: object, **kw: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(*args, **kw)

    monkeypatch.setattr(run.rows, "cases", fail_second)
    opener = sources.open_table
    monkeypatch.setattr(sources, "open_table", lambda p, s=None: opener(p, s, chunk_rows=4))
    with pytest.raises(RuntimeError):
        imported(street, csv_file(tmp_path, lines))
    assert table(street).empty
    assert street.imports().empty
    assert street.import_rejects().empty


def test_rejects_keep_file_row_and_raw_row(street: Store, tmp_path: Path) -> None:
    lines = [HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", f"A2,明天,环境卫生,秘密内容,,,{C5},"]
    summary = imported(street, csv_file(tmp_path, lines, name="三月.csv"))
    rej = street.import_rejects(summary.record["import_id"]).iloc[0]
    assert (rej["file_name"], rej["row_number"]) == ("三月.csv", 3)
    assert json.loads(rej["raw"])["诉求内容"] == "秘密内容"
    assert "受理时间“明天”无法识别为时间" in rej["reasons"]
    assert "import" in set(street.audit_log()["action"])


# ---- Open311 and resources ------------------------------------------------------------


def test_open311_json(street: Store, tmp_path: Path) -> None:
    items = [
        {
            "service_request_id": "o1",
            "status": "closed",
            "service_name": "Pothole",
            "requested_datetime": "2026-03-01T09:00:00+08:00",
            "updated_datetime": "2026-03-02T10:00:00+08:00",
            "lat": fixtures.centre(1)[1],
            "long": fixtures.centre(1)[0],
            "agency_responsible": "区住建局",
            "description": "坑洼",
        },
        {
            "service_request_id": "o2",
            "status": "open",
            "service_name": "Noise",
            "requested_datetime": "2026-03-01T01:00:00Z",
            "lat": None,
            "long": None,
        },
        "not a request",
    ]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    summary = imported(street, path)
    assert (summary.record["inserted"], summary.record["rejected"], summary.record["format"]) == (2, 1, "open311")
    rows = table(street).set_index("case_id")
    assert rows.loc["o1", "status"] == "resolved"
    assert rows.loc["o1", "resolved_at"] == pd.Timestamp("2026-03-02 10:00")
    assert rows.loc["o1", "grid_code"] == fixtures.code(1)
    assert rows.loc["o2", "reported_at"] == pd.Timestamp("2026-03-01 09:00")
    assert rows.loc["o2", "source"] == "Open311"


def test_resources_with_chinese_kinds(street: Store, tmp_path: Path) -> None:
    lines = [
        "资源编号,名称,类型,经度,纬度",
        f"R1,凤鸣社区党群服务中心,党群服务中心,{lonlat(1)}",
        f"R2,三号楼邻里角,楼道邻里角,{lonlat(9)}",
        f"R3,未知,广场舞队,{lonlat(2)}",
    ]
    summary = imported(street, csv_file(tmp_path, lines), kind="resources")
    assert (summary.record["inserted"], summary.record["rejected"]) == (2, 1)
    rows = table(street, "resources").set_index("resource_id")
    assert (rows.loc["R1", "kind"], rows.loc["R1", "level"], rows.loc["R1", "grid_code"]) == (
        "service_centre",
        1,
        fixtures.code(1),
    )
    assert rows.loc["R2", "level"] == 4
    assert "未知资源类型“广场舞队”" in street.import_rejects()["reasons"].iloc[0]


# ---- grids --------------------------------------------------------------------------


def _grid_file(tmp: Path, frame: gpd.GeoDataFrame, name: str = "grids.geojson", driver: str = "GeoJSON") -> Path:
    frame.to_file(tmp / name, driver=driver)
    return tmp / name


def _layer(geoms: list[shapely.Geometry], codes: list[str] | None = None) -> gpd.GeoDataFrame:
    codes = codes or [fixtures.code(i + 1) for i in range(len(geoms))]
    return gpd.GeoDataFrame(
        {"网格编码": codes, "网格名称": [f"新{c[-1]}" for c in codes], "所属社区": "甲社区"},
        geometry=geoms,
        crs=shapes.WGS84,
    )


def test_invalid_polygon_is_repaired_and_a_point_rejected(street: Store, tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(121.0, 37.0), (121.01, 37.01), (121.01, 37.0), (121.0, 37.01), (121.0, 37.0)])
    layer = _layer([bowtie, fixtures.cell(2), shapely.Point(121.0, 37.0)])
    summary = grids.import_grids(street, _grid_file(tmp_path, layer))
    assert (summary.record["inserted"] + summary.record["updated"], summary.record["rejected"]) == (2, 1)
    assert summary.warnings["无效多边形（自相交等）已自动修复"] == 1
    assert "边界不是面（是 Point）" in street.import_rejects()["reasons"].iloc[0]
    assert len(table(street, "grids")) == 2  # the new layer replaced the old nine


def test_overlaps_and_gaps_are_reported_with_their_area(street: Store, tmp_path: Path) -> None:
    a = shapely.box(121.0, 37.0, 121.01, 37.01)
    b = shapely.box(121.009, 37.0, 121.02, 37.01)  # overlaps a by 0.001° x 0.01°
    ring = shapely.box(121.0, 37.01, 121.02, 37.03).difference(shapely.box(121.005, 37.015, 121.015, 37.025))
    summary = grids.import_grids(street, _grid_file(tmp_path, _layer([a, b, ring])))
    overlap = next(w for w in summary.warnings if "重叠" in w)
    area = float(overlap.split("重叠 ")[1].split(" 平方米")[0].replace(",", ""))
    assert 95_000 < area < 100_000  # 0.001° x 0.01° at 37°N: ~89 m x 1,110 m
    assert any("1 处空隙" in w for w in summary.warnings)


def test_new_layer_joins_every_case_again(street: Store, tmp_path: Path) -> None:
    imported(street, csv_file(tmp_path, [HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},"]))
    assert table(street).iloc[0]["grid_code"] == fixtures.code(5)
    big = shapely.box(fixtures.LON0, fixtures.LAT0, fixtures.LON0 + 0.03, fixtures.LAT0 + 0.03)
    summary = grids.import_grids(street, _grid_file(tmp_path, _layer([big], ["370602005009999"])))
    assert summary.record["rejoined"] == 1
    assert table(street).iloc[0]["grid_code"] == "370602005009999"


def test_shapefile_in_a_projected_crs_and_kml(street: Store, tmp_path: Path) -> None:
    # DBF field names are 10 bytes at most: surveying offices use short ASCII names
    layer = _layer([fixtures.cell(1), fixtures.cell(2)]).rename(
        columns={"网格编码": "code", "网格名称": "name", "所属社区": "community"}
    )
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    layer.to_crs("EPSG:4549").to_file(shp_dir / "grids.shp", driver="ESRI Shapefile", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "grids.zip", "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    summary = grids.import_grids(street, tmp_path / "grids.zip")
    assert summary.record["rejected"] == 0
    got = table(street, "grids").set_index("grid_code")
    geom = shapely.from_wkb(bytes(got.loc[fixtures.code(1), "geometry"]))
    assert geom.normalize().equals_exact(fixtures.cell(1).normalize(), tolerance=1e-7)  # ring order aside
    kml = _grid_file(tmp_path, _layer([fixtures.cell(3)]).rename(columns={"网格编码": "Name"}), "g.kml", "KML")
    with pytest.raises(ImportFileError, match="缺少必需的列：grid_code"):
        grids.import_grids(street, kml)
    summary = grids.import_grids(street, kml, maps={"grid_code": "Name"})
    assert list(table(street, "grids")["grid_code"]) == [fixtures.code(1)]


def test_a_grid_file_that_is_not_one_changes_nothing(street: Store, tmp_path: Path) -> None:
    before = table(street, "grids")
    (tmp_path / "x.zip").write_bytes(_zip_bytes({"a.txt": b"x"}))
    with pytest.raises(ImportFileError, match=r"没有 \.shp 文件"):
        grids.import_grids(street, tmp_path / "x.zip")
    (tmp_path / "empty.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(ImportFileError):
        grids.import_grids(street, tmp_path / "empty.geojson")
    pd.testing.assert_frame_equal(table(street, "grids"), before)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


# ---- round trip on a realistic export ----------------------------------------------------


@pytest.fixture(scope="module")
def demo_street(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gridpulse import demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    demo.generate(path, 3000, 7)
    return path


@pytest.mark.parametrize("form", ["gbk_csv_gcj02", "xlsx", "open311_csv", "open311_json"])
def test_round_trip_of_a_realistic_export(form: str, demo_street: Path, tmp_path: Path) -> None:
    from gridpulse import views
    from gridpulse.filters import Filters

    source = Store(demo_street)
    try:
        cases = source.query("SELECT * FROM cases ORDER BY case_id")
        grid_rows = source.query("SELECT * FROM grids")
        as_of = source.as_of()
    finally:
        source.close()
    target = tmp_path / "real.duckdb"
    store_pkg.create_empty(target, "凤鸣街道")
    store = Store(target)
    try:
        grids.import_grids(store, exportfiles.grids_geojson(grid_rows, tmp_path / "grids.geojson"))
        if form == "gbk_csv_gcj02":
            path = exportfiles.write_csv(exportfiles.hotline(cases, gcj02=True), tmp_path / "12345.csv")
            summary = run.import_file(store, "cases", path, crs="gcj02")
        elif form == "xlsx":
            path = tmp_path / "12345.xlsx"
            exportfiles.hotline(cases).to_excel(path, index=False)
            summary = run.import_file(store, "cases", path)
        else:
            items = exportfiles.open311(cases)
            if form == "open311_json":
                path = exportfiles.write_json(items, tmp_path / "requests.json")
            else:
                path = exportfiles.write_csv(pd.DataFrame(items), tmp_path / "requests.csv", "utf-8")
            summary = run.import_file(store, "cases", path)
        assert summary.record["rows_read"] == len(cases)
        assert summary.record["inserted"] == len(cases)  # every row of the export accounted for, none rejected
        got = store.query("SELECT case_id, grid_code FROM cases ORDER BY case_id")
        assert (got["grid_code"].fillna("-").to_numpy() == cases["grid_code"].fillna("-").to_numpy()).mean() > 0.999
        period = Filters(as_of.date().replace(month=1, day=1), as_of.date())
        original = Store(demo_street)
        try:
            want = views.headline(original, Scope.street(), period, as_of)
        finally:
            original.close()
        have = views.headline(store, Scope.street(), period, as_of)
        for key in ("cases", "resolved", "resolution_rate", "backlog", "unassigned"):
            assert have[key] == pytest.approx(want[key], abs=1e-9), key
        if form != "open311_csv" and form != "open311_json":
            for key in ("satisfaction", "on_time_rate"):
                assert have[key] == pytest.approx(want[key], abs=1e-9), key
    finally:
        store.close()


def test_the_command_line_imports_into_a_new_street(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from tests import apps

    monkeypatch.setenv("PYTHONPATH", str(apps.ROOT))
    geo = exportfiles.grids_geojson(fixtures.grid_rows(), tmp_path / "grids.geojson")
    cases = csv_file(tmp_path, [HEADER, f"A1,2026-03-01,环境卫生,x,,,{C5},", "A2,坏日期,环境卫生,x,,,,,"], "gbk")
    cmd = [sys.executable, "-m", "gridpulse"]
    env = {**os.environ}

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cmd, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)

    r = call("import", "cases", str(cases), "--db", "new.duckdb")
    assert r.returncode == 2
    assert "新建时请加 --street" in r.stderr
    assert call("import", "grids", str(geo), "--db", "new.duckdb", "--street", "测试街道").returncode == 0
    r = call("import", "cases", str(cases), "--db", "new.duckdb", "--save-mapping", "m.json")
    assert r.returncode == 0, r.stderr
    assert "读取 2 行，新增 1，更新 0，未变 0，拒收 1" in r.stdout
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["columns"]["case_id"] == "工单编号"
    r = call("rejects", "--db", "new.duckdb")
    assert "坏日期" in r.stdout
    r = call("import", "cases", str(tmp_path / "missing.csv"), "--db", "new.duckdb")
    assert r.returncode == 2
    assert "导入失败，数据库未改动：找不到文件" in r.stderr


# ---- the 数据导入 page ----------------------------------------------------------------


@pytest.fixture
def own_street(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture street in a file of this test's own (imports write to it)."""
    path = fixtures.build(tmp_path / "own.duckdb")
    monkeypatch.setenv("GRIDPULSE_DB", str(path))
    return path


def _import_page(username: str = "admin"):
    from tests import apps

    at = apps.app(username)
    at.switch_page("app_pages/page_import.py").run()
    assert not at.exception, at.exception
    return at


def test_import_page_imports_a_gbk_export_and_lists_the_rejects(own_street: Path) -> None:
    from gridpulse.ui import cache

    at = _import_page()
    lines = [HEADER, f"P1,2026-03-20 09:00,环境卫生,x,,办理中,{C5},", f"P2,坏时间,环境卫生,y,,,{C5},",
             f"c01,2026-03-01 09:00,环境卫生,c01 测试诉求,2026-03-02 09:00,已回访,{lonlat(1)},"]  # fmt: skip
    at.file_uploader(key="imp_file").set_value(("三月.csv", "\n".join(lines).encode("gbk"), "text/csv"))
    at.button[0].click().run()
    assert not at.exception, at.exception
    figures = {m.label: m.value for m in at.metric}
    assert figures == {"读取": "3", "新增": "1", "更新": "1", "未变": "0", "拒收": "1"}
    rejects = at.dataframe[0].value
    assert rejects.iloc[0]["行号"] == 3
    assert "受理时间“坏时间”" in rejects.iloc[0]["原因"]
    assert "拒收的行（1 行）" in [s.value for s in at.subheader]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "下载拒收清单（CSV）" in labels
    store = cache.store()
    assert store.query("SELECT status FROM cases WHERE case_id = 'P1'")["status"].tolist() == ["accepted"]
    assert "import" in set(store.audit_log()["action"])


def test_import_page_says_what_to_fix_and_changes_nothing(own_street: Path) -> None:
    from gridpulse.ui import cache

    before = cache.store().query("SELECT count(*) AS n FROM cases")["n"].iloc[0]
    at = _import_page()
    at.file_uploader(key="imp_file").set_value(("x.csv", "编号,内容\n1,2".encode(), "text/csv"))
    at.button[0].click().run()
    assert not at.exception
    assert any("导入失败，数据库未改动：缺少必需的列" in e.value for e in at.error)
    assert cache.store().query("SELECT count(*) AS n FROM cases")["n"].iloc[0] == before


def test_import_page_refuses_the_demo_street(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridpulse import demo

    path = tmp_path / "demo.duckdb"
    demo.generate(path, 200, 1)
    monkeypatch.setenv("GRIDPULSE_DB", str(path))
    at = _import_page()
    assert any("当前是演示数据库" in i.value for i in at.info)
    assert not at.file_uploader


def test_the_import_benchmark_runs_and_accounts_for_every_row() -> None:
    from gridpulse.benchmarks import imports as bench_import

    [result] = bench_import.run((3000,))
    ours = result["ours"]
    assert ours["rows"] == 3000
    assert ours["inserted"] + ours["rejected"] == 3000
    assert 0 < ours["rejected"] < 100  # ~1 % of rows carry a bad date on purpose
    assert 0.6 < ours["assigned_share"] < 0.9  # points spread over the street's bounding box
    assert "3,000" in bench_import.table([result])


def test_import_page_takes_a_grid_layer(own_street: Path, tmp_path: Path) -> None:
    from gridpulse.ui import cache

    geo = exportfiles.grids_geojson(fixtures.grid_rows().iloc[:4], tmp_path / "grids.geojson")
    at = _import_page()
    at.radio(key="imp_kind").set_value("grids")
    at.file_uploader(key="imp_file").set_value(("网格.geojson", geo.read_bytes(), "application/geo+json"))
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["读取"] == "4"
    assert len(cache.store().grids(Scope.street())) == 4


# ---- found by review ------------------------------------------------------------------


def test_a_narrower_later_export_does_not_set_status_back(street: Store, tmp_path: Path) -> None:
    full = ["工单编号,受理时间,办结时间,评价时间,处理状态",
            "A1,2026-03-01 09:00,2026-03-02 09:00,2026-03-03 09:00,已回访"]  # fmt: skip
    imported(street, csv_file(tmp_path, full))
    imported(street, csv_file(tmp_path, ["工单编号,受理时间,诉求类别", "A1,2026-03-01 09:00,环境卫生"], name="b.csv"))
    row = table(street).iloc[0]
    assert (row["status"], row["category"]) == ("rated", "环境卫生")


def test_optional_times_that_cannot_be_read_keep_the_case(street: Store, tmp_path: Path) -> None:
    lines = ["工单编号,受理时间,办理期限,办结时间", "A1,2026-03-01 09:00,5个工作日,2026-03-01"]
    summary = imported(street, csv_file(tmp_path, lines))
    row = table(street).iloc[0]
    assert summary.record["inserted"] == 1
    assert pd.isna(row["deadline_at"])
    assert row["resolved_at"] == pd.Timestamp("2026-03-01")  # a date only, the same day: not "before"
    assert summary.warnings["办理期限无法识别为时间，已留空（诉求保留）"] == 1
    summary = imported(street, csv_file(tmp_path, lines, name="b.csv"), maps={"deadline_at": ""})
    assert "deadline_at" not in summary.columns  # "target=" ignores a recognised column


def test_ids_mangled_by_excel_are_rejected_not_merged(street: Store, tmp_path: Path) -> None:
    lines = ["工单编号,受理时间", "2.02603E+17,2026-03-01", "202603010001234,2026-03-01"]
    summary = imported(street, csv_file(tmp_path, lines))
    assert (summary.record["inserted"], summary.record["rejected"]) == (1, 1)
    assert "科学计数法" in street.import_rejects()["reasons"].iloc[0]


def test_repeated_headers_get_names_of_their_own(street: Store, tmp_path: Path) -> None:
    lines = ["工单编号,受理时间,备注_3,备注,备注", "A1,2026-03-01,a,b,c"]
    opened = sources.open_table(csv_file(tmp_path, lines))
    assert opened.headers == ["工单编号", "受理时间", "备注_3", "备注", "备注_5"]
    summary = imported(street, csv_file(tmp_path, lines, name="b.csv"), maps={"description": "备注_5"})
    assert table(street).iloc[0]["description"] == "c"
    assert summary.record["inserted"] == 1


@pytest.mark.parametrize(
    "text",
    ['{"columns": ["a"]}', '{"categories": "x"}', '{"statuses": null}', '{"crs": 4547}', '{"colums": {}}', "[1]"],
)
def test_a_malformed_mapping_file_is_refused_in_chinese(text: str) -> None:
    with pytest.raises(ImportFileError, match="映射文件"):
        mapping.parse(text, "映射文件")


def test_a_projected_layer_without_prj_is_refused_and_the_page_keeps_the_files_own_crs(
    street: Store, tmp_path: Path
) -> None:
    from gridpulse import auth

    layer = _layer([fixtures.cell(1), fixtures.cell(2)]).rename(
        columns={"网格编码": "code", "网格名称": "name", "所属社区": "community"}
    )
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    layer.to_crs("EPSG:4549").to_file(shp_dir / "g.shp", driver="ESRI Shapefile", encoding="utf-8")
    members = {f.name: f.read_bytes() for f in shp_dir.iterdir()}
    no_prj = {k: v for k, v in members.items() if not k.endswith(".prj")}
    (tmp_path / "noprj.zip").write_bytes(_zip_bytes(no_prj))
    before = table(street, "grids")
    with pytest.raises(ImportFileError, match="不在中国的经纬度范围内"):
        grids.import_grids(street, tmp_path / "noprj.zip")
    pd.testing.assert_frame_equal(table(street, "grids"), before)
    admin = auth.User("admin", "管理员", "admin", Scope("admin"))
    summary = entry.import_upload(street, admin, "grids", "g.zip", _zip_bytes(members), crs="auto")
    assert summary.record["rejected"] == 0
    stored = table(street, "grids").set_index("grid_code").loc[fixtures.code(1), "geometry"]
    assert shapely.from_wkb(bytes(stored)).normalize().equals_exact(fixtures.cell(1).normalize(), tolerance=1e-7)


def test_import_page_reads_month_first_times_once_the_order_is_chosen(own_street: Path) -> None:
    from gridpulse.ui import cache

    at = _import_page()
    lines = [HEADER, f"M1,03/20/2026 9:05 PM,环境卫生,x,,办理中,{C5},"]
    at.file_uploader(key="imp_file").set_value(("march.csv", "\n".join(lines).encode(), "text/csv"))
    at.selectbox(key="imp_date_order").set_value("mdy")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["新增"] == "1"
    got = cache.store().query("SELECT reported_at FROM cases WHERE case_id = 'M1'")["reported_at"].astype(str)
    assert got.tolist() == ["2026-03-20 21:05:00"]
    assert "下载本次的列映射（下月导入可复用）" in [b.proto.label for b in at.get("download_button")]
