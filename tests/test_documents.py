"""PDF and PPTX reports: opened with a PDF text extractor and python-pptx, figures equal the dashboard's.

The expected figures are computed here from the view functions and written out by the
test itself, so a formatting or a selection error in the report shows up.
PDF text comes from poppler's ``pdftotext``; without it these tests are skipped unless
GRIDPULSE_REQUIRE_BROWSER=1 (CI sets it), which makes a missing tool fail the run.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from gridpulse import maps, reports, views
from gridpulse.reports import figures, fonts
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests import apps, fixtures
from tests.fixtures import AS_OF, MARCH

# c03 (overdue, so listed) carries a phone number and a house number in its description.
PII = ["139 1234 5678", "1234 5678", "301室", "7号楼", "2单元"]


def pdftotext(pdf: bytes, tmp_path: Path, *args: str) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("GRIDPULSE_REQUIRE_BROWSER") == "1":
            raise RuntimeError("pdftotext is missing: apt-get install poppler-utils")
        pytest.skip("poppler-utils (pdftotext) not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def pct(v: object) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v) * 100:.1f}%"


def expected_kpis(store: Store) -> list[tuple[str, str]]:
    h = views.headline(store, Scope.street(), MARCH, AS_OF)
    return [
        ("受理诉求", f"{int(h['cases'])}"),
        ("已办结", f"{int(h['resolved'])}"),
        ("办结率", pct(h["resolution_rate"])),
        ("按期办结率", pct(h["on_time_rate"])),
        ("满意率", pct(h["satisfaction"])),
        ("在办积压", f"{int(h['backlog'])}"),
        ("超期未办结", f"{int(h['overdue'])}"),
        ("未落网格", f"{int(h['unassigned'])}"),
    ]


def expected_ranking(store: Store) -> list[list[str]]:
    perf = views.grid_performance(store, Scope.street(), MARCH, AS_OF)
    return [
        ["—" if pd.isna(r.rank) else str(r.rank), r.grid_name, r.community,
         "—" if pd.isna(r.score) else f"{r.score:.1f}", str(r.cases), pct(r.on_time_rate), pct(r.satisfaction),
         str(r.rated), pct(r.accept_in_time_rate), pct(r.rework_rate), pct(r.resolution_rate),
         "—" if pd.isna(r.median_hours) else f"{r.median_hours:.1f}"]
        for r in perf.itertuples()
    ]  # fmt: skip


def request() -> reports.ReportRequest:
    return reports.ReportRequest(Scope.street(), MARCH, AS_OF, "测试街道")


@pytest.fixture(scope="module")
def pdf(store: Store) -> bytes:
    return reports.render(store, request(), "pdf")


@pytest.fixture(scope="module")
def deck(store: Store) -> Presentation:
    return Presentation(io.BytesIO(reports.render(store, request(), "pptx")))


def in_order(tokens: list[str], wanted: list[str]) -> bool:
    it = iter(tokens)
    return all(any(tok == w for tok in it) for w in wanted)


# ---- PDF -------------------------------------------------------------------


def test_pdf_headline_figures_equal_the_dashboard(pdf: bytes, store: Store, tmp_path: Path) -> None:
    kpis = expected_kpis(store)
    assert [v for _, v in kpis][:3] == ["10", "8", "80.0%"]  # the hand-worked fixture
    title = pdftotext(pdf, tmp_path, "-f", "1", "-l", "1")
    assert "测试街道 网格治理报告" in title
    assert "2026年3月1日 至 2026年3月31日（31 天）" in title  # Chinese dates in reports
    assert "数据截至：2026年3月31日 12:00" in title
    page = pdftotext(pdf, tmp_path, "-f", "2", "-l", "2").split()
    for row in (kpis[:4], kpis[4:]):  # a row of four cards: labels, then values
        assert in_order(page, [name for name, _ in row] + [value for _, value in row]), row


def test_pdf_ranking_rows_equal_the_dashboard(pdf: bytes, store: Store, tmp_path: Path) -> None:
    text = pdftotext(pdf, tmp_path, "-layout")
    rows = [line.split() for line in text.splitlines()]
    for expected in expected_ranking(store):
        assert expected in rows, expected


def test_pdf_lists_overdue_cases_masked(pdf: bytes, store: Store, tmp_path: Path) -> None:
    text = pdftotext(pdf, tmp_path, "-layout")
    overdue = views.overdue_for_meeting(store, Scope.street(), MARCH, AS_OF, 100)
    assert sorted(overdue["case_id"]) == ["c03", "c10"]
    assert f"共 {len(overdue)} 件" in text
    for cid in overdue["case_id"]:
        assert re.search(rf"^\s*{cid}\s+2026年3月\d+日\s+2026年3月\d+日 \d\d:\d\d", text, re.M), cid
    assert "139****5678" in text  # c03's phone, masked
    for secret in PII:
        assert secret not in text


def test_pdf_embeds_its_chinese_font(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
            seen.add(str(font["/BaseFont"]))
    assert any("CJK" in name for name in seen)
    assert reader.metadata.title == "测试街道 网格治理报告"


def test_pdf_has_the_map_and_charts(pdf: bytes, tmp_path: Path) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    images = [img for page in reader.pages for img in page.images]
    assert len(images) >= 4  # map, trend, categories, three-level shares
    text = pdftotext(pdf, tmp_path)
    headings = [
        "网格分布：办结率",
        "月度趋势与主要诉求类别",
        "三级联动：各级解决占比",
        "四级服务矩阵",
        "网格综合排名",
    ]
    for heading in headings:
        assert heading in text


# ---- PPTX ------------------------------------------------------------------


def slide_texts(slide: object) -> list[str]:
    return [p.text for shape in slide.shapes if shape.has_text_frame for p in shape.text_frame.paragraphs]


def slide_tables(slide: object) -> list[list[list[str]]]:
    return [
        [[cell.text for cell in row.cells] for row in shape.table.rows] for shape in slide.shapes if shape.has_table
    ]


def find_slide(deck: Presentation, title: str) -> object:
    return next(s for s in deck.slides if any(t.startswith(title) for t in slide_texts(s)))


def test_pptx_headline_figures_equal_the_dashboard(deck: Presentation, store: Store) -> None:
    assert "测试街道 网格治理报告" in slide_texts(deck.slides[0])
    texts = slide_texts(find_slide(deck, "总体指标"))
    for name, value in expected_kpis(store):
        assert texts[texts.index(name) + 1] == value, name


def test_pptx_ranking_and_overdue_equal_the_dashboard(deck: Presentation, store: Store) -> None:
    ranked = [r for r in expected_ranking(store) if r[0] != "—"]
    assert len(ranked) < 20  # few grids: one slide with all of them, no top/bottom repeating rows
    table = slide_tables(find_slide(deck, "网格综合排名"))[0]
    assert table[0][:5] == ["排名", "网格名称", "社区", "综合得分", "受理件数"]
    assert table[1:] == ranked
    assert not any(t.startswith("网格综合排名：后") for s in deck.slides for t in slide_texts(s))
    overdue = slide_tables(find_slide(deck, "超期未办结诉求"))[0]
    assert sorted(row[0] for row in overdue[1:]) == ["c03", "c10"]
    matrix = slide_tables(find_slide(deck, "四级服务矩阵"))[0]
    by_community = views.service_matrix_by_community(store, Scope.street(), MARCH)
    assert matrix[-1] == ["合计", *map(str, by_community.loc["__total__"])]


def expected_levels(store: Store) -> list[list[str]]:
    """Three-level shares per community from the per-grid view, and the area's total from the headline."""
    perf = views.grid_performance(store, Scope.street(), MARCH, AS_OF)
    rows = []
    for community, g in perf.groupby("community"):
        n = int(g["resolved"].sum())
        rows.append([community, str(n), *(pct(g[f"level{lv}"].sum() / n if n else None) for lv in (1, 2, 3))])
    h = views.headline(store, Scope.street(), MARCH, AS_OF)
    total = store.case_components(Scope.street(), MARCH, AS_OF).iloc[0]
    assert int(total["resolved"]) == h["resolved"]
    rows.append(["全部（含未落网格）", str(int(h["resolved"])),
                 *(pct(total[f"level{lv}"] / total["resolved"]) for lv in (1, 2, 3))])  # fmt: skip
    return rows


