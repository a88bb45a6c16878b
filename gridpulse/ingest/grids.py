"""Grid boundaries from GeoJSON, a zipped Shapefile (with its .prj) or KML, read with pyogrio.

Invalid polygons are repaired (``make_valid``) with a warning, or rejected with the
reason; overlaps and gaps between grids are reported with their area; multipart grids
are kept. The new layer replaces the old one and every case and resource is joined
to it again, in one transaction.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import chinacrs, join, shapes
from gridpulse import clock
from gridpulse.ingest import limits, mapping, values
from gridpulse.ingest.rows import CHINA_LAT, CHINA_LON
from gridpulse.ingest.run import Summary, audited_import, coordinate_system
from gridpulse.ingest.sources import ImportFileError, chinese_encoding, preview_rows
from gridpulse.store import Store
from gridpulse.strings import t

MIN_REPORTED_AREA_M2 = 1.0  # overlaps and gaps smaller than this are drawing noise
MAX_LISTED = 10


# LIBKML would turn ExtendedData field names it calls unsafe (every Chinese one) into "____", merging them.
pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
GDAL_ENCODINGS = {"gb18030": "GB18030", "cp950": "CP950", "utf-8": "UTF-8"}


def read_layer(path: Path) -> gpd.GeoDataFrame:
    """Every feature of the file (all layers of a KML), in the file's own CRS.

    A Shapefile's .dbf without a .cpg (and without a code page in its header) is read in the
    encoding its text is in: UTF-8, GBK or Big5 (``layer.attrs["encoding"]`` says which was found).
    """
    path = Path(path)
    if not path.exists():
        raise ImportFileError(t("imp_not_found", path=path))
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(t("imp_empty_file", name=path.name))
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(b"\xef\xbb\xbf")
    encoding = None
    if head.startswith(b"PK\x03\x04"):
        # sizes, packing and a bound on the vertices, from the zip's directory: nothing is inflated
        shp = [n for n in limits.check_shapefile_zip(path) if n.lower().endswith(".shp")]
        if not shp:
            raise ImportFileError(t("imp_zip_no_shp", name=path.name))
        source = f"/vsizip/{path}/{shp[0]}"
        encoding = _dbf_encoding(path, shp[0])
    elif head.lstrip().startswith((b"{", b"[")) or b"<kml" in head or head.lstrip().startswith(b"<?xml"):
        limits.check_grid_file(path, size)
        source = str(path)
    else:
        raise ImportFileError(t("imp_not_grid_file", name=path.name))
    try:
        layers = [name for name, _ in pyogrio.list_layers(source)]
        options = {"encoding": GDAL_ENCODINGS[encoding]} if encoding else {}
        frames = [gpd.read_file(source, layer=layer, engine="pyogrio", **options) for layer in layers]
    except Exception as err:  # GDAL reports many kinds of broken files
        raise ImportFileError(t("imp_grid_unreadable", name=path.name, error=str(err)[:200])) from err
    frames = [f for f in frames if len(f)]
    if not frames:
        raise ImportFileError(t("imp_no_records", name=path.name))
    crs = frames[0].crs
    layer = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    limits.check_vertices(path, int(shapely.get_num_coordinates(layer.geometry.values).sum()))
    layer.attrs["encoding"] = encoding
    return layer


def _dbf_encoding(path: Path, shp: str) -> str | None:
    """The text encoding of the Shapefile's .dbf when nothing in the zip names it; None when GDAL knows."""
    with zipfile.ZipFile(path) as zf:  # sizes already checked (limits.check_shapefile_zip)
        names = {n.lower(): n for n in zf.namelist()}
        stem = shp[:-4].lower()
        dbf = names.get(stem + ".dbf")
        if stem + ".cpg" in names or dbf is None:
            return None
        data = zf.read(dbf)
    # A language driver id names the code page, except 0 and 0x57 ("the system's ANSI page", as ArcGIS writes).
    if len(data) < 32 or data[29] not in (0, 0x57):
        return None
    header = int.from_bytes(data[8:10], "little")
    names = b"".join(data[at : at + 11].split(b"\0")[0] for at in range(32, header - 31, 32))  # field names
    body = names + data[header:]
    if body.isascii():
        return None
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return chinese_encoding(body)


