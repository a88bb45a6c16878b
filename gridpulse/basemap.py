"""Basemaps for an intranet: 天地图 with the office's token, or a PMTiles file the dashboard serves itself.

An admin picks one on the 用户与审计 page (saved in the store, so every server process uses it);
``GRIDPULSE_TILE_URL`` (an XYZ template) still works as a server-wide fallback. Without either,
the grids are the map, as before.

- **天地图** (``tianditu``): the national basemap, in CGCS2000, which agrees with WGS-84 (the grids'
  system) to centimetres. Its Web-Mercator WMTS tiles (``*_w``), vector (``vec`` + label layer
  ``cva``) or imagery (``img`` + ``cia``), from ``t0``–``t7.tianditu.gov.cn`` with the office's token,
  or from an intranet mirror at another address.
- **PMTiles** (``pmtiles``): one raster tile file in the basemap folder (``GRIDPULSE_BASEMAP_DIR``,
  default ``data/basemaps``), served at ``/gp/basemap/<name>`` with HTTP range requests and drawn by
  the PMTiles Leaflet layer from the npm registry (``npm ci``). No tile server. An MBTiles file is
  converted once (``python -m gridpulse basemap convert``).
- **GCJ-02 tiles are refused** (高德, 腾讯, 百度's BD-09 too): they are shifted by hundreds of metres
  against WGS-84 by design, so the grids would lie on the wrong streets; shifting them back is
  approximate and unlawful to redistribute, so we say why and point to 天地图 or a WGS-84 file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium
from folium.elements import JSCSSMixin
from folium.template import Template

from gridpulse import config
from gridpulse.safe_text import html_text
from gridpulse.strings import t

KINDS = ("none", "tianditu", "pmtiles", "xyz")
TIANDITU_URL = "https://t{s}.tianditu.gov.cn"
TIANDITU_SUBDOMAINS = "01234567"
TIANDITU_STYLES = {"vec": ("vec", "cva"), "img": ("img", "cia")}  # basemap layer, its label layer
TIANDITU_MAX_ZOOM = 18
SERVE_PATH = "/gp/basemap"
# Map services whose tiles are in GCJ-02 (or Baidu's BD-09): refused, with the reason.
GCJ_HOSTS = ("autonavi.com", "amap.com", "gtimg.com", "map.qq.com", "tencent.com", "baidu.com", "bdimg.com")
_FILE_NAME = re.compile(r"[\w\-. ]{1,120}\.pmtiles")  # fullmatch: no path, no line break
_TOKEN = re.compile(r"[A-Za-z0-9]{8,64}")
# A tile server's host and port as they may enter the Content-Security-Policy: nothing that could end a source
# (space, ';', ',', quotes) and no user or password. ``{s}`` stands for a subdomain.
_HOST = re.compile(r"(?:[A-Za-z0-9-]|\{s\})+(?:\.(?:[A-Za-z0-9-]|\{s\})+)*(?::\d{1,5})?")
_SUBDOMAINS = re.compile(r"[A-Za-z0-9]{0,16}")
_RASTER = {2: "PNG", 3: "JPEG", 4: "WebP", 5: "AVIF"}  # PMTiles tile types a browser draws as an image


class BasemapError(ValueError):
    """A basemap setting that cannot be used; the message (Chinese) says what to fix."""


@dataclass(frozen=True)
class Basemap:
    kind: str = "none"
    style: str = "vec"  # 天地图: vec (矢量) or img (影像)
    token: str = ""  # 天地图's key (tk)
    url: str = ""  # 天地图: another address (a mirror on the intranet); xyz: the tile template
    subdomains: str = ""
    file: str = ""  # pmtiles: the file's name in the basemap folder
    attribution: str = ""  # who made the map, with its 审图号 (e.g. GS(2024)0568号)
    crs: str = "wgs84"  # what the admin says the tiles are in: wgs84 (or cgcs2000) or gcj02
    max_zoom: int = TIANDITU_MAX_ZOOM  # pmtiles: the file's deepest zoom, from its header

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)


NONE = Basemap()


def folder() -> Path:
    """Where the office puts its PMTiles files: ``GRIDPULSE_BASEMAP_DIR``, else ``data/basemaps``."""
    return Path(os.environ.get("GRIDPULSE_BASEMAP_DIR") or config.REPO_ROOT / "data" / "basemaps")


def file_path(name: str) -> Path | None:
    """The PMTiles file called ``name`` in the folder, or None (no such file, or a name with a path in it)."""
    if not _FILE_NAME.fullmatch(name) or name.startswith("."):
        return None
    path = folder() / name
    return path if path.is_file() else None


def files() -> list[str]:
    """The PMTiles files in the folder, for the admin to pick from."""
    base = folder()
    return sorted(p.name for p in base.glob("*.pmtiles") if file_path(p.name)) if base.is_dir() else []


def pmtiles_header(path: Path) -> dict[str, Any]:
    """The file's header (tile type, zooms, bounds), or ``BasemapError`` if it is not a PMTiles v3 file."""
    from pmtiles.reader import MmapSource, Reader

    try:
        with open(path, "rb") as f:
            return dict(Reader(MmapSource(f)).header())
    except Exception as err:  # a truncated or foreign file: the reader fails in many ways
        raise BasemapError(t("basemap_pmtiles_unreadable", name=path.name, error=type(err).__name__)) from err


