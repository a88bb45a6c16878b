"""Real browser: Debian's Chromium on a running server with every outside request blocked.

Skipped when /usr/bin/chromium is missing, unless GRIDPULSE_REQUIRE_BROWSER=1 (CI sets
it), in which case a missing browser fails the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests import browserkit, fixtures

ARTIFACTS = browserkit.ARTIFACTS
NAV = ["总览", "诉求热力图", "四级服务矩阵", "网格办结率", "考核排名与红黑榜", "部门考核", "研判预警"]
# What each page has drawn once its script has finished (Streamlit keeps a websocket
# open, so "network idle" says nothing).
READY = {
    "总览": "[data-testid=stMetric]",
    "诉求热力图": "iframe[title='streamlit_folium.st_folium']",
    "四级服务矩阵": "iframe[title='streamlit_folium.st_folium']",
    "网格办结率": "[data-testid=stVegaLiteChart]",
    "考核排名与红黑榜": "[data-testid=stVegaLiteChart]",  # the funnel plot
    "部门考核": "[data-testid=stDataFrame]",
    "研判预警": "[data-testid=stButtonGroup]",  # the section chooser; the alerts section below it
}

pytestmark = pytest.mark.browser

browserkit.require_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Its own copy of the fixture street: log-ins and downloads here write to the audit log.
    db = fixtures.build(tmp_path_factory.mktemp("browser") / "street.duckdb")
    with browserkit.running_server(db) as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(server: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = browserkit.launch(p)
        context, outside = browserkit.new_context(browser)
        page = context.new_page()
        browserkit.log_in(page, server, "leader")
        yield page, outside
        browser.close()


def _open(page, name: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name).click()
    page.wait_for_selector(f"h1:has-text('{name}')", timeout=60_000)
    page.wait_for_selector(READY[name], timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)


def test_heatmap_draws_grids_and_heat_offline(browser_page) -> None:
    page, outside = browser_page
    _open(page, "诉求热力图")
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
    frame.locator("canvas.leaflet-heatmap-layer").wait_for(state="attached", timeout=60_000)
    # The grids are drawn on Leaflet's canvas renderer (prefer_canvas); count them through Leaflet.
    polygons = browserkit.eval_in_map(
        page,
        "() => { let n = 0; window.map_div && window.map_div.eachLayer(l => { if (l.feature && "
        "l.feature.geometry.type.endsWith('Polygon')) n++; }); return n; }",
    )
    assert polygons == 9
    scale = frame.locator(".leaflet-control-scale-line")
    assert scale.count() == 1  # metric only: no second line in feet or miles
    assert scale.inner_text().endswith(("m", "km"))
    assert frame.locator(".leaflet-control-attribution svg").count() == 0  # no flag before "Leaflet"
    labels = frame.locator(".gp-grid-label").all_inner_texts()
    assert sorted(labels) == sorted(f"第{n}网格" for n in range(1, 10))  # every grid named on the map
    assert frame.locator(".gp-labels-hidden").count() == 0  # nine grids: names shown at the street's zoom
    assert page.get_by_text("热力层：少").count() == 1  # the heat layer has its own legend
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "heatmap.png"), full_page=True)
    assert outside == []


def test_clicking_a_grid_lists_its_cases(browser_page) -> None:
    page, outside = browser_page
    _open(page, "诉求热力图")
    page.frame_locator("iframe[title='streamlit_folium.st_folium']").locator("canvas.leaflet-heatmap-layer").wait_for(
        state="attached", timeout=60_000
    )
    box = page.locator("iframe[title='streamlit_folium.st_folium']").bounding_box()
    assert box is not None
    # The map is fitted to the 3×3 fixture, so its centre lies in grid 5.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("第5网格：时段内受理诉求").wait_for(timeout=30_000)
    assert outside == []


@pytest.mark.parametrize("name", NAV)
def test_every_page_renders_offline(browser_page, name: str) -> None:
    page, outside = browser_page
    _open(page, name)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-{NAV.index(name)}.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert outside == []


def test_analysis_sections_draw_their_maps_fitted_to_the_street(browser_page) -> None:
    """研判预警: each section with a map shows the street's grids at street zoom (not the world)."""
    page, outside = browser_page
    _open(page, "研判预警")
    page.get_by_text("预警阈值").or_(page.get_by_text("没有")).first.wait_for(timeout=60_000)
    for label, only_here in (("热点", "分析单元"), ("新兴热点", "分类别检验"), ("重复诉求", "距离（米）")):
        page.locator("[data-testid=stButtonGroup]").get_by_role("radio", name=label, exact=True).click()
        page.get_by_text(only_here, exact=True).first.wait_for(timeout=60_000)
        page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
        shown = page.locator("iframe[title='streamlit_folium.st_folium'] >> visible=true").first
        shown.wait_for(timeout=60_000)
        zoom, polygons = browserkit.eval_in_map(
            page,
            "() => { let n = 0; if (!window.map_div) return [0, 0]; window.map_div.eachLayer(l => { "
            "if (l.feature && l.feature.geometry.type.endsWith('Polygon')) n++; }); "
            "return [window.map_div.getZoom(), n]; }",
            until=lambda v: bool(v and v[1]),
        ) or (0, 0)
        assert polygons >= 9, label  # the 3×3 fixture's grids (and, for hot spots in cells, their cells)
        assert zoom >= 13, (label, zoom)  # fitted to the street, not drawn at world scale
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"analysis-{label}.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert outside == []


