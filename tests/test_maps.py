"""Maps are offline: local assets only, no CDN, no online basemap, bounded payload."""

from __future__ import annotations

import re

from gridpulse import basemap, config, maps, views
from gridpulse.scope import Scope
from tests.fixtures import AS_OF, MARCH

STREET = Scope.street()


def _heat_map(store):
    perf = views.grid_performance(store, STREET, MARCH, AS_OF)
    return maps.grid_metric_map(
        views.grid_shapes(store, STREET), perf, "cases_per_100", views.heat_cells(store, STREET, MARCH)
    )


def test_map_uses_only_local_assets(store) -> None:
    m, legend = _heat_map(store)
    html = maps.map_html(m)
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == []
    assert "/app/static/vendor/leaflet.js" in html
    assert "/app/static/vendor/leaflet_heat.min.js" in html
    assert "tile.openstreetmap" not in html
    assert "每百户诉求数" in legend


def test_install_assets_copies_the_packaged_files(tmp_path) -> None:
    written = maps.install_assets(tmp_path)
    names = {p.name for p in written}  # the README's commands run npm ci before the tests
    assert names == {"leaflet.js", "leaflet.css", "leaflet_heat.min.js", "pmtiles.js", maps.PICTURE_JS}
    assert all(p.stat().st_size > 1000 for p in written)
    assert "Leaflet 1.9.4" in (tmp_path / "vendor" / "leaflet.js").read_text()[:200]


def test_heat_cells_aggregate_cases(store) -> None:
    cells = views.heat_cells(store, STREET, MARCH)
    # 9 cases with coordinates in March (c09 has none) in 6 distinct places
    assert cells["weight"].sum() == 9
    assert len(cells) == 6


def test_classify_colours_and_no_data() -> None:
    import pandas as pd

    fill, ranges, palette = maps.classify(pd.Series([0.5, 0.9, None, 1.0]), higher_is_better=True)
    assert fill[2] == maps.NO_DATA_COLOUR
    assert fill[3] == maps.RATE_COLOURS[-1]
    assert len(ranges) == len(palette)


def test_tile_url_is_configurable(store, monkeypatch) -> None:
    monkeypatch.setenv("GRIDPULSE_TILE_URL", "http://tiles.intranet/{z}/{x}/{y}.png")
    assert config.tile_url() == "http://tiles.intranet/{z}/{x}/{y}.png"
    m, _ = _heat_map(store)
    assert "tiles.intranet" not in maps.map_html(m)  # the basemap is added where the map is shown
    basemap.add_to(m, basemap.current(None)[0])
    assert "tiles.intranet" in maps.map_html(m)


def test_maps_have_a_metric_scale_only_and_no_flag_in_the_attribution() -> None:
    html = maps.base_map([121.37, 37.52, 121.42, 37.55], 300).get_root().render()
    assert html.count("L.control.scale(") == 1
    assert "imperial: false" in html
    assert 'setPrefix("Leaflet")' in html


def test_palettes_never_set_red_against_green() -> None:
    """Colour-blind readers cannot tell red from green: no palette uses a green."""
    import colorsys

    def greenish(hex_colour: str) -> bool:
        r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        hue, light, sat = colorsys.rgb_to_hls(r, g, b)
        return sat > 0.25 and 0.2 < light < 0.9 and 75 / 360 < hue < 165 / 360

    palettes = [maps.DENSITY_COLOURS, maps.RATE_COLOURS, maps.LEVEL_SHARE_COLOURS, tuple(maps.LEVEL_COLOURS.values())]
    assert not [c for p in palettes for c in p if greenish(c)]
