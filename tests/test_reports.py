"""Take-away reports: opened with openpyxl, figures equal the dashboard's views."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gridpulse import reports, views
from gridpulse.reports import to_xlsx
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests import apps, fixtures
from tests.fixtures import AS_OF, MARCH

ROOT = apps.ROOT


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-01..2026-06", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-03..2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2025-11..2026-02", date(2025, 11, 1), date(2026, 2, 28)),
        ("2026-01-15..2026-03-31", date(2026, 1, 15), date(2026, 3, 31)),
    ],
)
def test_parse_period(text: str, start: date, end: date) -> None:
    assert reports.parse_period(text) == (start, end)


@pytest.mark.parametrize("bad", ["2026", "2026-13..2026-14", "2026-06..2026-01", "last quarter"])
def test_bad_period_says_how_to_write_it(bad: str) -> None:
    with pytest.raises(ValueError, match="统计时段"):
        reports.parse_period(bad)


def test_file_names_in_chinese() -> None:
    assert (
        reports.file_name("某街道", date(2026, 1, 1), date(2026, 6, 30), "xlsx")
        == "某街道_2026年1-6月_网格治理报告.xlsx"
    )
    assert reports.file_name("某街道 甲社区", date(2026, 3, 1), date(2026, 3, 31), "xlsx") == (
        "某街道_甲社区_2026年3月_网格治理报告.xlsx"
    )
    assert reports.file_name("某街道", date(2026, 1, 15), date(2026, 3, 31), "xlsx").startswith("某街道_20260115-")


def test_excel_figures_equal_the_dashboard(store: Store, tmp_path: Path) -> None:
    req = reports.ReportRequest(Scope.street(), MARCH, AS_OF, "测试街道")
    path = tmp_path / "r.xlsx"
    path.write_bytes(to_xlsx.excel(store, req))
    wb = load_workbook(path)
    assert wb.sheetnames == [
        "说明",
        "总体指标",
        "网格办结率",
        "服务矩阵",
        "超期诉求",
        "三级联动",
        "类别×月份",
        "部门考核",
        "红黑榜",
        "预警",
        "环节用时",
    ]
    headline = wb["总体指标"]
    assert headline.freeze_panes == "A2"
    figures = {r[0].value: r[1].value for r in headline.iter_rows(min_row=2)}
    h = views.headline(store, Scope.street(), MARCH, AS_OF)
    assert figures["受理诉求"] == h["cases"] == 10
    assert figures["办结率"] == pytest.approx(h["resolution_rate"])
    assert headline["B4"].number_format == "0.0%"
    ranking = wb["网格办结率"]
    first = [c.value for c in next(ranking.iter_rows(min_row=2, max_row=2))]
    perf = views.grid_performance(store, Scope.street(), MARCH, AS_OF)
    top = perf.iloc[0]
    assert first[:5] == [1, top["grid_name"], top["community"], pytest.approx(top["score"]), int(top["cases"])]
    overdue = [r[0].value for r in wb["超期诉求"].iter_rows(min_row=2)]
    assert sorted(overdue) == ["c03", "c10"]
    text = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert "13912345678" not in text
    assert "13800001111" not in text
    months = wb["类别×月份"]
    assert [c.value for c in months[1]][-1] == "合计"


def test_excel_cells_are_formula_safe() -> None:
    assert to_xlsx._cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert to_xlsx._cell(3) == 3


def test_report_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # run from another folder, as an office would
    fixture_db = fixtures.build(tmp_path / "own.duckdb")  # the session's store holds the shared one open
    r = subprocess.run(
        [sys.executable, "-m", "gridpulse", "report", "--period", "2026-03..2026-03", "--community", "甲社区",
         "--db", str(fixture_db)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = tmp_path / "测试街道_甲社区_2026年3月_网格治理报告.xlsx"
    assert out.exists()
    figures = {row[0].value: row[1].value for row in load_workbook(out)["总体指标"].iter_rows(min_row=2)}
    assert figures["受理诉求"] == 6  # 甲社区: c01-c05, c12
    bad = subprocess.run(
        [sys.executable, "-m", "gridpulse", "report", "--period", "2026-03..2026-03", "--community", "无此社区",
         "--db", str(fixture_db)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "没有这些社区" in bad.stderr