def convert_mbtiles(source: Path) -> tuple[Path, int]:
    """An MBTiles file written as ``<its name>.pmtiles`` into the basemap folder; the new file and its deepest zoom.

    Nothing is left behind when it fails (``BasemapError`` in Chinese): the file is written aside first.
    """
    from pmtiles.convert import mbtiles_to_pmtiles

    target = folder() / f"{source.stem}.pmtiles"
    if not _FILE_NAME.fullmatch(target.name):
        raise BasemapError(t("basemap_bad_name", name=source.name))
    if target.exists():
        raise BasemapError(t("basemap_exists", path=str(target)))
    if not source.is_file():
        raise BasemapError(t("basemap_mbtiles_unreadable", name=source.name, error="FileNotFoundError"))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    try:
        mbtiles_to_pmtiles(str(source), str(partial), None)
        header = pmtiles_header(partial)
    except Exception as err:  # not SQLite, no tiles table, metadata missing: sqlite3 and the converter fail variously
        partial.unlink(missing_ok=True)
        if isinstance(err, BasemapError):
            raise
        raise BasemapError(t("basemap_mbtiles_unreadable", name=source.name, error=type(err).__name__)) from err
    partial.replace(target)
    return target, int(header["max_zoom"])


def _gcj_host(url: str) -> bool:
    host = (urlsplit(url.replace("{s}", "a")).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in GCJ_HOSTS)


def _web_url(url: str) -> bool:
    """An http(s) address whose host (and port) is plain: letters, digits, dots, hyphens, ``{s}``."""
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(_HOST.fullmatch(parts.netloc))
        and not any(c in url for c in " \t\r\n;,'\"<>\\")
    )


