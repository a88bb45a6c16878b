"""Generate the realistic demo street (deterministic for a given seed)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import join, tiling
from gridpulse import auth, demo_events
from gridpulse import demo_catalog as cat
from gridpulse import store as store_pkg

PERIOD_START = datetime(2025, 3, 1)
AS_OF = datetime(2026, 11, 20, 10, 0)  # the demo's "now": figures are taken at this moment
STUCK_SHARE = 0.04  # escalated cases of the last STUCK_DAYS that stay open past their deadline
STUCK_DAYS = 120  # older cases are all closed ...
OLD_STUCK_SHARE = 0.01  # ... but for a handful of level-3 hard matters
OUTSIDE_SHARE = 0.004  # geocoded outside the street: kept, counted as unassigned
NO_COORD_SHARE = 0.003  # reported without a usable location
WORK_START_H, WORK_END_H = 7, 22  # steps that would fall at night happen the next morning


def build_grids(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The street's grids with codes, names, communities, heads and households."""
    outline = tiling.street_outline(rng, cat.SEMI_AXES_M)
    cells = tiling.voronoi_tiles(outline, cat.N_GRIDS, rng)
    community_idx = tiling.group_tiles(cells, len(cat.COMMUNITIES), rng)
    lon0, lat0 = cat.CENTRE
    names = rng.permutation([p + s for p in cat.COMPOUND_PREFIXES for s in cat.COMPOUND_SUFFIXES])[: len(cells)]
    rows = []
    counters = [0] * len(cat.COMMUNITIES)
    order = sorted(range(len(cells)), key=lambda i: (community_idx[i], -cells[i].centroid.y, cells[i].centroid.x))
    for i in order:
        c = int(community_idx[i])
        counters[c] += 1
        head = cat.SURNAMES[rng.integers(len(cat.SURNAMES))] + cat.GIVEN_NAMES[rng.integers(len(cat.GIVEN_NAMES))]
        rows.append(
            {
                "grid_code": f"{cat.DISTRICT_CODE}{cat.STREET_CODE}{c + 1:03d}{counters[c]:03d}",
                "grid_name": f"{names[i]}网格",
                "community": cat.COMMUNITIES[c],
                "households": int(rng.integers(300, 601)),
                "grid_head": head,
                "geometry": tiling.to_lonlat(cells[i], lon0, lat0),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=join.WGS84)


def _hotspots(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Places that attract cases: old compounds, markets, schools, each inside a grid."""
    rows = []
    old = rng.random(len(grids)) < 0.3  # about a third of grids are old compounds
    for gi, geom in enumerate(grids.geometry):
        pts = shapely.get_coordinates(shapely.points(_points_in(geom, 3, rng)))
        for k, (x, y) in enumerate(pts):
            kind = "compound"
            if k == 2 and rng.random() < 0.12:
                kind = "market"
            elif k == 2 and rng.random() < 0.12:
                kind = "school"
            weight = (3.0 if old[gi] else 1.0) * (2.0 if kind == "market" else 1.0)
            rows.append({"grid": gi, "lon": x, "lat": y, "kind": kind, "weight": weight})
    return pd.DataFrame(rows)


def _points_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = geom.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(n * 4, 2))
        out = np.vstack([out, cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]])
    return out[:n]


def _working_hours(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``t``, with a time between WORK_END_H and WORK_START_H moved to the next morning (two hours' jitter)."""
    day = t.astype("datetime64[D]")
    tod_h = (t - day) / np.timedelta64(1, "h")
    late = tod_h >= WORK_END_H
    morning = (
        day
        + late.astype("timedelta64[D]")
        + ((WORK_START_H + rng.uniform(0, 2, len(t))) * 3600).astype("timedelta64[s]")
    )
    return np.where(late | (tod_h < WORK_START_H), morning, t)


def build_cases(
    grids: gpd.GeoDataFrame, n: int, rng: np.random.Generator, index: join.GridIndex | None = None
) -> pd.DataFrame:
    """``n`` cases with the lifecycle each had reached at ``AS_OF``.

    ``grid_code`` is the grid the (rounded) point is joined to, and the compound named in
    the address and description is that grid's; ``placement`` is "point" for those cases.
    """
    spots = _hotspots(grids, rng)
    households = grids["households"].to_numpy()[spots["grid"].to_numpy()]
    p_spot = spots["weight"].to_numpy() * households
    spot = rng.choice(len(spots), size=n, p=p_spot / p_spot.sum())
    grid_idx = spots["grid"].to_numpy()[spot]
    lat0 = cat.CENTRE[1]
    sigma = np.where(rng.random(n) < 0.7, 45.0, 160.0)  # tight at the spot, looser around it
    dlon, dlat = tiling.metres_to_deg(rng.normal(0, sigma), rng.normal(0, sigma), lat0)
    lon = spots["lon"].to_numpy()[spot] + dlon
    lat = spots["lat"].to_numpy()[spot] + dlat
    # A resident reports from inside the street: a draw that spilled over its edge
    # goes back next to its hotspot. Only the deliberate OUTSIDE_SHARE stays outside.
    street = shapely.union_all(grids.geometry.values)
    spilled = ~shapely.contains_xy(street, lon, lat)
    jlon, jlat = tiling.metres_to_deg(rng.normal(0, 8, n), rng.normal(0, 8, n), lat0)
    lon = np.where(spilled, spots["lon"].to_numpy()[spot] + jlon, lon)
    lat = np.where(spilled, spots["lat"].to_numpy()[spot] + jlat, lat)
    outside = rng.random(n) < OUTSIDE_SHARE
    off_lon, off_lat = tiling.metres_to_deg(rng.uniform(1800, 3000, n), rng.uniform(-500, 500, n), lat0)
    lon = np.where(outside, cat.CENTRE[0] + off_lon, lon)
    lat = np.where(outside, cat.CENTRE[1] + off_lat, lat)
    no_coord = rng.random(n) < NO_COORD_SHARE
    lon[no_coord] = np.nan
    lat[no_coord] = np.nan
    lon, lat = np.round(lon, 6), np.round(lat, 6)  # as stored, so the join below is the stored one
    # The generator's own idea of the grid is not trusted: points are joined to polygons (the
    # raster index gives GeoPandas' answers, tested, several times faster). A point that spilled
    # across a border belongs to the neighbouring grid, and its address names that grid's compound.
    grid_code = (index or join.GridIndex(grids)).assign(lon, lat)
    in_grid = pd.notna(grid_code)
    joined_idx = pd.Series(np.arange(len(grids)), index=grids["grid_code"].to_numpy()).reindex(grid_code).to_numpy()
    grid_idx = np.where(in_grid, joined_idx, grid_idx).astype(int)  # outside every grid: the hotspot's

    src_names = list(cat.SOURCES)
    src_p = np.array(list(cat.SOURCES.values()), dtype=float)
    source = np.array(src_names, dtype=object)[rng.choice(len(src_names), size=n, p=src_p / src_p.sum())]
    patrol = source == "网格巡查"  # found by grid workers on their daytime rounds, no resident reporter

    # When: uniform over the period with a slight upward trend, daytime hours.
    span_days = (AS_OF - PERIOD_START).total_seconds() / 86400
    day = np.clip(span_days * (rng.random(n) ** 0.9), 0, span_days - 0.5)
    reported = (
        np.datetime64(PERIOD_START, "s")
        + (np.floor(day) * 86400).astype("timedelta64[s]")
        + (np.where(patrol, rng.uniform(8, 18, n), rng.uniform(7, 21, n)) * 3600).astype("timedelta64[s]")
    )
    month = pd.DatetimeIndex(reported).month.to_numpy() - 1

    # What: category weights shifted by season and by the kind of place.
    base = np.array([c.weight for c in cat.CATEGORIES], dtype=float)
    names = [c.name for c in cat.CATEGORIES]
    season = np.ones((12, len(names)))
    for name, mult in cat.SEASONAL.items():
        season[:, names.index(name)] = mult
    w = base[None, :] * season[month]
    kind = spots["kind"].to_numpy()[spot]
    w[kind == "market", names.index("环境卫生")] *= 3
    w[kind == "market", names.index("停车管理")] *= 2
    w[kind == "school", names.index("停车管理")] *= 3
    w[kind == "school", names.index("治安防诈")] *= 3
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    ci = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), len(names) - 1)
    category = np.array(names, dtype=object)[ci]

    compound = grids["grid_name"].str.removesuffix("网格").to_numpy()[grid_idx]
    bldg = rng.integers(1, 31, n)
    tpl_pick = rng.random(n)
    description = np.empty(n, dtype=object)
    for k, c in enumerate(cat.CATEGORIES):
        idx = np.flatnonzero(ci == k)
        t = (tpl_pick[idx] * len(c.templates)).astype(int)
        description[idx] = [c.templates[j].format(c=compound[i], b=bldg[i]) for j, i in zip(t, idx, strict=True)]

    # Who reported it: residents' personal data (masked for roles that do not need it).
    resident = ~patrol
    surname = np.array(list(cat.SURNAMES), dtype=object)[rng.integers(len(cat.SURNAMES), size=n)]
    given = np.array(cat.GIVEN_NAMES, dtype=object)[rng.integers(len(cat.GIVEN_NAMES), size=n)]
    reporter_name = np.where(resident, surname + given, None)
    prefix = rng.choice(["13", "15", "17", "18", "19"], size=n)
    phone = np.array([f"{p}{d:09d}" for p, d in zip(prefix, rng.integers(0, 10**9, size=n), strict=True)], dtype=object)
    reporter_phone = np.where(resident, phone, None)
    unit, room = rng.integers(1, 7, n), rng.integers(1, 7, n) * 100 + rng.integers(1, 5, n)
    address = np.array(
        [f"{cat.STREET_NAME}{c}{b}号楼{u}单元{r}室" for c, b, u, r in zip(compound, bldg, unit, room, strict=True)],
        dtype=object,
    )
    with_phone = resident & (rng.random(n) < 0.08)  # residents often leave a number in the text
    description = np.where(with_phone, description + "，联系电话" + phone, description)

    # Who solved it: three-level linkage by category; weak grids escalate and slip more.
    quality = rng.uniform(0.93, 0.99, len(grids))
    weak = rng.choice(len(grids), size=4, replace=False)
    quality[weak] = rng.uniform(0.76, 0.86, 4)
    q = quality[grid_idx]
    lvl_p = np.array([c.levels for c in cat.CATEGORIES])[ci]
    lvl_cum = np.cumsum(lvl_p, axis=1)
    level = 1 + (lvl_cum < rng.random(n)[:, None] * lvl_cum[:, -1:]).sum(axis=1)
    dept_of = np.array([c.department for c in cat.CATEGORIES], dtype=object)
    department = np.where(level == 3, dept_of[ci], None)
    # Departments differ (cat.DEPARTMENT_PROFILES); their profile applies to level-3 cases only.
    profiles = [cat.DEPARTMENT_PROFILES.get(c.department, cat.TYPICAL_DEPARTMENT) for c in cat.CATEGORIES]
    dept3 = level == 3
    accept_mean = np.array([p.accept_mean_hours for p in profiles])[ci]
    resolve_factor = np.array([p.resolve_factor for p in profiles])[ci]
    sat_drop = np.where(dept3, np.array([p.satisfaction_drop for p in profiles])[ci], 0.0)
    rework_p = np.array([p.rework_p for p in profiles])[ci]

    hour = np.timedelta64(3600, "s")
    deadline_h = np.array([c.deadline_hours for c in cat.CATEGORIES])[ci]
    # On the spot (现场解决): a grid worker on patrol solves it there, within two hours of the report.
    on_spot = patrol & (level == 1) & (rng.random(n) < 0.5)
    dispatch_mean = np.minimum(np.array(cat.DISPATCH_MEAN_HOURS)[level - 1], deadline_h / 6)
    dispatch_h = np.where(on_spot, rng.uniform(0.05, 0.3, n), rng.exponential(1.0, n) * dispatch_mean)
    accept_h = np.where(on_spot, 0.0, rng.exponential(1.0, n) * np.where(dept3, accept_mean, 2.0))
    med = np.where(
        dept3,
        cat.DEPARTMENT_RESOLVE_SHARE * deadline_h * resolve_factor,
        np.array(cat.RESOLVE_MEDIAN_HOURS)[np.minimum(level, 2) - 1] * np.where(q < 0.9, 1.8, 1.0),
    )
    spread = np.exp(rng.normal(0, np.where(dept3, 0.5, 0.6), n))
    resolve_h = np.where(on_spot, rng.uniform(0.2, 1.6, n), med * spread)
    rate_h = rng.exponential(20.0, n)

    # Work happens in working hours: a step that would fall at night moves to the next
    # morning; each step starts from the previous one, so the lifecycle stays ordered.
    def after(t: np.ndarray, hours: np.ndarray) -> np.ndarray:
        return _working_hours(t + (hours * 3600).astype("timedelta64[s]"), rng)

    dispatched = after(reported, dispatch_h)
    accepted = after(dispatched, accept_h)
    resolved = after(accepted, resolve_h)
    rated = after(resolved, rate_h)
    deadline = reported + deadline_h * hour
    resolved_late = resolved > deadline
    is_rated = resident & (rng.random(n) < 0.78)  # most residents answer the call-back; patrols have none
    p_satisfied = q - sat_drop - np.where(resolved_late, 0.08, 0.0)
    satisfied = rng.random(n) < np.clip(p_satisfied, 0, 1)
    stars = np.where(satisfied, np.where(rng.random(n) < 0.8, 5, 4), rng.integers(1, 4, n))
    reopened = rng.random(n) < np.where(dept3, rework_p, np.where(q < 0.9, 0.07, 0.02))
    # Stuck: recent escalated cases still open at AS_OF, and a handful of old level-3 hard matters.
    now = np.datetime64(AS_OF, "s")
    recent = reported >= now - np.timedelta64(STUCK_DAYS, "D")
    u = rng.random(n)
    stuck = ((level >= 2) & recent & (u < STUCK_SHARE)) | (dept3 & (u < OLD_STUCK_SHARE))

    nat = np.datetime64("NaT")
    dispatched = np.where(dispatched <= now, dispatched, nat)
    accepted = np.where(accepted <= now, accepted, nat)
    resolved = np.where((resolved <= now) & ~stuck, resolved, nat)
    rated = np.where(~np.isnat(resolved) & is_rated & (rated <= now), rated, nat)
    status = np.select(
        [~np.isnat(rated), ~np.isnat(resolved), ~np.isnat(accepted), ~np.isnat(dispatched)],
        ["rated", "resolved", "accepted", "dispatched"],
        "reported",
    )
    level_known = ~np.isnat(dispatched)
    order = np.argsort(reported, kind="stable")
    frame = (
        pd.DataFrame(
            {
                "source": source,
                "category": category,
                "description": description,
                "lon": lon,
                "lat": lat,
                "grid_code": grid_code,
                "reported_at": reported,
                "dispatched_at": dispatched,
                "accepted_at": accepted,
                "resolved_at": resolved,
                "rated_at": rated,
                "deadline_at": deadline,
                "status": status,
                "handled_level": pd.array(np.where(level_known, level, 0), dtype="Int8"),
                "department": np.where(level_known, department, None),
                "satisfaction": pd.array(np.where(~np.isnat(rated), stars, 0), dtype="Int8"),
                "reopened": reopened & ~np.isnat(resolved),
                "reporter_name": reporter_name,
                "reporter_phone": reporter_phone,
                "address": address,
                "placement": np.where(in_grid, "point", None),
            }
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    frame.loc[frame["handled_level"] == 0, "handled_level"] = pd.NA
    frame.loc[frame["satisfaction"] == 0, "satisfaction"] = pd.NA
    year = frame["reported_at"].dt.year.astype(str)
    seq = frame.groupby(year).cumcount() + 1
    frame.insert(0, "case_id", "GD" + year + seq.map("{:07d}".format))
    return frame


def build_resources(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The four-level service matrix plus council venues and volunteer teams."""
    rows: list[dict[str, object]] = []

    def add(name: str, kind: str, point: tuple[float, float]) -> None:
        rows.append({"name": name, "kind": kind, "level": cat.RESOURCE_KINDS[kind], "lon": point[0], "lat": point[1]})

    def inside(geom: shapely.Geometry, n: int) -> np.ndarray:
        return np.round(_points_in(geom, n, rng), 6)

    for community, members in grids.groupby("community", sort=False):
        centre_grid = members.iloc[len(members) // 2]
        add(f"{community}党群服务中心", "service_centre", tuple(inside(centre_grid.geometry, 1)[0]))
        stations = members.sample(n=int(rng.integers(1, 3)), random_state=int(rng.integers(1 << 31)))
        for k, (_, g) in enumerate(stations.iterrows(), start=1):
            add(f"{community}红管家服务站（{k}号站）", "red_steward_station", tuple(inside(g.geometry, 1)[0]))
        for k in range(int(rng.integers(6, 9))):
            add(f"{community}志愿服务队{k + 1}", "volunteer_team", tuple(inside(centre_grid.geometry, 1)[0]))
    for _, g in grids.iterrows():
        compound = g.grid_name.removesuffix("网格")
        posts = 0 if rng.random() < 0.08 else (2 if rng.random() < 0.1 else 1)
        for k, p in enumerate(inside(g.geometry, posts), start=1):
            add(f"{compound}微格民情驿站" + (f"{k}" if posts > 1 else ""), "micro_grid_post", tuple(p))
        for p in inside(g.geometry, int(rng.integers(3, 7))):
            add(f"{compound}{int(rng.integers(1, 31))}号楼邻里角", "stairwell_corner", tuple(p))
        if rng.random() < 0.7:
            add(f"{compound}议事角", "council_venue", tuple(inside(g.geometry, 1)[0]))
    frame = pd.DataFrame(rows)
    frame["level"] = pd.array(frame["level"], dtype="Int8")
    frame.insert(0, "resource_id", [f"ZY{i:05d}" for i in range(1, len(frame) + 1)])
    return frame


def generate(
    path: Path | str, n_cases: int, seed: int, *, replace: bool = False, planted: bool = False
) -> dict[str, int]:
    """Build the demo street and write it to ``path`` (a file, or a PostgreSQL URL); returns row counts.

    ``replace``: a PostgreSQL database that holds a street already is written over (a file always is).
    ``planted``: add the events of ``demo_events`` (a few hundred cases) after the ``n_cases`` ordinary ones.
    """
    rng = np.random.default_rng(seed)
    grids = build_grids(rng)
    index = join.GridIndex(grids)
    cases = build_cases(grids, n_cases, rng, index)  # joins its points to the grids itself
    events = cases.iloc[:0]
    if planted:  # 研判预警's planted events (gridpulse/demo_events.py), from their own random stream
        events = demo_events.plant(cases, grids, AS_OF, np.random.default_rng(seed + 1))
        cases = pd.concat([cases, events], ignore_index=True).sort_values("reported_at", kind="stable")
        cases = cases.reset_index(drop=True)
    resources = build_resources(grids, rng)
    resources["grid_code"] = index.assign(resources["lon"].to_numpy(), resources["lat"].to_numpy())
    grid_rows = pd.DataFrame(grids.drop(columns="geometry"))
    grid_rows["geometry"] = shapely.to_wkb(grids.geometry.values)
    meta = {
        "street_name": cat.STREET_NAME,
        "as_of": AS_OF.isoformat(),
        "source": "demo",
        "seed": str(seed),
    }
    users = auth.demo_users(
        sorted(grid_rows["grid_code"]), sorted(grid_rows["community"].unique()), cat.CATEGORIES[2].department
    )
    extra = {"replace": True} if replace and store_pkg.is_shared(path) else {}
    store_pkg.write_street(path, grid_rows, cases, resources, meta, users, **extra)
    return {"grids": len(grids), "cases": len(cases), "planted": len(events), "resources": len(resources)}