def test_flow_chart_draws_offline(browser_page) -> None:
    page, outside = browser_page
    _open(page, "总览")
    page.get_by_role("tab", name="三级联动流向").click()
    page.locator("[data-testid=stPlotlyChart] .sankey").first.wait_for(state="attached", timeout=60_000)
    assert outside == []


def test_leader_downloads_the_three_reports(browser_page) -> None:
    from openpyxl import load_workbook
    from pptx import Presentation
    from pypdf import PdfReader

    page, outside = browser_page
    page.set_viewport_size({"width": 1440, "height": 1000})
    _open(page, "总览")
    page.get_by_text("导出联席会议报告（个人信息已脱敏）").click()
    ARTIFACTS.mkdir(exist_ok=True)
    saved = {}
    for fmt, label in (("xlsx", "下载 Excel 报告"), ("pdf", "下载 PDF 报告"), ("pptx", "下载 PPT 报告")):
        with page.expect_download(timeout=120_000) as info:
            page.get_by_role("button", name=label).click()
        download = info.value
        assert download.suggested_filename.startswith("测试街道_")
        assert download.suggested_filename.endswith(f"_网格治理报告.{fmt}")
        saved[fmt] = ARTIFACTS / f"report.{fmt}"
        download.save_as(saved[fmt])
    page.screenshot(path=str(ARTIFACTS / "overview-reports.png"), full_page=True)
    assert load_workbook(saved["xlsx"]).sheetnames[1] == "总体指标"
    assert PdfReader(saved["pdf"]).metadata.title == "测试街道 网格治理报告"
    assert len(Presentation(str(saved["pptx"])).slides) >= 8
    assert outside == []


def test_meeting_mode_on_a_projector(browser_page) -> None:  # last: the meeting page has no navigation back
    page, outside = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.get_by_role("link", name="大屏模式").click()
    page.wait_for_selector("h1:has-text('网格治理联席会议')", timeout=60_000)
    page.frame_locator("iframe[title='streamlit_folium.st_folium']").locator("canvas.leaflet-heatmap-layer").wait_for(
        state="attached", timeout=60_000
    )
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
    assert not page.locator("[data-testid=stSidebar]").is_visible()  # no editing chrome on the projector
    assert page.locator("[data-testid=stMetric]").count() == 8
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meeting-1920x1080.png"))
    assert "13912345678" not in page.inner_text("body")
    assert outside == []