def test_three_level_shares_equal_the_dashboard(deck: Presentation, pdf: bytes, store: Store, tmp_path: Path) -> None:
    want = expected_levels(store)
    assert want[-1][:2] == ["全部（含未落网格）", "8"]  # c09, resolved in no grid, counts in the total
    table = slide_tables(find_slide(deck, "三级联动"))[0]
    assert table[1:] == want
    rows = [line.split() for line in pdftotext(pdf, tmp_path, "-layout").splitlines()]
    for row in want:
        assert row in rows, row


def test_map_colours_each_grid_by_its_own_class(store: Store) -> None:
    perf = views.grid_performance(store, Scope.street(), MARCH, AS_OF)
    shapes_ = views.grid_shapes(store, Scope.street(), MARCH)
    frame = shapes_[["grid_code", "geometry"]].merge(perf, on="grid_code")
    fill, _, _ = maps.classify(frame["cases_per_100"], higher_is_better=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figures.grid_map_figure(shapes_, perf, "cases_per_100")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax = fig.axes[0]
    pixels = np.asarray(canvas.buffer_rgba())
    height = pixels.shape[0]
    for geom, colour in zip(frame.geometry, fill, strict=True):
        x0, y0, _, _ = geom.bounds
        px, py = ax.transData.transform((x0 + 0.0015, y0 + 0.0015))  # inside, away from the label
        r, g, b, _ = pixels[int(height - py), int(px)]
        assert f"#{r:02x}{g:02x}{b:02x}" == colour


def test_a_grid_without_area_does_not_stop_the_map(store: Store) -> None:
    perf = views.grid_performance(store, Scope.street(), MARCH, AS_OF)
    shapes_ = views.grid_shapes(store, Scope.street(), MARCH)
    shapes_.loc[0, "geometry"] = shapely.Polygon()
    assert figures.grid_map(shapes_, perf, "resolution_rate").startswith(b"\x89PNG")


def test_long_tables_continue_on_more_slides(store: Store) -> None:
    from dataclasses import replace

    from gridpulse.reports import to_pptx

    doc = reports.document(store, request())
    many = pd.DataFrame({"排名": [str(i) for i in range(1, 61)], "网格名称": [f"长网格{i}" for i in range(1, 61)]})
    deck = Presentation(io.BytesIO(to_pptx.render(replace(doc, matrix=many))))
    slides = [s for s in deck.slides if any(t.startswith("四级服务矩阵") for t in slide_texts(s))]
    assert len(slides) >= 3
    assert any(t.endswith("（续）") for s in slides for t in slide_texts(s))
    rows = [row for s in slides for table in slide_tables(s) for row in table[1:]]
    assert [r[1] for r in rows] == [f"长网格{i}" for i in range(1, 61)]  # every row, in order, once
    for s in slides:  # and every table ends above the slide's bottom edge
        for shape in s.shapes:
            if shape.has_table:
                assert shape.top + sum(r.height for r in shape.table.rows) <= deck.slide_height


def test_a_filtered_report_says_so(store: Store, tmp_path: Path) -> None:
    from gridpulse.filters import Filters

    noise = Filters(MARCH.start, MARCH.end, categories=("噪声扰民",))
    req = reports.ReportRequest(Scope.street(), noise, AS_OF, "测试街道")
    text = pdftotext(reports.render(store, req, "pdf"), tmp_path, "-f", "1", "-l", "2")
    assert "诉求范围：诉求类别：噪声扰民" in text
    deck = Presentation(io.BytesIO(reports.render(store, req, "pptx")))
    assert any("诉求范围：诉求类别：噪声扰民" in t for t in slide_texts(deck.slides[0]))
    name = reports.file_name("测试街道", MARCH.start, MARCH.end, "pdf", filtered=True)
    assert name == "测试街道_2026年3月_部分诉求_网格治理报告.pdf"
    whole = pdftotext(reports.render(store, request(), "pdf"), tmp_path, "-f", "1", "-l", "1")
    assert "诉求范围：全部来源与类别的诉求" in whole


def test_pptx_masks_and_asks_for_a_chinese_font(deck: Presentation) -> None:
    everything = " ".join(
        [t for s in deck.slides for t in slide_texts(s)]
        + [c for s in deck.slides for table in slide_tables(s) for row in table for c in row]
    )
    for secret in PII:
        assert secret not in everything
    run = deck.slides[0].shapes[0].text_frame.paragraphs[0].runs[0]
    ea = run.font._rPr.find("{http://schemas.openxmlformats.org/drawingml/2006/main}ea")
    assert ea is not None
    assert ea.get("typeface") == "微软雅黑"
    pictures = [sh for s in deck.slides for sh in s.shapes if sh.shape_type == 13]  # 13: picture
    assert len(pictures) >= 4


# ---- static map, fonts, command line, page ----------------------------------


def test_static_map_uses_the_dashboards_classes(store: Store) -> None:
    perf = views.grid_performance(store, Scope.street(), MARCH, AS_OF)
    shapes_ = views.grid_shapes(store, Scope.street(), MARCH)
    png = figures.grid_map(shapes_, perf, "resolution_rate")
    pixels = Image.open(io.BytesIO(png)).convert("RGB").getcolors(10**6)
    colours = {f"#{r:02x}{g:02x}{b:02x}" for _, (r, g, b) in pixels}
    frame = shapes_[["grid_code"]].merge(perf, on="grid_code")
    fill, _ = maps.grid_fill(frame, "resolution_rate")  # funnel classes: the same as the dashboard's map
    assert set(fill) <= colours  # every grid's class colour is on the map, "no data" grey included
    assert maps.NO_DATA_COLOUR in fill


def test_missing_chinese_font_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Font",))
    fonts.cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontMissingError, match="fonts-noto-cjk"):
            fonts.cjk_font()
    finally:
        fonts.cjk_font.cache_clear()


