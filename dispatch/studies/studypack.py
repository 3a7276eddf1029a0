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
- **coordinates** are rounded to 0.0001° (about 10 m);
- **fresh random ids** for cells and routes in every export (nothing links two exports or an export
  to the database);
- **timestamps coarsened** to the local hour (routes) or the day (KPIs); the pack's own date only.

Outputs: ``study-pack.html`` (self-contained), ``study-pack.gpkg`` (layers ``cells``, ``routes``,
``hubs``), and CSV: ``cells.csv``, ``routes.csv``, ``hubs.csv``, ``kpis.csv``, ``orders_by_hour.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import select

import routing
from dispatch.db import Database
from dispatch.models import Plan
from dispatch.studies.facts import Facts, load_facts
from dispatch.studies.html import MapLayer, MapSpec, document, table_html
from dispatch.studies.i18n import LANGUAGES, Translate, english, language_of, translator
from dispatch.studies.kpis import kpi_table
from dispatch.studies.reports import factors_html, kpi_charts, kpi_rows_html
from routing.geo import geometry_to_metric, geometry_to_wgs84, to_metric

Cell = tuple[int, int]
#: Exported WGS84 coordinates are rounded to this step (degrees).
COORD_STEP = 1e-4
#: The grids suggested when cells are suppressed: coarser cells hold more households (k stays).
SUGGESTED_GRIDS_M = (500, 1000, 2000, 5000)


@dataclass(frozen=True)
class PackOptions:
    start: dt.date
    end: dt.date
    grid_m: int = 250
    k: int = 5
    hubs: list[str] | None = None
    #: the HTML's language, ``ja`` or ``en``; None: the region's locale (``ja`` for Tajima). The CSV
    #: and GeoPackage keep English column names (tools read them).
    lang: str | None = None

    def __post_init__(self) -> None:
        if self.lang is not None and self.lang not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {self.lang!r}")
        if self.end < self.start:
            raise ValueError(f"the range ends ({self.end}) before it starts ({self.start})")
        if not 50 <= self.grid_m <= 5000:
            raise ValueError(f"grid must be 50 to 5000 metres, got {self.grid_m}")
        if self.k < 2:
            raise ValueError(f"k must be at least 2 households, got {self.k}")


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

    def sentences(self, tr: Translate = english) -> dict[str, str]:
        """Plain sentences for the command's output and the pack's HTML, by what they say: ``cells``
        always; ``empty`` when no cell is kept; ``coarser`` and ``routes`` when they apply."""
        out = {"cells": tr(
            "cells: %(kept)s of %(inhabited)s inhabited %(grid)s m cells kept (%(kept_households)s "
            "households); %(suppressed)s suppressed because they have fewer than k = %(k)s households "
            "(%(hidden)s households not shown on the map; they still count in the KPIs)",
            kept=self.kept_cells, inhabited=self.inhabited_cells, grid=self.grid_m,
            kept_households=self.kept_households, suppressed=self.suppressed_cells, k=self.k,
            hidden=self.suppressed_households)}
        if self.kept_cells == 0:
            out["empty"] = tr("no cell has enough households at this grid: the map shows routes and hubs "
                              "only")
        if self.coarser:
            options = "; ".join(tr("--grid %(grid)s would keep %(cells)s cell(s) with %(homes)s households",
                                   grid=grid, cells=cells, homes=homes)
                                for grid, cells, homes in self.coarser)
            out["coarser"] = tr("coarser grids keep more (k unchanged): %(options)s", options=options)
        if self.routes_total:
            out["routes"] = tr(
                "route lines: %(shown)s of %(total)s routes have a part on the map (lines are cut out of "
                "every inhabited %(grid)s m cell and its neighbours, so a coarser grid shows less of them)",
                shown=self.routes_shown, total=self.routes_total, grid=self.grid_m)
        return out

    def lines(self, tr: Translate = english) -> list[str]:
        return list(self.sentences(tr).values())


@dataclass
class Pack:
    """Everything that goes out, already anonymous (the writers only format it)."""

    cells: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    kpis_csv: str
    orders_by_hour: list[dict[str, object]]
    html: str
    suppression: Suppression


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
    pack = Pack(cells, routes, hubs, table.to_csv(), by_hour, "", suppression)
    pack.html = _html(facts, options, pack, table.rows)
    return pack


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
            metric = geometry_to_metric(facts.crs, shapely.MultiLineString(lines))
            kept = metric.difference(mask) if not mask.is_empty else metric
            if kept.is_empty:
                continue
            mode = next(r.mode for r in solution.routes if (r.vehicle_id, r.sortie) == key)
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


