"""Real exports (issue 16): the user says the date order; month-first 12-hour times from a 311 export import."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from gridpulse.ingest import mapping, run, values
from gridpulse.ingest.errors import ImportFileError
from gridpulse.store import Store
from tests.fixtures import centre
from tests.test_import import csv_file, street, table  # noqa: F401 (street: the fixture)

LATEST = datetime(2026, 11, 30)


def _read(cells: list[object], order: str | None) -> list[str]:
    parsed, _ = values.datetimes(pd.Series(cells, dtype=object), LATEST, order)
    return ["" if pd.isna(v) else str(v)[:19] for v in parsed]


def test_the_user_says_which_of_day_and_month_comes_first() -> None:
    cells = ["12/31/2017 11:59:58 PM", "1/1/20 0:05", "3/4/2026 12:30 AM", "03/04/2026 12:00 PM", "2/30/2020"]
    assert _read(cells, "mdy") == ["2017-12-31 23:59:58", "2020-01-01 00:05:00", "2026-03-04 00:30:00",
                                   "2026-03-04 12:00:00", ""]  # fmt: skip
    assert _read(cells, "dmy") == ["", "2020-01-01 00:05:00", "2026-04-03 00:30:00", "2026-04-03 12:00:00", ""]
    assert _read(cells, None) == ["", "", "", "", ""]  # either way round: not guessed
    assert values.ambiguous_order(pd.Series(cells)).tolist() == [True] * 5


def test_twelve_hour_clocks_two_digit_years_and_times_without_seconds() -> None:
    cells = ["2026/3/1 下午3:05", "2026-03-01 上午 9:30", "2026/3/1 3:05 PM", "2026/03/01 9:05 a.m.",
             "2026-03-01 12:10 AM", "2026-03-01 13:05 PM", "2026年3月1日 9时", "2026-03-01 9:05"]  # fmt: skip
    assert _read(cells, None) == ["2026-03-01 15:05:00", "2026-03-01 09:30:00", "2026-03-01 15:05:00",
                                  "2026-03-01 09:05:00", "2026-03-01 00:10:00", "", "2026-03-01 09:00:00",
                                  "2026-03-01 09:05:00"]  # fmt: skip
    assert _read(["26/3/1 8:00", "31.12.99"], "ymd") == ["2026-03-01 08:00:00", ""]  # 2099 is not a case's year
    assert _read(["31.12.25 8:00"], "dmy") == ["2025-12-31 08:00:00"]
    # out of range is no time, never carried into the next hour or day
    assert _read(["2026/3/1 25:00", "2026-03-01 10:75", "2026/03/01 23:59:60", "2026-03-01T24:30"], None) == [""] * 4
    assert _read(["3/1/2026 24:00", "3/1/2026 11:60 PM"], "mdy") == ["", ""]


def test_a_mapping_file_carries_the_date_order_and_a_wrong_one_is_named() -> None:
    assert mapping.parse('{"date_order": "mdy"}', "m.json").date_order == "mdy"
    from gridpulse import admin_views

    assert json.loads(admin_views.mapping_json("cases", {}, None, date_order="mdy"))["date_order"] == "mdy"
    with pytest.raises(ImportFileError, match="日期顺序“month-first”无法识别"):
        mapping.parse('{"date_order": "month-first"}', "m.json")


HEADER = (
    "Unique Key,Created Date,Closed Date,Agency,Complaint Type,Descriptor,Incident Address,Status,Latitude,Longitude"
)
STATUS_WORDS = {"Closed": "resolved", "In Progress": "accepted", "Assigned": "dispatched", "Open": "reported"}


def _export_311(tmp_path: Path) -> Path:
    """A real-shaped 311 export: English headers, month-first 12-hour times, some without seconds or year digits."""
    rows = [HEADER]
    times = [("3/1/2026 9:05:00 AM", "3/2/2026 4:30:10 PM"), ("3/10/26 11:59 PM", ""),
             ("03/12/2026 12:00:00 PM", "03/13/2026 12:00:00 AM"), ("3/14/2026 8:00:00 PM", "")]  # fmt: skip
    statuses = ["Closed", "In Progress", "Closed", "Assigned"]
    for i, ((created, closed), status) in enumerate(zip(times, statuses, strict=True)):
        lon, lat = centre(1 + i % 9)
        rows.append(f"{5000 + i},{created},{closed},DSNY,Noise - Residential,Loud Music,1 MAIN ST,{status},{lat},{lon}")
    return csv_file(tmp_path, rows, name="311_Service_Requests.csv")


def _spec(order: str | None) -> mapping.MappingSpec:
    columns = {"case_id": "Unique Key", "reported_at": "Created Date", "resolved_at": "Closed Date",
               "department": "Agency", "category": "Complaint Type", "description": "Descriptor",
               "address": "Incident Address", "status": "Status", "lat": "Latitude", "lon": "Longitude"}  # fmt: skip
    return mapping.MappingSpec(kind="cases", columns=columns, statuses=STATUS_WORDS, date_order=order)


def test_a_311_export_with_month_first_times_imports_once_the_order_is_said(street: Store, tmp_path: Path) -> None:  # noqa: F811
    path = _export_311(tmp_path)
    refused = run.import_file(street, "cases", path, crs="wgs84", maps={}, spec=_spec(None))
    assert refused.record["inserted"] == 0
    assert refused.record["rejected"] == 4
    reasons = street.import_rejects(refused.record["import_id"])["reasons"].tolist()
    assert all("--date-order mdy" in r and "date_order" in r for r in reasons)  # says which option reads them
    done = run.import_file(street, "cases", path, crs="wgs84", maps={}, spec=_spec("mdy"))
    assert (done.record["rows_read"], done.record["inserted"], done.record["rejected"]) == (4, 4, 0)
    cases = table(street).set_index("case_id")
    assert str(cases.loc["5000", "reported_at"]) == "2026-03-01 09:05:00"
    assert str(cases.loc["5000", "resolved_at"]) == "2026-03-02 16:30:10"
    assert str(cases.loc["5001", "reported_at"]) == "2026-03-10 23:59:00"  # two-digit year, no seconds
    assert str(cases.loc["5002", "resolved_at"]) == "2026-03-13 00:00:00"  # 12:00:00 AM is midnight
    assert cases["status"].tolist() == ["resolved", "accepted", "resolved", "dispatched"]
    assert cases["grid_code"].notna().all()


def test_the_cli_takes_the_date_order_and_saves_it_in_the_mapping(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests import fixtures

    db = tmp_path / "street.duckdb"
    fixtures.build(db)
    spec = _spec(None)
    mapping_file = tmp_path / "311.json"
    spec.save(mapping_file)
    base = [sys.executable, "-m", "gridpulse", "import", "cases", str(_export_311(tmp_path)), "--db", str(db),
            "--mapping", str(mapping_file), "--crs", "wgs84"]  # fmt: skip
    done = subprocess.run([*base, "--date-order", "mdy", "--save-mapping", str(tmp_path / "saved.json")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "saved.json").read_text(encoding="utf-8"))["date_order"] == "mdy"
    assert Store(db).query("SELECT count(*) AS n FROM cases WHERE case_id LIKE '500%'")["n"].iloc[0] == 4


def test_rows_keep_the_spreadsheet_numbers_and_skipped_rows_are_counted(street: Store, tmp_path: Path) -> None:  # noqa: F811
    lines = ["凤鸣街道2026年3月12345工单明细", "", "工单编号,受理时间,诉求内容", 'A1,2026-03-01,"楼上\n装修\n很吵"',
             ",,", "A2,昨天,x", "合计,2,"]  # fmt: skip
    summary = run.import_file(street, "cases", csv_file(tmp_path, lines))
    rejects = street.import_rejects(summary.record["import_id"])
    # title 1, blank 2, header 3, A1 4 (three lines in the file, one row in a spreadsheet), blank 5, A2 6, 合计 7
    assert rejects["row_number"].tolist() == [6]
    assert (summary.record["rows_read"], summary.record["inserted"], summary.record["rejected"]) == (2, 1, 1)
    warnings = summary.warnings
    assert warnings["表头上方的标题行（已跳过）：凤鸣街道2026年3月12345工单明细"] == 1
    assert warnings["空行（已跳过，不算诉求）"] == 1
    assert warnings["合计行（已跳过，不算诉求）：第 7 行"] == 1
    assert table(street)["case_id"].tolist() == ["A1"]


def test_an_old_excel_export_with_a_title_and_a_total_imports_with_its_times(street: Store, tmp_path: Path) -> None:  # noqa: F811
    from tests.test_import import _xls

    rows = [["凤鸣街道2026年3月12345工单明细"], [], ["工单编号", "受理时间", "诉求类别"],
            ["A1", datetime(2026, 3, 1, 9, 5), "环境卫生"], [1002, "2026/3/2 下午3:05", "噪声扰民"],
            ["合计", 2]]  # fmt: skip
    summary = run.import_file(street, "cases", _xls(tmp_path, rows))
    assert (summary.record["inserted"], summary.record["rejected"]) == (2, 0)
    got = table(street).set_index("case_id")["reported_at"].astype(str).to_dict()
    assert got == {"1002": "2026-03-02 15:05:00", "A1": "2026-03-01 09:05:00"}
    assert street.imports().iloc[-1]["format"] == "xls"


def test_re_importing_the_same_grids_moves_nothing_and_renumbered_grids_keep_cases_placed_by_name(
    street: Store,  # noqa: F811
    tmp_path: Path,
) -> None:
    from gridpulse.ingest import grids
    from tests import exportfiles, fixtures

    header = "工单编号,受理时间,诉求类别,经度,纬度,所属网格"
    lon, lat = centre(5)
    lines = [header, f"A1,2026-03-01,环境卫生,{lon},{lat},", "A2,2026-03-01,环境卫生,122.0,37.0,",  # A2: in no grid
             "A3,2026-03-01,环境卫生,,,第5网格"]  # fmt: skip
    run.import_file(street, "cases", csv_file(tmp_path, lines))
    placed = table(street).set_index("case_id")
    assert placed["grid_code"].isna().tolist() == [False, True, False]
    assert placed.loc["A3", "placement"] == "name"
    same = grids.import_grids(street, exportfiles.grids_geojson(fixtures.grid_rows(), tmp_path / "same.geojson"))
    assert same.record["rejoined"] == 0  # identical layer: no case changed grid (A2 was in none and still is)
    assert not any("换了网格" in w for w in same.warnings)
    renumbered = fixtures.grid_rows().assign(grid_code=lambda g: "N" + g["grid_code"].str[-4:])
    grids.import_grids(street, exportfiles.grids_geojson(renumbered, tmp_path / "renumbered.geojson"))
    after = table(street).set_index("case_id")
    assert after.loc["A3", "grid_code"] == "N" + fixtures.code(5)[-4:]  # placed by name: the grid of that name
    assert after.loc["A3", "placement"] == "name"
    assert after.loc["A1", "grid_code"] == "N" + fixtures.code(5)[-4:]


def _shapefile_zip(
    tmp_path: Path, encoding: str, names: list[str], communities: list[str], ldid: int = 0, fields: tuple = ()
) -> Path:
    """A zipped Shapefile as a surveying office sends it: its .dbf in ``encoding``, no .cpg, no code page byte."""
    import zipfile

    import geopandas as gpd

    from geo import shapes
    from tests import fixtures

    folder = tmp_path / f"{encoding}-{ldid}"
    folder.mkdir()
    columns = fields or ("code", "name", "community")
    values = ([fixtures.code(1), fixtures.code(2)], names, communities)
    layer = gpd.GeoDataFrame(dict(zip(columns, values, strict=True)), geometry=[fixtures.cell(1), fixtures.cell(2)],
                             crs=shapes.WGS84)  # fmt: skip
    layer.to_file(folder / "grids.shp", driver="ESRI Shapefile", encoding=encoding)
    dbf = bytearray((folder / "grids.dbf").read_bytes())
    dbf[29] = ldid  # no language driver id (0), or ArcGIS's "system ANSI page" (0x57): the page is not named
    (folder / "grids.dbf").write_bytes(bytes(dbf))
    target = tmp_path / f"grids-{encoding}-{ldid}.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for part in folder.iterdir():
            if part.suffix != ".cpg":
                zf.write(part, part.name)
    return target


@pytest.mark.parametrize(
    ("encoding", "names", "communities", "said"),
    [
        ("gbk", ["第1网格", "第2网格"], ["甲社区", "甲社区"], "GBK（简体）"),
        ("big5", ["第1網格", "第2網格"], ["鳳鳴社區", "鳳鳴社區"], "Big5（繁体）"),
    ],
)
def test_a_shapefile_without_a_cpg_is_read_in_its_chinese_encoding(
    street: Store,  # noqa: F811
    tmp_path: Path,
    encoding: str,
    names: list[str],
    communities: list[str],
    said: str,
) -> None:
    from gridpulse.ingest import grids

    summary = grids.import_grids(street, _shapefile_zip(tmp_path, encoding, names, communities))
    stored = table(street, "grids")
    assert stored["grid_name"].tolist() == names
    assert stored["community"].tolist() == communities
    assert any(said in w for w in summary.warnings)


def test_arcgis_shapefiles_and_chinese_field_names_with_plain_values_are_read_in_gbk(
    street: Store,  # noqa: F811
    tmp_path: Path,
) -> None:
    from gridpulse.ingest import grids

    path = _shapefile_zip(tmp_path, "gbk", ["第1网格", "第2网格"], ["甲社区", "甲社区"], ldid=0x57)
    grids.import_grids(street, path)
    assert table(street, "grids")["grid_name"].tolist() == ["第1网格", "第2网格"]
    plain = _shapefile_zip(tmp_path, "gbk", ["G1", "G2"], ["A", "A"], fields=("网格编码", "网格名称", "所属社区"))
    grids.import_grids(street, plain)  # only the field names are Chinese: found by their names all the same
    assert table(street, "grids")["grid_name"].tolist() == ["G1", "G2"]


def test_kml_extended_data_keeps_its_chinese_field_names(street: Store, tmp_path: Path) -> None:  # noqa: F811
    from gridpulse.ingest import grids
    from tests import fixtures

    placemarks = "".join(
        f'<Placemark><name>第{n}网格</name><ExtendedData><Data name="网格编码"><value>{fixtures.code(n)}</value></Data>'
        f'<Data name="所属社区"><value>甲社区</value></Data><Data name="户数"><value>{100 * n}</value></Data>'
        "</ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y}" for x, y in fixtures.cell(n).exterior.coords)
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for n in (1, 2)
    )
    kml = tmp_path / "grids.kml"
    kml.write_text(f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                   f"{placemarks}</Document></kml>", encoding="utf-8")  # fmt: skip
    grids.import_grids(street, kml)
    stored = table(street, "grids")
    assert stored["grid_code"].tolist() == [fixtures.code(1), fixtures.code(2)]  # 网格编码 found, not "____"
    assert stored["grid_name"].tolist() == ["第1网格", "第2网格"]
    assert stored["households"].tolist() == [100, 200]


def test_a_big5_csv_is_read_as_big5(street: Store, tmp_path: Path) -> None:  # noqa: F811
    lon, lat = centre(1)
    lines = ["工單編號,受理時間,訴求類別,經度,緯度", f"A1,2026-03-01,噪聲擾民,{lon},{lat}"]
    path = tmp_path / "big5.csv"
    path.write_bytes("\n".join(lines).encode("cp950"))
    maps = {"case_id": "工單編號", "reported_at": "受理時間", "category": "訴求類別", "lon": "經度", "lat": "緯度"}
    summary = run.import_file(street, "cases", path, maps=maps)
    assert summary.record["inserted"] == 1
    assert table(street)["category"].tolist() == ["噪聲擾民"]


def test_the_grid_benchmark_imports_the_layer_it_writes_and_prints_both_timings() -> None:
    from gridpulse.benchmarks import grids as bench_grids

    results = bench_grids.run((40,), cases=500)
    assert results[0]["ours"]["grids"] == 40  # every Voronoi cell imported as a grid
    assert results[0]["baseline"]["placed"] > 0
    lines = bench_grids.table(results).splitlines()
    assert lines[0].startswith("| 网格数 |")
    assert lines[2].startswith("| 40 |")


def test_an_old_excel_sheet_starting_below_row_one_keeps_its_row_numbers(street: Store, tmp_path: Path) -> None:  # noqa: F811
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("工单")
    for col, head in enumerate(["工单编号", "受理时间"], start=1):  # the table begins at B3
        ws.write(2, col, head)
    ws.write(3, 1, "A1")
    ws.write(3, 2, "2026-03-01 09:00")
    ws.write(5, 1, "A2")
    ws.write(5, 2, "下周")
    wb.save(str(tmp_path / "offset.xls"))
    summary = run.import_file(street, "cases", tmp_path / "offset.xls")
    assert street.import_rejects(summary.record["import_id"])["row_number"].tolist() == [6]  # as Excel shows it
