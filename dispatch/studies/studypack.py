"""The study-session pack: anonymous, aggregated data for public meetings (APPI).

Japan's APPI lets pseudonymised data go to no third party, so what leaves the operation must be
anonymous and aggregated. The rules (docs/planners.md, "Privacy"):

- no names, phone numbers, resident ids, order numbers or homes: residents and delivery stops are
  counted per **grid cell** (default 250 m, in the region's metric CRS) and only cell polygons
  leave, never a point of a home or a stop;
- a cell with fewer than **k households** (default 5) is suppressed: it is not in any layer, and
  route lines are cut out of it as well;
- **route lines** are cut out of every inhabited cell and its eight neighbours (suppressed cells
  included), so a line stays at least one cell width from any home; cut points lie on cell edges;
- **drone sorties are never drawn**: a sortie flies straight lines to its drop point, so any piece
  left after the cut, extended, passes within metres of the home (a red-team finding, issue 17);
  their kilometres stay in ``kpis.csv``;
- **coordinates** are rounded to 0.0001° (about 10 m);
- **fresh random ids** for cells and routes in every export (nothing links two exports or an export
  to the database);
- **timestamps coarsened** to the local hour (routes) or the day (KPIs); the pack's own date only.

Outputs: ``study-pack.html`` (self-contained), ``study-pack.gpkg`` (layers ``cells``, ``routes``,
``hubs``), and CSV: ``cells.csv``, ``routes.csv``, ``hubs.csv``, ``kpis.csv``, ``orders_by_hour.csv``.

This module is the pack's domain part: it decides what may leave (the rules above) and writes the
data files. The HTML page is presentation and is rendered by :mod:`web.studies.pack_page` from the
:class:`Pack` built here (its words come from the console's catalogue and its map script from the
console's vendored Leaflet, both files of ``web``); :func:`write_built` takes that page as a string.
Everything anonymous is decided here, so the page can only show what the data files hold.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box
from sqlalchemy import select

import routing
from dispatch.db import Database
from dispatch.models import Plan
from dispatch.studies.facts import Facts, load_facts
from dispatch.studies.kpis import Kpis, kpi_table
from routing.geo import geometry_to_metric, geometry_to_wgs84, to_metric

Cell = tuple[int, int]
#: Exported WGS84 coordinates are rounded to this step (degrees).
COORD_STEP = 1e-4
#: The grids suggested when cells are suppressed: coarser cells hold more households (k stays).
SUGGESTED_GRIDS_M = (500, 1000, 2000, 5000)
#: The smallest grid and k that keep the rules' protection (docs/planners.md); smaller ones are warned of.
SAFE_GRID_M = 250
SAFE_K = 5


@dataclass(frozen=True)
class PackOptions:
    start: dt.date
    end: dt.date
    grid_m: int = 250
    k: int = 5
    hubs: list[str] | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the range ends ({self.end}) before it starts ({self.start})")
        if not 50 <= self.grid_m <= 5000:
            raise ValueError(f"grid must be 50 to 5000 metres, got {self.grid_m}")
        if self.k < 2:
            raise ValueError(f"k must be at least 2 households, got {self.k}")

    def weaknesses(self) -> list[str]:
        """What these options give away compared with the defaults' protection (the pack is still
        built: a planner may need it, e.g. for an internal session), for the CLI to warn about."""
        found = []
        if self.grid_m < SAFE_GRID_M:
            found.append(f"--grid {self.grid_m}: route lines may pass {self.grid_m} m from a home and a cell "
                         f"locates its households within {self.grid_m} m (at least {SAFE_GRID_M} m protects)")
        if self.k < SAFE_K:
            found.append(f"--k {self.k}: a cell of {self.k} households lets each of them single out the "
                         f"others' deliveries (at least {SAFE_K} protects)")
        return found


@dataclass(frozen=True)
class Suppression:
    """How many inhabited cells the k rule kept out of the pack, and what a coarser grid would keep.

    Sparse valleys often have no cell with k households at 250 m: the pack is then anonymous but has
    no cells at all, and it must say so (not look like a region where nobody lives). Only counts are
    reported (nothing about which cells); the remedy suggested is a coarser grid, never a smaller k.
    """

    grid_m: int
    k: int
    inhabited_cells: int
    kept_cells: int
    kept_households: int
    suppressed_households: int
    #: (coarser grid in metres, cells it would keep, their households), each that keeps more cells
    coarser: tuple[tuple[int, int, int], ...] = ()
    routes_total: int = 0  # routes and sorties of the counted plans
    routes_shown: int = 0  # those with a part left after the cut around homes

    @property
    def suppressed_cells(self) -> int:
        return self.inhabited_cells - self.kept_cells

@dataclass
class Pack:
    """Everything that goes out, already anonymous (the writers only format it)."""

    cells: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    kpis_csv: str
    orders_by_hour: list[dict[str, object]]
    suppression: Suppression
    options: PackOptions
    region_name: str
    #: the region's locale (``ja_JP``): the page's default language
    locale: str
    #: KPIs over the whole range, per hub and for all hubs (no per-day rows: those are in kpis.csv)
    kpi_ranges: list[Kpis]


def _cells_of(facts: Facts, lonlat: list[tuple[float, float]], size: int) -> list[Cell]:
    if not lonlat:
        return []
    xy = to_metric(facts.crs, np.array(lonlat))
    return [(math.floor(x / size), math.floor(y / size)) for x, y in xy]


def build_pack(db: Database, options: PackOptions) -> Pack:
    facts = load_facts(db, options.start, options.end, hub_codes=options.hubs)
    size = options.grid_m
    residents = list(facts.residents.values())
    home_cell = dict(zip([r.id for r in residents],
                         _cells_of(facts, [(r.lon, r.lat) for r in residents], size), strict=True))
    households = Counter(home_cell.values())
    published = {c for c, n in households.items() if n >= options.k}
    suppression = _suppression(facts, options, residents, households, published)
    ordering: dict[Cell, set[str]] = defaultdict(set)
    orders: Counter[Cell] = Counter()
    delivered: Counter[Cell] = Counter()
    for o in facts.orders:
        cell = home_cell.get(o.resident_id)
        if cell is None:
            continue
        ordering[cell].add(o.resident_id)
        orders[cell] += 1
        delivered[cell] += o.delivered_at is not None
    cell_rows, geoms = [], []
    for cell in sorted(published, key=lambda _: secrets.randbits(32)):  # no order that hints at place
        cell_rows.append({"cell": secrets.token_hex(6), "households": households[cell],
                          "households_ordering": len(ordering[cell]), "orders": orders[cell],
                          "delivered": delivered[cell]})
        geoms.append(_coarse(geometry_to_wgs84(facts.crs, _box(cell, size))))
    cells = gpd.GeoDataFrame(cell_rows, geometry=geoms, crs="EPSG:4326") if cell_rows else \
        gpd.GeoDataFrame({"cell": [], "households": [], "households_ordering": [], "orders": [],
                          "delivered": []}, geometry=[], crs="EPSG:4326")
    routes = _routes(db, facts, set(households), size)
    hubs = gpd.GeoDataFrame(
        [{"hub": h.code, "name": h.name, "kind": h.kind} for h in facts.hubs.values()],
        geometry=[shapely.Point(h.lon, h.lat) for h in facts.hubs.values()], crs="EPSG:4326")
    table = kpi_table(facts)
    by_hour = _orders_by_hour(facts)
    suppression = replace(suppression, routes_total=sum(1 for r in facts.routes if r.deliveries),
                          routes_shown=len(routes))
    return Pack(cells, routes, hubs, table.to_csv(), by_hour, suppression, options, facts.region_name,
                facts.locale, [r for r in table.rows if r.day == "range"])


def _suppression(facts: Facts, options: PackOptions, residents: list[Any], households: Counter[Cell],
                 published: set[Cell]) -> Suppression:
    """Counts of kept and suppressed cells; when cells are suppressed, what each coarser grid of
    :data:`SUGGESTED_GRIDS_M` would keep (those that keep more cells than this one)."""
    kept_households = sum(households[c] for c in published)
    coarser = []
    if len(published) < len(households):
        homes = [(r.lon, r.lat) for r in residents]
        for grid in (g for g in SUGGESTED_GRIDS_M if g > options.grid_m):
            counts = Counter(_cells_of(facts, homes, grid))
            kept = [n for n in counts.values() if n >= options.k]
            if len(kept) > len(published):
                coarser.append((grid, len(kept), sum(kept)))
    return Suppression(options.grid_m, options.k, len(households), len(published), kept_households,
                       sum(households.values()) - kept_households, tuple(coarser))


def _routes(db: Database, facts: Facts, inhabited: set[Cell], size: int) -> gpd.GeoDataFrame:
    """Route legs of the counted plans, cut out of every inhabited cell, one row per route."""
    with db.read() as s:
        plans = [(p.batch_id, p.problem, p.solution) for p in
                 s.scalars(select(Plan).where(Plan.id.in_(facts.plan_ids)))]
    near = {(x + dx, y + dy) for x, y in inhabited for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    mask = shapely.union_all([_box(c, size) for c in near]) if near else shapely.GeometryCollection()
    rows, geoms = [], []
    for batch_id, problem_json, solution_json in plans:
        problem = routing.problem_from_json(problem_json)
        solution = routing.solution_from_json(solution_json)
        fc = routing.plan_geojson(problem, solution, batch_id)
        legs: dict[tuple[str, Any], list[shapely.LineString]] = defaultdict(list)
        depart: dict[tuple[str, Any], str] = {}
        for f in fc["features"]:
            if f["geometry"]["type"] != "LineString":
                continue
            p = f["properties"]
            key = (p["vehicle_id"], p.get("sortie"))
            legs[key].append(shapely.LineString(f["geometry"]["coordinates"]))
            depart.setdefault(key, p["depart"])
        for key, lines in legs.items():
            mode = next(r.mode for r in solution.routes if (r.vehicle_id, r.sortie) == key)
            if mode == "drone":  # straight: any piece left after the cut, extended, hits its drop point
                continue
            metric = geometry_to_metric(facts.crs, shapely.MultiLineString(lines))
            kept = metric.difference(mask) if not mask.is_empty else metric
            if kept.is_empty:
                continue
            start = dt.datetime.fromisoformat(depart[key]).astimezone(facts.tz)
            rows.append({"route": secrets.token_hex(6), "mode": mode, "day": start.date().isoformat(),
                         "depart_hour": f"{start.hour:02d}:00", "km_total": round(metric.length / 1000, 1),
                         "km_shown": round(kept.length / 1000, 1)})
            geoms.append(_coarse(geometry_to_wgs84(facts.crs, _lines(kept))))
    order = sorted(range(len(rows)), key=lambda _: secrets.randbits(32))
    if not rows:
        return gpd.GeoDataFrame({"route": [], "mode": [], "day": [], "depart_hour": [], "km_total": [],
                                 "km_shown": []}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame([rows[i] for i in order], geometry=[geoms[i] for i in order], crs="EPSG:4326")


def _box(cell: Cell, size: int) -> shapely.Polygon:
    return box(cell[0] * size, cell[1] * size, (cell[0] + 1) * size, (cell[1] + 1) * size)


def _coarse(geom: Any) -> Any:
    """WGS84 coordinates on a 0.0001° grid (about 10 m): enough for a public map, and no exported
    number carries the precision of a surveyed home."""
    return shapely.set_precision(geom, COORD_STEP)


def _lines(geom: Any) -> shapely.MultiLineString:
    parts = [g for g in getattr(geom, "geoms", [geom])
             if isinstance(g, shapely.LineString | shapely.MultiLineString) and not g.is_empty]
    merged = []
    for part in parts:
        merged += list(part.geoms) if isinstance(part, shapely.MultiLineString) else [part]
    return shapely.MultiLineString(merged)


def _orders_by_hour(facts: Facts) -> list[dict[str, object]]:
    counts: Counter[tuple[str, str, int]] = Counter()
    done: Counter[tuple[str, str, int]] = Counter()
    for o in facts.orders:
        key = (facts.hubs[o.hub_id].code, o.day.isoformat(), o.created_at.astimezone(facts.tz).hour)
        counts[key] += 1
        done[key] += o.delivered_at is not None
    return [{"hub": h, "day": d, "hour": f"{hour:02d}:00", "orders": n, "delivered": done[(h, d, hour)]}
            for (h, d, hour), n in sorted(counts.items())]


def write_built(pack: Pack, out: Path, html: str | None = None) -> list[Path]:
    """Write a built pack's files into ``out`` (created), with ``html`` (the page rendered by
    :func:`web.studies.pack_page.pack_html`) as ``study-pack.html``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if html is not None:
        page = out / "study-pack.html"
        page.write_text(html, encoding="utf-8")
        written.append(page)
    gpkg = out / "study-pack.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    for name, frame in (("cells", pack.cells), ("routes", pack.routes), ("hubs", pack.hubs)):
        frame.to_file(gpkg, layer=name, driver="GPKG")
    written.append(gpkg)
    for name, frame in (("cells", pack.cells), ("routes", pack.routes), ("hubs", pack.hubs)):
        path = out / f"{name}.csv"
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["wkt"] = frame.geometry.to_wkt(rounding_precision=4).to_numpy()
        table.to_csv(path, index=False)
        written.append(path)
    (out / "kpis.csv").write_text(pack.kpis_csv, encoding="utf-8")
    written.append(out / "kpis.csv")
    path = out / "orders_by_hour.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["hub", "day", "hour", "orders", "delivered"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(pack.orders_by_hour)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    written.append(path)
    return written