def test_a_font_installed_after_matplotlib_listed_fonts_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib's font list, cached on disk from before fonts-noto-cjk was installed, lacks it: looked up again."""
    from matplotlib import font_manager

    files = {e.fname for e in font_manager.fontManager.ttflist if e.name in fonts.CJK_FAMILIES}
    stale = [e for e in font_manager.fontManager.ttflist if e.fname not in files]  # those files never listed
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    fonts._system_fonts_added.cache_clear()
    fonts.cjk_font.cache_clear()
    try:
        assert fonts.cjk_font().family == "Noto Sans CJK SC"  # installed by .ci/run
        assert fonts.cjk_font().regular.path.exists()
    finally:
        fonts.cjk_font.cache_clear()


def test_unknown_map_metric_is_refused_in_chinese(store: Store) -> None:
    with pytest.raises(ValueError, match="地图指标 households 不可用"):
        reports.render(store, request(), "pdf", map_metric="households")


@pytest.mark.parametrize("fmt", ["pdf", "pptx"])
def test_report_command_writes_pdf_and_pptx(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(apps.ROOT))
    db = fixtures.build(tmp_path / "own.duckdb")
    r = subprocess.run(
        [sys.executable, "-m", "gridpulse", "report", "--period", "2026-03..2026-03", "--format", fmt,
         "--map-metric", "cases_per_100", "--db", str(db)], cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = tmp_path / f"测试街道_2026年3月_网格治理报告.{fmt}"
    if fmt == "pdf":
        assert PdfReader(out).metadata.title == "测试街道 网格治理报告"
    else:
        titles = [slide_texts(s)[0] for s in Presentation(str(out)).slides]
        assert "网格分布：每百户诉求数" in titles


def test_overview_offers_three_reports_without_building_them(db_env: Path) -> None:
    from gridpulse.ui import cache

    at = apps.app("leader")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["下载 Excel 报告", "下载 PDF 报告", "下载 PPT 报告"]
    assert at.selectbox(key="report_map_metric").value == "resolution_rate"
    assert "export" not in set(cache.store().audit_log()["action"])  # built and audited only on click


def test_a_report_names_and_holds_only_the_users_area(store: Store, tmp_path: Path) -> None:
    from datetime import date

    from gridpulse.filters import Filters

    head = Scope("grid_head", grids=(fixtures.code(1), fixtures.code(2)))
    assert views.area_name(store, head, MARCH) == "测试街道 第1网格、第2网格"
    assert views.area_name(store, Scope("community_secretary", communities=("乙社区",)), MARCH) == "测试街道 乙社区"
    assert views.area_name(store, Scope.street(), MARCH) == "测试街道"
    assert views.area_name(store, Scope("department_liaison", department="区住建局"), MARCH) == "测试街道 区住建局"
    many = Filters(MARCH.start, MARCH.end, grids=tuple(fixtures.code(n) for n in range(4, 10)))
    assert views.area_name(store, Scope.street(), many) == "测试街道 第4网格等6个网格"
    req = reports.ReportRequest(head, MARCH, AS_OF, views.area_name(store, head, MARCH))
    text = pdftotext(reports.render(store, req, "pdf"), tmp_path, "-layout")
    assert "第1网格" in text
    assert "第2网格" in text
    assert "第3网格" not in text
    assert "乙社区" not in text
    head_deck = Presentation(io.BytesIO(reports.render(store, req, "pptx")))
    cells = [c for s in head_deck.slides for table in slide_tables(s) for row in table for c in row]
    assert "第1网格" in cells
    assert not {"第3网格", "第5网格", "乙社区"} & set(cells)
    empty = reports.ReportRequest(Scope.street(), Filters(date(2020, 1, 1), date(2020, 1, 31)), AS_OF, "测试街道")
    assert "当前筛选条件下没有诉求数据" in pdftotext(reports.render(store, empty, "pdf"), tmp_path)
    deck = Presentation(io.BytesIO(reports.render(store, empty, "pptx")))
    assert any("没有诉求数据" in t for t in slide_texts(find_slide(deck, "总体指标")))


def test_kpi_changes_are_written_without_a_negative_zero() -> None:
    from gridpulse import formats

    assert formats.kpi("resolution_rate", 0.992, -0.0001, True) == ("99.2%", "+0.0 个百分点")
    assert formats.kpi("resolution_rate", 0.8, -0.2, True) == ("80.0%", "-20.0 个百分点")
    assert formats.kpi("cases", 3922, 112, False) == ("3,922", "+112")
    assert formats.kpi("satisfaction", None, None, True) == ("—", None)
