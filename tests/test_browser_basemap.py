"""Basemaps in Debian's Chromium with outside requests blocked: a PMTiles file served by the dashboard,
then 天地图 configured on the admin page and answered by a mock tile server on localhost.

Screenshots: test-artifacts/basemap-pmtiles.png, basemap-tianditu.png, and the map picture a user
downloads (map-picture.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from gridpulse import admin_views, basemap, views
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests import browserkit, fixtures, tiles

pytestmark = pytest.mark.browser

browserkit.require_browser()

TOKEN = "0123456789abcdef0123456789abcdef"
MAP = browserkit.SHOWN_MAP
TILES_DRAWN = """() => Array.from(document.querySelectorAll('.leaflet-tile-pane img'))
    .filter(i => i.complete && i.naturalWidth > 0).map(i => i.src)"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fixture street with a PMTiles basemap of its own (zooms 12-17) saved by the admin."""
    root = tmp_path_factory.mktemp("basemap")
    db = fixtures.build(root / "street.duckdb")
    folder = root / "basemaps"
    store = Store(db)
    bounds = list(views.grid_shapes(store, Scope.street()).total_bounds)
    tiles.write_pmtiles(folder / "street.pmtiles", bounds, range(12, 18))
    env = {"GRIDPULSE_BASEMAP_DIR": str(folder)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDPULSE_BASEMAP_DIR", str(folder))
        admin_views.save_basemap(store, "admin", basemap.Basemap(kind="pmtiles", file="street.pmtiles",
                                                                attribution="测试底图 2026"))  # fmt: skip
    store.close()
    with browserkit.running_server(Path(db), env=env) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium: object) -> object:
    return chromium


def _heatmap(page) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="诉求热力图").click()
    page.locator(MAP).first.wait_for(timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)


def _choose(page, select, option: str) -> None:
    """Pick ``option`` in a Streamlit selectbox; a rerun that closed the list as it opened is tried again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(6):
        select.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"the list never offered {option}")


def _tiles_drawn(page, at_least: int) -> list[str]:
    """The sources of the basemap tiles the shown map has drawn, once there are ``at_least`` of them."""
    drawn = browserkit.eval_in_map(page, TILES_DRAWN, until=lambda v: bool(v) and len(v) >= at_least)
    assert drawn
    return drawn


def _save_picture(page, name: str) -> Path:
    """Click the map's camera button and keep the picture it downloads."""
    button = page.locator(MAP).first.content_frame.locator(".gp-map-picture a, .gp-map-picture button").first
    assert button.get_attribute("title") == "下载地图图片（PNG）"
    with page.expect_download(timeout=60_000) as download:
        button.click()
    assert download.value.suggested_filename.endswith(".png")
    picture = browserkit.ARTIFACTS / name
    download.value.save_as(picture)
    return picture


def test_the_heatmap_draws_on_a_pmtiles_basemap_served_here_and_saves_as_a_picture(server: str, browser) -> None:
    context, outside = browserkit.new_context(browser, accept_downloads=True)
    page = context.new_page()
    browserkit.log_in(page, server, "leader")
    _heatmap(page)
    assert all(src.startswith("blob:") for src in _tiles_drawn(page, 4))
    attribution = browserkit.eval_in_map(
        page, "() => document.querySelector('.leaflet-control-attribution').textContent", until=bool
    )
    assert "测试底图 2026" in attribution
    assert "Leaflet" in attribution
    browserkit.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browserkit.ARTIFACTS / "basemap-pmtiles.png"))
    picture = _save_picture(page, "map-picture.png")  # any map as a picture: what is shown, basemap included
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 10_000
    assert outside == []
    context.close()


def test_tianditu_set_on_the_admin_page_is_asked_with_the_token_for_the_map_and_its_labels(
    server: str, browser
) -> None:
    with tiles.TileServer() as tile_server:
        context, outside = browserkit.new_context(browser)
        page = context.new_page()
        browserkit.log_in(page, server, "admin")
        page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="用户与审计").click()
        page.get_by_text("当前底图：离线瓦片文件（PMTiles）").wait_for(timeout=60_000)
        page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
        form = page.locator("[data-testid=stForm]").filter(has_text="底图类型")
        _choose(page, form.get_by_label("底图类型"), "天地图")
        form.get_by_label("天地图 Key（tk）").fill(TOKEN)
        form.get_by_label("瓦片地址", exact=False).fill(tile_server.url)  # the intranet mirror: a mock here
        form.get_by_label("版权与审图号", exact=False).fill("天地图 GS(2024)0568号")
        form.get_by_role("button", name="保存底图设置").click()
        page.get_by_text("底图已保存").wait_for(timeout=60_000)
        page.wait_for_timeout(6_000)  # the security policy names the new tile server within 5 s
        # The street leader, in another browser, sees the heatmap on it.
        leader_context, leader_outside = browserkit.new_context(browser, accept_downloads=True)
        leader = leader_context.new_page()
        browserkit.log_in(leader, server, "leader")
        _heatmap(leader)
        assert all(src.startswith(tile_server.url) for src in _tiles_drawn(leader, 8))
        asked = [parse_qs(urlsplit(p).query) for p in tile_server.requests]
        assert {q["LAYER"][0] for q in asked} == {"vec", "cva"}  # the map and its label layer
        assert all(q["tk"] == [TOKEN] and q["TILEMATRIXSET"] == ["w"] for q in asked)
        leader.screenshot(path=str(browserkit.ARTIFACTS / "basemap-tianditu.png"))
        _save_picture(leader, "map-picture-tianditu.png")
        assert leader_outside == []
        leader_context.close()
        assert outside == []
        context.close()
