"""Small basemap tile files and a mock tile server, made by the tests (nothing downloaded).

``write_pmtiles`` writes a raster PMTiles file covering some bounds at a few zooms: each tile a
pale picture with its own z/x/y, so a screenshot shows the basemap is there and where.
``TileServer`` answers every tile request with a PNG and records what was asked (a stand-in for
天地图 on localhost: the browser's outside requests go to a dead proxy).
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageDraw
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_png(z: int, x: int, y: int, colour: str = "#f3efe4") -> bytes:
    """A 256 px tile: a pale fill, a darker frame and "z/x/y" written on it."""
    image = Image.new("RGB", (256, 256), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 255, 255], outline="#b9ab8a", width=2)
    draw.line([0, 128, 256, 128], fill="#d8cfb8", width=6)  # a "road" across each tile
    draw.text((12, 12), f"{z}/{x}/{y}", fill="#6b5d3f")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def write_pmtiles(
    path: Path, bounds: Sequence[float], zooms: range = range(12, 17), tile_type: TileType = TileType.PNG
) -> Path:
    """Tiles over ``bounds`` (minx, miny, maxx, maxy) at ``zooms`` into a PMTiles v3 file at ``path``."""
    minx, miny, maxx, maxy = bounds
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        writer = Writer(f)
        tiles = []
        for z in zooms:
            x0, y0 = _tile_xy(minx, maxy, z)
            x1, y1 = _tile_xy(maxx, miny, z)
            tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        for z, x, y in sorted(tiles, key=lambda zxy: zxy_to_tileid(*zxy)):
            data = tile_png(z, x, y) if tile_type == TileType.PNG else b"\x1a\x00"  # MVT: any bytes will do
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        e7 = 10_000_000
        writer.finalize(
            {
                "tile_type": tile_type,
                "tile_compression": Compression.NONE,
                "min_zoom": zooms.start,
                "max_zoom": zooms.stop - 1,
                "min_lon_e7": int(minx * e7),
                "min_lat_e7": int(miny * e7),
                "max_lon_e7": int(maxx * e7),
                "max_lat_e7": int(maxy * e7),
                "center_zoom": zooms.start,
                "center_lon_e7": int((minx + maxx) / 2 * e7),
                "center_lat_e7": int((miny + maxy) / 2 * e7),
            },
            {"name": "test basemap", "attribution": "tests"},
        )
    return path


class TileServer:
    """A tile server on 127.0.0.1 answering any GET with a PNG tile; ``requests`` lists the paths asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        png = tile_png(0, 0, 0, colour="#e4eef3")
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.send_header("Access-Control-Allow-Origin", "*")  # lets a page read the tile (a map picture)
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> TileServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def running() -> Iterator[TileServer]:
    with TileServer() as server:
        yield server


def write_mbtiles(path: Path, bounds: Sequence[float], zooms: range = range(13, 15)) -> Path:
    """The same tiles as an MBTiles file (SQLite, TMS rows), as tile tools export them."""
    import sqlite3

    minx, miny, maxx, maxy = bounds
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        meta = {"name": "test", "format": "png", "bounds": f"{minx},{miny},{maxx},{maxy}",
                "center": f"{(minx + maxx) / 2},{(miny + maxy) / 2},{zooms.start}",
                "minzoom": str(zooms.start), "maxzoom": str(zooms.stop - 1), "attribution": "tests"}  # fmt: skip
        db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
        for z in zooms:
            x0, y0 = _tile_xy(minx, maxy, z)
            x1, y1 = _tile_xy(maxx, miny, z)
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, tile_png(z, x, y)))
    return path
