"""The study pack's page: the anonymous :class:`dispatch.studies.studypack.Pack` as one HTML file.

Presentation of a pack the domain has already made anonymous (:mod:`dispatch.studies.studypack`
decides which cells, routes and hubs may leave; this module only draws them). It lives in ``web``
because what it embeds are the console's own files: its words in the console's catalogue (the KPI
labels are the ones the planner pages show, one translation for both) and the vendored Leaflet.
The data files are written by :func:`dispatch.studies.studypack.write_built`, given this page.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import mapping

from dispatch.db import Database
from dispatch.studies.studypack import Pack, PackOptions, Suppression, build_pack, write_built
from web.studies.html import MODE_COLOURS, MapLayer, MapSpec, document, table_html
from web.studies.i18n import LANGUAGES, Translate, english, language_of, translator
from web.studies.reports import factors_html, kpi_charts, kpi_rows_html


def write_pack(db: Database, options: PackOptions, out: Path, lang: str | None = None) -> list[Path]:
    """Build the pack, render its page in ``lang`` and write every file into ``out`` (created);
    return the paths written. The language is checked before anything is read or written."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    pack = build_pack(db, options)
    return write_built(pack, out, pack_html(pack, lang))


def suppression_sentences(s: Suppression, tr: Translate = english) -> dict[str, str]:
    """What the k rule did, in plain sentences for the command's output and the pack's page, by
    what they say: ``cells`` always; ``empty`` when no cell is kept; ``coarser`` and ``routes``
    when they apply."""
    out = {"cells": tr(
        "cells: %(kept)s of %(inhabited)s inhabited %(grid)s m cells kept (%(kept_households)s "
        "households); %(suppressed)s suppressed because they have fewer than k = %(k)s households "
        "(%(hidden)s households not shown on the map; they still count in the KPIs)",
        kept=s.kept_cells, inhabited=s.inhabited_cells, grid=s.grid_m,
        kept_households=s.kept_households, suppressed=s.suppressed_cells, k=s.k,
        hidden=s.suppressed_households)}
    if s.kept_cells == 0:
        out["empty"] = tr("no cell has enough households at this grid: the map shows routes and hubs "
                          "only")
    if s.coarser:
        options = "; ".join(tr("--grid %(grid)s would keep %(cells)s cell(s) with %(homes)s households",
                               grid=grid, cells=cells, homes=homes)
                            for grid, cells, homes in s.coarser)
        out["coarser"] = tr("coarser grids keep more (k unchanged): %(options)s", options=options)
    if s.routes_total:
        out["routes"] = tr(
            "route lines: %(shown)s of %(total)s routes have a part on the map (lines are cut out of "
            "every inhabited %(grid)s m cell and its neighbours, so a coarser grid shows less of them)",
            shown=s.routes_shown, total=s.routes_total, grid=s.grid_m)
    return out


def suppression_lines(s: Suppression, tr: Translate = english) -> list[str]:
    """The sentences as lines (the command prints them, in English)."""
    return list(suppression_sentences(s, tr).values())


def _geojson(frame: gpd.GeoDataFrame, style_of: Any, label_of: Any) -> dict[str, Any]:
    features = []
    for row in frame.itertuples(index=False):
        data = row._asdict()
        features.append({"type": "Feature", "geometry": _rounded(mapping(data.pop("geometry"))),
                         "properties": {"_style": style_of(data), "_label": label_of(data)}})
    return {"type": "FeatureCollection", "features": features}


def _rounded(geometry: dict[str, Any]) -> dict[str, Any]:
    """Coordinates to 4 decimals (:data:`dispatch.studies.studypack.COORD_STEP`)."""
    def walk(c: Any) -> Any:
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], float | int):
            return [round(float(v), 4) for v in c]
        return [walk(x) for x in c]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def pack_html(pack: Pack, lang: str | None = None) -> str:
    """The pack's self-contained page in ``lang`` (``ja`` or ``en``; None: the region's language);
    every word goes through ``tr`` (the console's catalogue, :mod:`web.studies.i18n`)."""
    options = pack.options
    lang = lang or language_of(pack.locale)
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
    said = suppression_sentences(pack.suppression, tr)
    notice = "" if pack.suppression.kept_cells else (
        f'<p class="suppression"><strong>{escape(said["empty"])}</strong>: '
        + escape(tr("%(n)s inhabited cells have fewer than %(k)s households (see Privacy below).",
                    n=pack.suppression.suppressed_cells, k=options.k))
        + (f" {escape(said['coarser'])}." if "coarser" in said else "")
        + "</p>")
    maps = [MapSpec("pack-map", tr("Orders per cell, routes and hubs"),
                    [MapLayer(tr("cells"), cells), MapLayer(tr("routes"), routes),
                     MapLayer(tr("hubs"), hubs)])]
    ranges = pack.kpi_ranges
    by_hour = table_html([tr("hub"), tr("day"), tr("hour"), tr("orders"), tr("delivered")],
                         [list(r.values()) for r in pack.orders_by_hour])
    period = tr("%(region)s · %(start)s – %(end)s · generated %(today)s", region=pack.region_name,
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
    return document(tr("Study pack: %(region)s", region=pack.region_name), body, maps, lang=lang)


