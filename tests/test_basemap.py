"""Basemaps (gridpulse/basemap.py): 天地图 with a token, a PMTiles file served here, GCJ-02 refused."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from pmtiles.tile import TileType

from gridpulse import admin_views, basemap, maps, views
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.ui import cache
from tests import apps, fixtures, tiles

TOKEN = "0123456789abcdef0123456789abcdef"
TIANDITU = basemap.Basemap(kind="tianditu", token=TOKEN, attribution="天地图 GS(2024)0568号")


@pytest.fixture
def street(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A fresh fixture street the app reads (settings are saved into it), and an empty basemap folder."""
    monkeypatch.setenv("GRIDPULSE_BASEMAP_DIR", str(tmp_path / "basemaps"))
    monkeypatch.delenv("GRIDPULSE_TILE_URL", raising=False)
    db = fixtures.build(tmp_path / "street.duckdb")
    monkeypatch.setenv("GRIDPULSE_DB", str(db))
    return cache.store()


def _bounds(store: Store) -> list[float]:
    return list(views.grid_shapes(store, Scope.street()).total_bounds)


def test_tianditu_draws_the_map_and_its_labels_from_eight_servers_with_the_token() -> None:
    checked = basemap.validate(TIANDITU)
    urls = basemap.tile_urls(checked)
    assert [u.split("/")[3].split("?")[0] for u in urls] == ["vec_w", "cva_w"]  # the map, then its names
    assert all(u.startswith("https://t{s}.tianditu.gov.cn/") and f"tk={TOKEN}" in u for u in urls)
    assert all("TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in u for u in urls)
    assert checked.subdomains == "01234567"
    imagery = basemap.tile_urls(basemap.validate(dataclasses.replace(TIANDITU, style="img")))
    assert ["img_w" in imagery[0], "cia_w" in imagery[1]] == [True, True]
    assert basemap.csp_img_sources(checked) == ["https://*.tianditu.gov.cn"]
    mirror = basemap.validate(dataclasses.replace(TIANDITU, url="http://10.1.2.3:8080/tdt/"))
    assert basemap.tile_urls(mirror)[0].startswith("http://10.1.2.3:8080/tdt/vec_w/wmts?")
    assert basemap.csp_img_sources(mirror) == ["http://10.1.2.3:8080"]


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        (basemap.Basemap(kind="tianditu", token=""), "天地图 Key"),
        (basemap.Basemap(kind="tianditu", token="abc'); alert(1); ('"), "天地图 Key"),
        (dataclasses.replace(TIANDITU, style="terrain"), "天地图图层"),
        (dataclasses.replace(TIANDITU, url="javascript:alert(1)"), "不是 http(s) 网址"),
        (dataclasses.replace(TIANDITU, crs="gcj02"), "GCJ-02"),
        (basemap.Basemap(kind="xyz", url="https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}"), "GCJ-02"),
        (basemap.Basemap(kind="xyz", url="https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={y}"), "GCJ-02"),
        (basemap.Basemap(kind="xyz", url="http://tiles.intranet/{z}/{x}.png"), "{z}、{x}、{y}"),
        (basemap.Basemap(kind="pmtiles", file="street.pmtiles"), "没有文件"),
        (basemap.Basemap(kind="pmtiles", file="../street.duckdb"), "没有文件"),
        (basemap.Basemap(kind="osm"), "无法识别"),
        # nothing from an admin's address may end a CSP source and add directives of its own
        (basemap.Basemap(kind="xyz", url="https://tiles.example.com;connect-src *;x/{z}/{x}/{y}.png"), "须是 http(s)"),
        (dataclasses.replace(TIANDITU, url="https://mirror.example.com connect-src *"), "不是 http(s) 网址"),
        (dataclasses.replace(TIANDITU, url="https://:x@mirror.example.com"), "不是 http(s) 网址"),
        (dataclasses.replace(TIANDITU, url="https://mirror.example.com/'unsafe-inline'"), "不是 http(s) 网址"),
        (dataclasses.replace(TIANDITU, subdomains="0;script-src *"), "子域名"),
        (basemap.Basemap(kind="pmtiles", file="street.pmtiles\n"), "没有文件"),
    ],
)
def test_unusable_basemaps_are_refused_saying_what_to_fix(setting: basemap.Basemap, says: str, street: Store) -> None:
    with pytest.raises(basemap.BasemapError, match=re.escape(says)):
        basemap.validate(setting)