def to_wgs84(layer: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    """The layer in WGS-84: ``crs`` overrides the file's (needed for GCJ-02/BD-09, which no .prj names)."""
    system = coordinate_system(crs) if crs else None
    if system in ("gcj02", "bd09"):
        out = layer.set_crs(shapes.WGS84, allow_override=True)
        convert = chinacrs.gcj02_to_wgs84 if system == "gcj02" else chinacrs.bd09_to_wgs84
        out["geometry"] = shapely.transform(
            out.geometry.values, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1]))
        )
        return out
    if system not in (None, "wgs84", "cgcs2000"):
        return layer.set_crs(system, allow_override=True).to_crs(shapes.WGS84)
    if layer.crs is None or system in ("wgs84", "cgcs2000"):
        return layer.set_crs(shapes.WGS84, allow_override=True)
    return layer.to_crs(shapes.WGS84)


@audited_import  # refused on a read-only database; failures audited
def import_grids(
    store: Store, path: Path, *, crs: str | None = None, maps: dict[str, str] | None = None,
    username: str | None = None, file_name: str | None = None,
) -> Summary:  # fmt: skip
    started = time.perf_counter()
    read = read_layer(path)
    layer = to_wgs84(read, crs)
    x0, y0, x1, y1 = layer.total_bounds
    if not (CHINA_LON[0] <= x0 <= x1 <= CHINA_LON[1] and CHINA_LAT[0] <= y0 <= y1 <= CHINA_LAT[1]):
        bounds = f"{x0:.4f}, {y0:.4f}, {x1:.4f}, {y1:.4f}"
        raise ImportFileError(t("imp_grid_not_lonlat", name=Path(path).name, bounds=bounds))
    headers = [c for c in layer.columns if c != "geometry"]
    columns = mapping.resolve_columns(headers, "grids", maps or {})
    warnings: Counter[str] = Counter()
    if read.attrs.get("encoding") in ("gb18030", "cp950"):  # said, so a wrong guess can be seen
        warnings[t("warn_dbf_encoding", encoding=t(f"encoding_{read.attrs['encoding']}"))] += 1
    reasons: list[list[str]] = [[] for _ in range(len(layer))]
    col = lambda target: layer[columns[target]] if target in columns else pd.Series([None] * len(layer))  # noqa: E731
    out = pd.DataFrame({"grid_code": values.text(col("grid_code")).to_numpy()})
    out["grid_name"] = values.text(col("grid_name")).to_numpy()
    out["grid_name"] = out["grid_name"].fillna(out["grid_code"])
    out["community"] = values.text(col("community")).to_numpy()
    if out["community"].isna().any():
        warnings[t("warn_no_community")] += int(out["community"].isna().sum())
        out["community"] = out["community"].fillna(t("no_community"))
    households, bad = values.numbers(col("households"))
    out["households"] = pd.array(households.round().to_numpy(), dtype="Int32")
    warnings[t("warn_bad_households")] += int(bad.sum())
    out["grid_head"] = values.text(col("grid_head")).to_numpy()
    geoms = np.asarray(layer.geometry.values)
    repaired = np.zeros(len(layer), dtype=bool)
    for i, g in enumerate(geoms):
        if out.at[i, "grid_code"] is None:
            reasons[i].append(t("rej_no_grid_code"))
        if g is None or g.is_empty:
            reasons[i].append(t("rej_no_geometry"))
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            reasons[i].append(t("rej_not_polygon", kind=g.geom_type))
            continue
        if not g.is_valid or g.geom_type == "GeometryCollection":
            fixed = _polygonal(shapely.make_valid(g))
            if fixed is None:
                reasons[i].append(t("rej_invalid_polygon", why=shapely.is_valid_reason(g)))
                continue
            geoms[i], repaired[i] = fixed, True
    warnings[t("warn_repaired")] += int(repaired.sum())
    bad_rows = np.array([bool(r) for r in reasons])
    raw = layer.drop(columns="geometry").astype(str)
    raw["geometry"] = [g.wkt[:200] if g is not None else "" for g in layer.geometry.values]
    rejects = pd.DataFrame({"row_number": np.arange(1, len(layer) + 1), "raw": preview_rows(raw),
                            "reasons": ["；".join(r) for r in reasons]})[bad_rows]  # fmt: skip
    keep = out[~bad_rows].copy()
    keep["geometry"] = geoms[~bad_rows]
    keep["row_number"] = np.arange(1, len(layer) + 1)[~bad_rows]
    dup = keep.duplicated("grid_code", keep="last")
    last_row = keep.groupby("grid_code")["row_number"].transform("max")
    rejects = pd.concat([rejects, pd.DataFrame({
        "row_number": keep.loc[dup, "row_number"], "raw": preview_rows(raw.iloc[keep.loc[dup, "row_number"] - 1]),
        "reasons": [t("rej_duplicate_id", row=r) for r in last_row[dup]]})], ignore_index=True)  # fmt: skip
    keep = keep[~dup].reset_index(drop=True)
    if keep.empty:
        raise ImportFileError(t("imp_no_valid_grids", name=Path(path).name, reasons=_top(rejects)))
    frame = gpd.GeoDataFrame(keep, geometry="geometry", crs=shapes.WGS84)
    problems = overlaps_and_gaps(frame)
    for text in problems:
        warnings[text] += 1
    index = join.GridIndex(frame)
    grid_rows = keep.drop(columns="row_number").assign(geometry=shapely.to_wkb(keep["geometry"].to_numpy()))
    info = {"ts": clock.now(), "username": username, "file_name": file_name or Path(path).name, "format": "grids",
            "encoding": None, "warnings": json.dumps(dict(warnings), ensure_ascii=False)}  # fmt: skip
    record = store.replace_grids(grid_rows, rejects, info, index.assign)
    warnings[t("warn_rejoined")] += record["rejoined"]
    record["warnings"] = {w: n for w, n in warnings.items() if n}
    reasons_count = Counter(r for text in rejects["reasons"] for r in text.split("；"))
    return Summary(record, reasons_count.most_common(5), record["warnings"], time.perf_counter() - started, columns)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygon parts of a repaired geometry, or None when nothing with area is left."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
    if not parts:
        return None
    return shapely.union_all(parts)