def _geojson(frame: gpd.GeoDataFrame, style_of: Any, label_of: Any) -> dict[str, Any]:
    features = []
    for row in frame.itertuples(index=False):
        data = row._asdict()
        features.append({"type": "Feature", "geometry": _rounded(mapping(data.pop("geometry"))),
                         "properties": {"_style": style_of(data), "_label": label_of(data)}})
    return {"type": "FeatureCollection", "features": features}


def _rounded(geometry: dict[str, Any]) -> dict[str, Any]:
    """Coordinates to 4 decimals (the export's :data:`COORD_STEP`)."""
    def walk(c: Any) -> Any:
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], float | int):
            return [round(float(v), 4) for v in c]
        return [walk(x) for x in c]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


MODE_COLOURS = {"walk": "#2ca02c", "bicycle": "#17becf", "car": "#1f77b4", "drone": "#d62728"}


def _html(facts: Facts, options: PackOptions, pack: Pack, rows: list[Any]) -> str:
    """The pack's page in ``options.lang`` (default: the region's language); every word goes through
    ``tr`` (the console's catalogue, :mod:`dispatch.studies.i18n`)."""
    lang = options.lang or language_of(facts.locale)
    tr = translator(lang)
    top = max([int(v) for v in pack.cells["orders"]] + [1]) if len(pack.cells) else 1
    cells = _geojson(pack.cells, lambda d: {"color": "#555", "weight": 1, "fillColor": "#fd7e14",
                                            "fillOpacity": 0.1 + 0.6 * int(d["orders"]) / top},
                     lambda d: tr("%(households)s households, %(orders)s orders, %(delivered)s delivered",
                                  households=d["households"], orders=d["orders"], delivered=d["delivered"]))
    routes = _geojson(pack.routes, lambda d: {"color": MODE_COLOURS.get(d["mode"], "#555"), "weight": 3,
                                              **({"dashArray": "6 5"} if d["mode"] == "drone" else {})},
                      lambda d: f"{tr(d['mode'])} {d['day']} {d['depart_hour']}")
    hubs = _geojson(pack.hubs, lambda d: {"color": "#000", "fillColor": "#0d6efd", "fillOpacity": 1,
                                          "radius": 7},
                    lambda d: f"{d['name']} ({tr(d['kind'])})")
    said = pack.suppression.sentences(tr)
    notice = "" if pack.suppression.kept_cells else (
        f'<p class="suppression"><strong>{escape(said["empty"])}</strong>: '
        + escape(tr("%(n)s inhabited cells have fewer than %(k)s households (see Privacy below).",
                    n=pack.suppression.suppressed_cells, k=options.k))
        + (f" {escape(said['coarser'])}." if "coarser" in said else "")
        + "</p>")
    maps = [MapSpec("pack-map", tr("Orders per cell, routes and hubs"),
                    [MapLayer(tr("cells"), cells), MapLayer(tr("routes"), routes),
                     MapLayer(tr("hubs"), hubs)])]
    ranges = [r for r in rows if r.day == "range"]
    by_hour = table_html([tr("hub"), tr("day"), tr("hour"), tr("orders"), tr("delivered")],
                         [list(r.values()) for r in pack.orders_by_hour])
    period = tr("%(region)s · %(start)s – %(end)s · generated %(today)s", region=facts.region_name,
                start=options.start.isoformat(), end=options.end.isoformat(),
                today=dt.date.today().isoformat())
    privacy = tr("Anonymous, aggregated data: homes and stops are counted per %(grid)s m cell; cells with "
                 "fewer than %(k)s households are left out; route lines are cut out of every inhabited cell "
                 "and its neighbours; ids are random for this export; times are rounded to the hour; "
                 "coordinates to about 10 m. No names, phone numbers or resident ids are included.",
                 grid=options.grid_m, k=options.k)
    body = (f"<p>{escape(period)}</p>{notice}"
            f"<h2>{escape(tr('KPIs'))}</h2>{kpi_rows_html(ranges, tr=tr)}{kpi_charts(ranges, tr)}"
            f"{factors_html(tr)}"
            f"<h2>{escape(tr('Orders by hour'))}</h2>{by_hour}"
            f"<h2>{escape(tr('Privacy'))}</h2>"
            f'<p class="note">{escape(privacy)}</p>'
            + "".join(f'<p class="suppression">{escape(line)}.</p>' for line in said.values()))
    return document(tr("Study pack: %(region)s", region=facts.region_name), body, maps, lang=lang)


def write_pack(db: Database, options: PackOptions, out: Path) -> list[Path]:
    """Build the pack and write its files into ``out`` (created); return the paths written."""
    return write_built(build_pack(db, options), out)


def write_built(pack: Pack, out: Path) -> list[Path]:
    """Write a built pack's files into ``out`` (created); return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    html = out / "study-pack.html"
    html.write_text(pack.html, encoding="utf-8")
    written.append(html)
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