def validate(b: Basemap, street_bounds: Sequence[float] | None = None) -> Basemap:
    """``b`` checked and completed (a PMTiles file's zooms), or ``BasemapError`` saying what to fix."""
    if b.kind not in KINDS:
        raise BasemapError(t("basemap_bad_kind", kind=b.kind))
    if b.kind == "none":
        return NONE
    if b.crs == "gcj02" or (b.url and _gcj_host(b.url)):
        raise BasemapError(t("basemap_gcj02"))
    if b.crs not in ("wgs84", "cgcs2000"):
        raise BasemapError(t("basemap_bad_crs", crs=b.crs))
    if b.kind == "tianditu":
        if b.style not in TIANDITU_STYLES:
            raise BasemapError(t("basemap_bad_style", style=b.style))
        if not _TOKEN.fullmatch(b.token):
            raise BasemapError(t("basemap_bad_token"))
        url = (b.url or TIANDITU_URL).rstrip("/")
        if not _web_url(url):
            raise BasemapError(t("basemap_bad_url", url=url))
        subdomains = b.subdomains or (TIANDITU_SUBDOMAINS if "{s}" in url else "")
        if not _SUBDOMAINS.fullmatch(subdomains) or ("{s}" in url and not subdomains):
            raise BasemapError(t("basemap_bad_subdomains"))
        return dataclasses.replace(b, url=url, subdomains=subdomains, file="", max_zoom=TIANDITU_MAX_ZOOM)
    if b.kind == "xyz":
        if not _web_url(b.url) or not all(k in b.url for k in ("{z}", "{x}", "{y}")):
            raise BasemapError(t("basemap_bad_xyz", url=b.url))
        subdomains = b.subdomains or ("abc" if "{s}" in b.url else "")
        if not _SUBDOMAINS.fullmatch(subdomains):
            raise BasemapError(t("basemap_bad_subdomains"))
        return dataclasses.replace(b, token="", file="", subdomains=subdomains)
    path = file_path(b.file)
    if path is None:
        raise BasemapError(t("basemap_no_file", name=b.file, folder=str(folder())))
    if not _vendored("pmtiles.js"):
        raise BasemapError(t("basemap_no_plugin"))
    header = pmtiles_header(path)
    kind = int(getattr(header["tile_type"], "value", header["tile_type"]))
    if kind == 1:
        raise BasemapError(t("basemap_vector_tiles", name=b.file))
    if kind not in _RASTER:
        raise BasemapError(t("basemap_unknown_tiles", name=b.file))
    if street_bounds is not None:
        west, south, east, north = (header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
        minx, miny, maxx, maxy = street_bounds
        if maxx < west or minx > east or maxy < south or miny > north:
            raise BasemapError(t("basemap_outside", name=b.file))
    return dataclasses.replace(b, token="", url="", subdomains="", max_zoom=int(header["max_zoom"]))


def _vendored(name: str) -> bool:
    from gridpulse import maps

    return name in maps.asset_sources()


def from_json(text: str) -> Basemap:
    """A saved setting; unknown keys are ignored, wrong types refused."""
    try:
        raw = json.loads(text)
        names = {f.name for f in dataclasses.fields(Basemap)}
        values = {k: (int(v) if k == "max_zoom" else str(v)) for k, v in raw.items() if k in names}
        return Basemap(**values)
    except (ValueError, TypeError, AttributeError) as err:
        raise BasemapError(t("basemap_bad_json")) from err


def from_env() -> Basemap:
    """The server-wide fallback: ``GRIDPULSE_TILE_URL`` (an XYZ template), else no basemap."""
    url = config.tile_url()
    return Basemap(kind="xyz", url=url, attribution="") if url else NONE


def current(saved: str | None) -> tuple[Basemap, str | None]:
    """The basemap in force and, when a saved one can no longer be used (file gone), why (shown to the admin)."""
    if not saved:
        try:
            return validate(from_env()), None
        except BasemapError as err:
            return NONE, str(err)
    try:
        return validate(from_json(saved)), None
    except BasemapError as err:
        return NONE, str(err)


def tile_urls(b: Basemap) -> list[str]:
    """Leaflet URL templates for ``b``'s tile layers, bottom first (天地图: the map, then its labels)."""
    if b.kind == "xyz":
        return [b.url]
    if b.kind != "tianditu":
        return []
    return [
        f"{b.url}/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
        f"&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={b.token}"
        for layer in TIANDITU_STYLES[b.style]
    ]


def attribution(b: Basemap) -> str:
    """The attribution as Leaflet shows it (HTML there): escaped; when the admin wrote none, 天地图 or the tile host."""
    if b.attribution:
        return html_text(b.attribution)
    if b.kind == "tianditu":
        return html_text(t("basemap_tianditu_name"))
    return html_text(urlsplit(b.url.replace("{s}", "a")).hostname or t("basemap_layer"))


def add_to(m: folium.Map, b: Basemap) -> None:
    """Put ``b``'s tiles under the map's layers (Leaflet's tile pane lies below the grids whatever the order)."""
    if b.kind in ("tianditu", "xyz"):
        for url in tile_urls(b):
            folium.TileLayer(
                tiles=url,
                attr=attribution(b),  # the same text on both: Leaflet shows it once
                name=t("basemap_layer"),
                subdomains=b.subdomains or "abc",
                max_zoom=22,
                max_native_zoom=b.max_zoom,
                overlay=False,
                control=False,
            ).add_to(m)
    elif b.kind == "pmtiles":
        m.add_child(_PMTilesLayer(f"{SERVE_PATH}/{b.file}", attribution(b), b.max_zoom))


class _PMTilesLayer(JSCSSMixin, folium.MacroElement):
    """The PMTiles Leaflet raster layer on a file this server serves (range requests; tiles become blob: images)."""

    def __init__(self, url: str, attribution: str, max_zoom: int) -> None:
        super().__init__()
        from gridpulse import maps

        self.options = {"attribution": attribution, "maxNativeZoom": max_zoom, "maxZoom": 22}
        self.url = url
        self.default_js = [("pmtiles", maps.asset_url("pmtiles.js"))]

    # folium's template class: its |tojson writes through safe_text.script_json (gridpulse/maps.py), so a file's
    # name forms no Jinja tag when branca compiles the output again.
    _template = Template(
        """{% macro script(this, kwargs) %}
        pmtiles.leafletRasterLayer(new pmtiles.PMTiles({{ this.url|tojson }}), {{ this.options|tojson }})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


def csp_img_sources(b: Basemap) -> list[str]:
    """The tile servers a map frame may load images from (none for a PMTiles file: same origin, blob: images)."""
    sources = []
    for url in tile_urls(b):
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and _HOST.fullmatch(parts.netloc):  # validated; checked again here
            sources += [f"{parts.scheme}://{host}" for host in _hosts(parts.netloc, b.subdomains)]
    return list(dict.fromkeys(sources))


def _hosts(netloc: str, subdomains: str) -> list[str]:
    """CSP sources for a tile host; ``{s}`` in its first label as a wildcard, elsewhere written out."""
    if "{s}" not in netloc:
        return [netloc]
    labels = netloc.split(".")
    if "{s}" in labels[0] and len(labels) > 2:
        return [".".join(["*", *labels[1:]])]
    return [netloc.replace("{s}", s) for s in subdomains or "abc"]