def test_a_pmtiles_file_is_read_for_its_zooms_and_must_be_raster_and_cover_the_street(street: Store) -> None:
    bounds = _bounds(street)
    tiles.write_pmtiles(basemap.folder() / "street.pmtiles", bounds, range(13, 16))
    tiles.write_pmtiles(basemap.folder() / "vector.pmtiles", bounds, range(13, 14), TileType.MVT)
    tiles.write_pmtiles(basemap.folder() / "elsewhere.pmtiles", [100.0, 20.0, 100.01, 20.01], range(13, 14))
    (basemap.folder() / "broken.pmtiles").write_bytes(b"PMTiles but not really")
    assert basemap.files() == ["broken.pmtiles", "elsewhere.pmtiles", "street.pmtiles", "vector.pmtiles"]
    checked = basemap.validate(basemap.Basemap(kind="pmtiles", file="street.pmtiles", token="x"), bounds)
    assert (checked.max_zoom, checked.token) == (15, "")
    assert basemap.csp_img_sources(checked) == []  # served here; its tiles become blob: images
    with pytest.raises(basemap.BasemapError, match="矢量瓦片"):
        basemap.validate(basemap.Basemap(kind="pmtiles", file="vector.pmtiles"), bounds)
    with pytest.raises(basemap.BasemapError, match="不含本街道"):
        basemap.validate(basemap.Basemap(kind="pmtiles", file="elsewhere.pmtiles"), bounds)
    with pytest.raises(basemap.BasemapError, match="不是可读的 PMTiles"):
        basemap.validate(basemap.Basemap(kind="pmtiles", file="broken.pmtiles"), bounds)


def test_the_map_loads_the_pmtiles_layer_from_this_server(street: Store) -> None:
    tiles.write_pmtiles(basemap.folder() / "street.pmtiles", _bounds(street), range(13, 15))
    m = maps.base_map(_bounds(street), 300)
    chosen = basemap.validate(basemap.Basemap(kind="pmtiles", file="street.pmtiles", attribution="<b>x"))
    basemap.add_to(m, chosen)
    html = maps.map_html(m)
    assert "/app/static/vendor/pmtiles.js" in html
    assert 'new pmtiles.PMTiles("/gp/basemap/street.pmtiles")' in html
    assert '"maxNativeZoom": 14' in html
    assert basemap.attribution(chosen) == "&lt;b&gt;x"
    assert "<b>x" not in html


def test_tianditu_tiles_sit_under_the_grids_with_the_attribution_escaped() -> None:
    m = maps.base_map([121.37, 37.52, 121.42, 37.55], 300)
    basemap.add_to(m, basemap.validate(dataclasses.replace(TIANDITU, attribution="天地图 <img src=x>")))
    html = maps.map_html(m)
    assert html.count("tianditu.gov.cn") == 2
    assert "<img src=x>" not in html
    assert basemap.attribution(basemap.Basemap(attribution="天地图 <img src=x>")) == "天地图 &lt;img src=x&gt;"
    assert '"subdomains": "01234567"' in html


def test_saving_a_basemap_checks_it_audits_it_without_the_token_and_redraws_the_maps(street: Store) -> None:
    version = street.data_version()
    with pytest.raises(basemap.BasemapError):
        admin_views.save_basemap(street, "admin", dataclasses.replace(TIANDITU, crs="gcj02"))
    assert street.basemap_json() is None
    assert street.data_version() == version
    admin_views.save_basemap(street, "admin", TIANDITU)
    assert basemap.current(street.basemap_json())[0] == basemap.validate(TIANDITU)
    assert street.data_version() != version  # cached maps are drawn again, on the new basemap
    audit = street.audit_log()
    line = audit[audit["action"] == "basemap"].iloc[0]
    assert "天地图" in line.to_string()
    assert TOKEN not in line.to_string()
    admin_views.save_basemap(street, "admin", basemap.NONE)
    assert street.basemap_json() is None


def test_a_saved_file_that_went_missing_leaves_no_basemap_and_says_why(street: Store) -> None:
    path = tiles.write_pmtiles(basemap.folder() / "street.pmtiles", _bounds(street), range(13, 14))
    admin_views.save_basemap(street, "admin", basemap.Basemap(kind="pmtiles", file="street.pmtiles"))
    path.unlink()
    in_force, why = basemap.current(street.basemap_json())
    assert in_force == basemap.NONE
    assert "street.pmtiles" in (why or "")