def overlaps_and_gaps(grids: gpd.GeoDataFrame) -> list[str]:
    """Texts naming each overlap (grid pair and area) and the gaps inside the layer's outline."""
    crs = shapes.metric_crs(grids)
    metric = grids.to_crs(crs)
    geoms = np.asarray(metric.geometry.values)
    codes = metric["grid_code"].to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    out = []
    overlaps = []
    for a, b in zip(left[pairs], right[pairs], strict=True):
        area = shapely.intersection(geoms[a], geoms[b]).area
        if area >= MIN_REPORTED_AREA_M2:
            overlaps.append((area, codes[a], codes[b]))
    for area, a, b in sorted(overlaps, reverse=True)[:MAX_LISTED]:
        out.append(t("warn_overlap", a=a, b=b, area=area))
    if len(overlaps) > MAX_LISTED:
        out.append(t("warn_more_overlaps", n=len(overlaps) - MAX_LISTED))
    union = shapely.union_all(geoms)
    holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    holes = [h for h in holes if h.area >= MIN_REPORTED_AREA_M2]
    if holes:
        out.append(t("warn_gaps", n=len(holes), area=sum(h.area for h in holes)))
    return out


def _top(rejects: pd.DataFrame) -> str:
    return "；".join(f"{r}（{n}）" for r, n in Counter(rejects["reasons"]).most_common(3))
