"""``roads.geojson`` from an OpenStreetMap extract (``hakobu region import-osm``, issue 20, item 2).

The road network of every Japanese town is already in OpenStreetMap; a municipality downloads an
extract (``.osm.pbf``, e.g. a prefecture from a mirror, cut with ``osmium extract``) and this
turns the part inside an area into the region format's roads: one LineString per segment between
junctions (ways are split at every node shared with another kept way, which is what
``routing.travel.roads`` builds its graph from), with

- ``kind`` from the ``highway`` tag (:data:`HIGHWAY_KINDS`; other values such as ``construction``,
  ``proposed``, ``platform``, ``steps`` or ``elevator`` are left out);
- ``maxspeed_kmh`` from ``maxspeed`` (``50``, ``30 mph``; ``JP:*`` zone codes and ``walk`` are
  left to the router's default per kind);
- ``oneway`` from ``oneway`` (``yes``/``1``/``true``; ``-1`` reverses the segment) and implied by
  ``junction=roundabout`` and motorways;
- ``car`` false for footpaths and cycleways and where ``motor_vehicle``/``motorcar``/``access``
  say ``no`` (``private`` stays drivable: residents live on private lanes).

The file is read with pyosmium (``osmium``), which streams it with node locations; nothing is
downloaded. Ids are ``OSM<way id>-<part>``, stable for an unchanged way. Data from OpenStreetMap
is © OpenStreetMap contributors, ODbL 1.0: a region built from it must say so (the command
writes the attribution into the file's ``attribution`` member).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import osmium
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"

#: OSM ``highway`` value -> region road kind (docs/region-format.md, roads.geojson).
HIGHWAY_KINDS = {
    **dict.fromkeys(
        ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"), "primary"
    ),
    **dict.fromkeys(("secondary", "secondary_link", "tertiary", "tertiary_link"), "secondary"),
    **dict.fromkeys(("unclassified", "residential", "living_street", "service", "road"), "local"),
    "track": "track",
    **dict.fromkeys(("path", "footway", "cycleway", "pedestrian", "bridleway"), "path"),
}
_NO_CARS = frozenset({"path", "footway", "cycleway", "pedestrian", "bridleway"})
_ALWAYS_ONEWAY = frozenset({"motorway", "motorway_link"})
_MAXSPEED = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*")


class OsmError(ValueError):
    """The extract cannot be read, or nothing of it lies in the area."""


@dataclass(frozen=True)
class _Way:
    id: int
    tags: dict[str, str]
    nodes: tuple[int, ...]
    coords: tuple[tuple[float, float], ...]


def roads_from_osm(path: str | Path, area: BaseGeometry) -> dict[str, Any]:
    """The roads of the extract at ``path`` inside ``area`` (a WGS84 polygon) as a FeatureCollection.

    A segment is kept when it lies inside ``area`` entirely (cutting one would leave a dead end
    that is not a real one). Raises :class:`OsmError` naming the file when it cannot be read or
    holds no road in the area.
    """
    ways = _read_ways(Path(path))
    shared = Counter(n for w in ways for n in set(w.nodes))
    prepared = prep(area)
    features = []
    for way in ways:
        for k, coords in enumerate(_split(way, shared)):
            line = LineString(coords)
            if not prepared.contains(line):
                continue
            features.append(_feature(way, k, coords))
    if not features:
        raise OsmError(
            f"{path}: no road of the kinds {', '.join(sorted(set(HIGHWAY_KINDS)))} lies "
            f"inside the area {area.bounds}"
        )
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


def _read_ways(path: Path) -> list[_Way]:
    if not path.is_file():
        raise OsmError(f"{path}: no such file")
    ways = []
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for way in processor.with_filter(osmium.filter.KeyFilter("highway")):
            tags = {t.k: t.v for t in way.tags}
            if tags.get("highway") not in HIGHWAY_KINDS or tags.get("area") == "yes":
                continue
            nodes = tuple(n.ref for n in way.nodes)
            coords = tuple((n.lon, n.lat) for n in way.nodes if n.location.valid())
            if len(coords) != len(nodes) or len(set(coords)) < 2:
                continue  # a node outside the extract: the way is cut off at the extract's edge
            ways.append(_Way(way.id, tags, nodes, coords))
    except RuntimeError as error:  # libosmium's errors (not a PBF, truncated, …)
        raise OsmError(f"{path}: not a readable OSM file ({error})") from error
    return ways


def _split(way: _Way, shared: Counter[int]) -> Iterable[tuple[tuple[float, float], ...]]:
    """The way cut at every inner node that another way (or the way itself again) also uses."""
    start = 0
    for i in range(1, len(way.nodes)):
        if i == len(way.nodes) - 1 or shared[way.nodes[i]] > 1 or way.nodes[i] in way.nodes[start:i]:
            coords = way.coords[start : i + 1]
            if len(set(coords)) >= 2:
                yield coords
            start = i


def _feature(way: _Way, part: int, coords: tuple[tuple[float, float], ...]) -> dict[str, Any]:
    tags = way.tags
    highway = tags["highway"]
    oneway_tag = tags.get("oneway", "")
    reverse = oneway_tag == "-1"
    oneway = (
        reverse
        or oneway_tag in ("yes", "1", "true")
        or tags.get("junction") == "roundabout"
        or (highway in _ALWAYS_ONEWAY and oneway_tag != "no")
    )
    if reverse:
        coords = coords[::-1]
    props: dict[str, Any] = {"id": f"OSM{way.id}-{part}", "kind": HIGHWAY_KINDS[highway]}
    speed = maxspeed_kmh(tags.get("maxspeed", ""))
    if speed is not None:
        props["maxspeed_kmh"] = speed
    if oneway:
        props["oneway"] = True
    if not _car_allowed(highway, tags):
        props["car"] = False
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": [[round(x, 7), round(y, 7)] for x, y in coords]},
    }


def maxspeed_kmh(value: str) -> float | None:
    """``maxspeed`` in km/h: ``"50"`` → 50, ``"30 mph"`` → 48.3; codes (``JP:urban``) → None."""
    match = _MAXSPEED.fullmatch(value)
    if not match or float(match[1]) <= 0:
        return None
    speed = float(match[1]) * (1.609344 if match[2] == "mph" else 1.0)
    return round(speed, 1) if math.isfinite(speed) else None


def _car_allowed(highway: str, tags: dict[str, str]) -> bool:
    if highway in _NO_CARS:
        return tags.get("motor_vehicle", tags.get("motorcar")) in ("yes", "designated")
    for key in ("motorcar", "motor_vehicle", "vehicle", "access"):
        if key in tags:
            return tags[key] != "no"
    return True


def parse_area(text: str) -> BaseGeometry:
    """``--area``: ``WEST,SOUTH,EAST,NORTH`` in degrees, or a GeoJSON file with the polygon(s).

    Raises :class:`OsmError` with what was expected.
    """
    path = Path(text)
    if path.suffix.lower() in (".geojson", ".json") and path.is_file():
        import geopandas

        frame = geopandas.read_file(path).to_crs("EPSG:4326")
        polygons = [g for g in frame.geometry if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
        if not polygons:
            raise OsmError(f"{path}: no Polygon or MultiPolygon to use as the area")
        return shapely.union_all(polygons)
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise OsmError(
            f"--area {text!r}: expected WEST,SOUTH,EAST,NORTH in degrees (e.g. "
            "134.80,35.50,134.90,35.60) or a .geojson file"
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise OsmError(f"--area {text!r}: west must be below east and south below north, in degrees")
    return shapely.box(west, south, east, north)