def test_the_server_serves_basemap_files_in_ranges_and_names_the_tile_servers_in_its_policy(street: Store) -> None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.testclient import TestClient

    from gridpulse import web

    path = tiles.write_pmtiles(basemap.folder() / "street.pmtiles", _bounds(street), range(13, 14))
    tiles.write_pmtiles(basemap.folder() / "other.pmtiles", _bounds(street), range(13, 14))
    (basemap.folder() / "secret.txt").write_text("not a basemap")
    admin_views.save_basemap(street, "admin", basemap.Basemap(kind="pmtiles", file="street.pmtiles"))
    web._in_force[0] = (float("-inf"), basemap.NONE)  # read the choice now, not within the 5 s a server waits
    client = TestClient(Starlette(routes=web.routes(), middleware=[Middleware(web.SecurityHeaders)]))
    part = client.get("/gp/basemap/street.pmtiles", headers={"range": "bytes=0-126"})
    assert part.status_code == 206
    assert part.content == path.read_bytes()[:127]
    for name in ("secret.txt", "..%2Fstreet.duckdb", "missing.pmtiles", "other.pmtiles"):  # only the one in force
        assert client.get(f"/gp/basemap/{name}").status_code == 404
    assert "tianditu" not in part.headers["content-security-policy"]
    admin_views.save_basemap(street, "admin", TIANDITU)
    web._in_force[0] = (float("-inf"), basemap.NONE)  # as a server reads it within 5 s
    fresh = TestClient(Starlette(routes=web.routes(), middleware=[Middleware(web.SecurityHeaders)]))
    csp = fresh.get("/gp/basemap/street.pmtiles").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn;" in csp


def test_the_admin_page_saves_tianditu_and_refuses_gcj02_in_chinese(street: Store) -> None:
    at = apps.app("admin")
    at.switch_page("app_pages/page_admin.py").run()
    assert not at.exception
    assert any("当前底图：不用底图" in c.value for c in at.caption)
    kind = next(s for s in at.selectbox if s.label == "底图类型")
    kind.set_value("tianditu")
    next(w for w in at.text_input if w.label.startswith("天地图 Key")).set_value(TOKEN)
    next(s for s in at.selectbox if s.label == "瓦片坐标系").set_value("gcj02")
    at.button(key="FormSubmitter:basemap-保存底图设置").click().run()
    assert not at.exception, at.exception
    assert any("GCJ-02" in e.value.replace("\\", "") for e in at.error)  # markdown-escaped text
    assert street.basemap_json() is None
    next(s for s in at.selectbox if s.label == "瓦片坐标系").set_value("wgs84")
    at.button(key="FormSubmitter:basemap-保存底图设置").click().run()
    assert not at.error
    assert any("底图已保存" in s.value for s in at.success)
    assert basemap.from_json(street.basemap_json() or "").token == TOKEN


def test_an_mbtiles_file_is_converted_into_the_folder_and_a_bad_one_leaves_nothing(
    street: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gridpulse.__main__ import main

    source = tiles.write_mbtiles(tmp_path / "街道底图.mbtiles", _bounds(street), range(13, 16))
    assert main(["basemap", "convert", str(source)]) == 0
    assert "最大缩放级别 15" in capsys.readouterr().out
    assert basemap.files() == ["街道底图.pmtiles"]
    checked = basemap.validate(basemap.Basemap(kind="pmtiles", file="街道底图.pmtiles"), _bounds(street))
    assert checked.max_zoom == 15
    assert main(["basemap", "convert", str(source)]) == 2  # never over an existing file
    assert "已存在" in capsys.readouterr().err
    bad = tmp_path / "bad.mbtiles"
    bad.write_text("not SQLite")
    assert main(["basemap", "convert", str(bad)]) == 2
    assert "不是可读的 MBTiles" in capsys.readouterr().err
    assert sorted(p.name for p in basemap.folder().iterdir()) == ["街道底图.pmtiles"]  # nothing half-written
    other = Store(fixtures.build(tmp_path / "other.duckdb"))  # a street no dashboard holds open
    admin_views.save_basemap(other, "admin", checked)
    other.close()
    assert main(["basemap", "show", "--db", str(tmp_path / "other.duckdb")]) == 0
    assert "离线瓦片文件（PMTiles）：街道底图.pmtiles" in capsys.readouterr().out