def test_a_grid_head_on_a_phone(server: str, browser_page) -> None:
    """390×844 with touch: cases as cards with tel: links, two figures a row, a map one finger scrolls past."""
    browser = browser_page[0].context.browser  # the module's browser (one Playwright per module)
    context, outside = browserkit.new_context(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    browserkit.log_in(page, server, "head")
    page.wait_for_selector("h1:has-text('我的网格')", timeout=60_000)
    page.get_by_text("在办诉求", exact=True).first.wait_for(timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
    assert page.locator("[data-testid=stSidebar][aria-expanded=true]").count() == 0  # filters folded away
    calls = page.locator("a[href^='tel:']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert calls
    assert all(re.fullmatch(r"tel:\+?\d+", c) for c in calls)
    tops = page.locator("[data-testid=stMetric]").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert len(tops) == 8
    assert len(set(tops)) == 4  # two figures a row
    group = page.get_by_text(re.compile(r"^(超期|24 小时内到期|其他在办) \d+ 件$")).first.bounding_box()
    assert group is not None
    assert group["y"] < 844 - 150  # the first group of case cards starts on the first screen
    page.screenshot(path=str(ARTIFACTS / "phone-my-grids.png"))
    shown = page.locator("iframe[title='streamlit_folium.st_folium'] >> visible=true").first
    shown.scroll_into_view_if_needed()
    dragging = browserkit.eval_in_map(
        page, "() => window.map_div ? window.map_div.dragging.enabled() : null", until=lambda v: v is not None
    )
    assert dragging is False  # one finger scrolls the page; two fingers move the map
    page.screenshot(path=str(ARTIFACTS / "phone-my-grids-map.png"))
    assert outside == []
    context.close()


# The head's pages beside 我的网格 (the meeting screen is for a projector), by their link.
PHONE_PAGES = {"overview": "总览", "heatmap": "诉求热力图", "service-matrix": "四级服务矩阵",
               "resolution": "网格办结率", "accountability": "考核排名与红黑榜", "analysis": "研判预警"}  # fmt: skip


def test_the_other_pages_stay_usable_on_a_phone(server: str, browser_page) -> None:
    """390×844 with touch: no page wider than the screen, charts inside it, figures two a row, maps scroll past."""
    browser = browser_page[0].context.browser
    context, outside = browserkit.new_context(browser, **browserkit.PHONE)
    page = context.new_page()
    browserkit.log_in(page, server, "head")
    for path, title in PHONE_PAGES.items():
        page.goto(f"{server}/{path}")
        page.wait_for_selector(f"h1:has-text('{title}')", timeout=60_000)
        page.wait_for_timeout(1000)
        page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
        assert page.locator("[data-testid=stException]").count() == 0, path
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path
        widths = page.locator("[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg").evaluate_all(
            "els => els.map(e => Math.round(e.getBoundingClientRect().right))"
        )
        assert all(right <= 390 for right in widths), (path, widths)  # no chart (or its legend) cut off
        if path == "overview":
            tops = page.locator("[data-testid=stMetric]").evaluate_all(
                "els => els.slice(0, 8).map(e => Math.round(e.getBoundingClientRect().top))"
            )
            assert len(set(tops)) == 4, tops  # eight figures, two a row
        if page.locator(browserkit.SHOWN_MAP).count():
            dragging = browserkit.eval_in_map(
                page, "() => window.map_div ? window.map_div.dragging.enabled() : null", until=lambda v: v is not None
            )
            assert dragging is False, path  # one finger scrolls the page past the map
        page.screenshot(path=str(ARTIFACTS / f"phone-{path}.png"))
    assert outside == []
    context.close()


def test_every_meeting_section_fits_the_projector(server: str, browser_page) -> None:
    """1920×1080, one section held by the link: nothing to scroll, no help icons, tables drawn whole."""
    from gridpulse import meeting

    browser = browser_page[0].context.browser
    context, outside = browserkit.new_context(browser, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    browserkit.log_in(page, server, "leader")
    for section in meeting.SECTIONS:
        page.goto(f"{server}/meeting?section={section}")
        page.wait_for_selector("h1", timeout=60_000)
        page.wait_for_timeout(1500)
        page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
        height, client, width, client_w = page.locator("[data-testid=stMain]").evaluate(
            "e => [e.scrollHeight, e.clientHeight, e.scrollWidth, e.clientWidth]"
        )
        assert height <= client + 1, section
        assert width <= client_w + 1, section
        assert page.locator("[data-testid=stTooltipIcon]:visible").count() == 0, section
        assert page.locator("[data-testid=stDataFrame]").count() == 0, section  # plain tables: no inner scrolling
        assert page.locator("[data-testid=stWarning]").count() == 0, section  # the link was understood
        page.screenshot(path=str(ARTIFACTS / f"meeting-{section}.png"))
    assert outside == []
    context.close()
