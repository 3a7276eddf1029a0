"""The region reader: the sample regions read cleanly, and every check names file, row and field.

Broken regions are built as copies of ``sample_regions/tiny`` in ``tmp_path`` with one thing
changed, so each test shows exactly what it breaks.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pyproj import Transformer
from shapely import STRtree
from shapely.geometry import LineString, Point
from sqlalchemy import select

from dispatch.cli import region_group
from dispatch.db import Database
from dispatch.models import Resident
from dispatch.region import (
    DEFAULT_BUFFER_M,
    RegionData,
    RegionError,
    RegionMeta,
    RegionProblem,
    ZoneWindow,
    read_region,
)
from dispatch.region.importer import load_region

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "sample_regions" / "tiny"


# ------------------------------------------------------------------------------------ helpers
@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A private copy of the tiny region to break."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


def edit_features(folder: Path, name: str, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    path = folder / name
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["features"])
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def set_prop(folder: Path, name: str, row: int, key: str, value: Any) -> None:
    """Set (or with value ``...``, delete) property ``key`` of feature ``row`` (1-based)."""

    def edit(features: list[dict[str, Any]]) -> None:
        props = features[row - 1]["properties"]
        if value is ...:
            del props[key]
        else:
            props[key] = value

    edit_features(folder, name, edit)


def set_geometry(folder: Path, name: str, row: int, geometry: Any) -> None:
    def edit(features: list[dict[str, Any]]) -> None:
        features[row - 1]["geometry"] = geometry

    edit_features(folder, name, edit)


def replace_text(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(RegionError) as caught:
        read_region(folder)
    return [str(p) for p in caught.value.problems]


# ---------------------------------------------------------------------------------- tiny region
def test_tiny_region_reads_with_the_stated_counts() -> None:
    data = read_region(TINY)
    assert data.meta.crs == "EPSG:6673" and data.meta.timezone == "Asia/Tokyo"
    assert (len(data.hubs), len(data.residents), len(data.roads), len(data.zones),
            len(data.volunteers), len(data.drones)) == (1, 5, 11, 1, 2, 1)
    hub = data.hubs[0]
    assert hub.drone_port and hub.kind == "hub"
    assert hub.cutoffs == (dt.time(10), dt.time(14))
    assert [r.code for r in data.residents if r.drop_lon is not None] == ["R4", "R5"]
    assert {v.mode for v in data.volunteers} == {"walk", "bicycle"}
    assert data.volunteers[0].days == ("mon", "tue", "wed", "thu", "fri")
    assert data.drones[0].payload_kg == 4.5 and data.drones[0].hub_code == "H1"
    zone = data.zones[0]
    assert (zone.type, zone.category, zone.buffer_m, zone.lower_m, zone.upper_m) == (
        "PROHIBITED", "COMMUNITY", 30.0, 0.0, 150.0)
    assert zone.applicability == ()
    assert zone.reason == "SENSITIVE"
    assert zone.feature["properties"]["identifier"] == "TINY-Z1"


def test_tiny_region_zone_blocks_the_straight_line_to_r5_only() -> None:
    """The README promises the drone must detour to R5 but not to R4."""
    data = read_region(TINY)
    hub, zone = data.hubs[0], data.zones[0].geometry
    by_code = {r.code: r for r in data.residents}
    to_r5 = LineString([(hub.lon, hub.lat), (by_code["R5"].drop_lon, by_code["R5"].drop_lat)])
    to_r4 = LineString([(hub.lon, hub.lat), (by_code["R4"].drop_lon, by_code["R4"].drop_lat)])
    assert to_r5.intersects(zone)
    assert not to_r4.intersects(zone)
    assert not zone.contains(Point(hub.lon, hub.lat))


def test_records_are_frozen() -> None:
    data = read_region(TINY)
    with pytest.raises(AttributeError):
        data.hubs[0].name = "x"  # type: ignore[misc]


def test_problem_prints_as_file_row_field_message() -> None:
    assert str(RegionProblem("hubs.geojson", 3, "kind", "bad")) == "hubs.geojson:3: kind: bad"


# ------------------------------------------------------------------------- one check at a time
CASES: list[tuple[str, Callable[[Path], None], str | list[str]]] = [
    ("missing required field",
     lambda f: set_prop(f, "residents.geojson", 2, "name", ...),
     "residents.geojson:2: name: required field is missing"),
    ("missing required CSV cell",
     lambda f: replace_text(f, "volunteers.csv", "V2,石井 美咲", "V2,"),
     "volunteers.csv:3: name: required field is missing"),
    ("wrong geometry type",
     lambda f: set_geometry(f, "hubs.geojson", 1, {"type": "LineString", "coordinates": [
         [134.86, 35.57], [134.861, 35.571]]}),
     "hubs.geojson:1: geometry: must be a Point, got 'LineString'"),
    ("invalid polygon",
     lambda f: set_geometry(f, "zones.geojson", 1, {"type": "Polygon", "coordinates": [[
         [134.86, 35.57], [134.87, 35.58], [134.87, 35.57], [134.86, 35.58], [134.86, 35.57]]]}),
     "zones.geojson:1: geometry: invalid Polygon: Self-intersection[134.865 35.575]"),
    ("malformed coordinates",
     lambda f: set_geometry(f, "hubs.geojson", 1, {"type": "Point", "coordinates": [134.86, None]}),
     "hubs.geojson:1: geometry: Point coordinates must be one position [lon, lat], got [134.86, null]"),
    ("missing geometry",
     lambda f: set_geometry(f, "roads.geojson", 3, None),
     "roads.geojson:3: geometry: required geometry is missing"),
    ("zero-length road",
     lambda f: set_geometry(f, "roads.geojson", 2, {"type": "LineString", "coordinates": [
         [134.86, 35.57], [134.86, 35.57]]}),
     "roads.geojson:2: geometry: invalid LineString: Too few points in geometry component[134.86 35.57]"),
    ("resident at an unknown hub",
     lambda f: set_prop(f, "residents.geojson", 4, "hub_id", "H9"),
     "residents.geojson:4: hub_id: hub 'H9' does not exist in hubs.geojson"),
    ("volunteer at an unknown hub",
     lambda f: replace_text(f, "volunteers.csv", "+817000000101,H1", "+817000000101,H7"),
     "volunteers.csv:2: hub_id: hub 'H7' does not exist in hubs.geojson"),
    ("drone at an unknown hub",
     lambda f: replace_text(f, "drones.csv", "D1,H1", "D1,H2"),
     "drones.csv:2: hub_id: hub 'H2' does not exist in hubs.geojson"),
    ("drone at a hub without a drone port",
     lambda f: set_prop(f, "hubs.geojson", 1, "drone_port", False),
     "drones.csv:2: hub_id: hub 'H1' has no drone port (drone_port is false)"),
    ("duplicate resident id",
     lambda f: set_prop(f, "residents.geojson", 5, "id", "R2"),
     "residents.geojson:5: id: duplicate id 'R2' (first used in row 2)"),
    ("duplicate volunteer id",
     lambda f: replace_text(f, "volunteers.csv", "V2,", "V1,"),
     "volunteers.csv:3: id: duplicate id 'V1' (first used in row 2)"),
    ("duplicate zone identifier",
     lambda f: edit_features(f, "zones.geojson", lambda fs: fs.append(json.loads(json.dumps(fs[0])))),
     "zones.geojson:2: identifier: duplicate id 'TINY-Z1' (first used in row 1)"),
    ("phone not E.164",
     lambda f: set_prop(f, "residents.geojson", 1, "phone", "070-0000-0001"),
     "residents.geojson:1: phone: '070-0000-0001' is not an E.164 number (+ then 8-15 digits, no spaces)"),
    ("volunteer phone not E.164",
     lambda f: replace_text(f, "volunteers.csv", "+817000000102", "+81 70 0000 0102"),
     "volunteers.csv:3: phone: '+81 70 0000 0102' is not an E.164 number (+ then 8-15 digits, no spaces)"),
    ("unknown zone type",
     lambda f: set_prop(f, "zones.geojson", 1, "type", "FORBIDDEN"),
     "zones.geojson:1: type: unknown value 'FORBIDDEN' (expected one of PROHIBITED, REQ_AUTHORIZATION, "
     "CONDITIONAL, NO_RESTRICTION, USPACE)"),
    ("coordinates outside the CRS area of use (lat/lon swapped)",
     lambda f: set_geometry(f, "residents.geojson", 3, {"type": "Point", "coordinates": [35.57, 134.86]}),
     "residents.geojson:3: geometry: coordinates (35.57, 134.86) lie outside the area of use of "
     "EPSG:6673 (lon 133.13..135.47, lat 34.13..35.71); GeoJSON positions are [longitude, latitude] "
     "in WGS84"),
    ("drop point outside the CRS area of use",
     lambda f: set_prop(f, "residents.geojson", 4, "drop_lon", 139.7),
     "residents.geojson:4: drop_lon: coordinates (139.7, 35.5775) lie outside the area of use of "
     "EPSG:6673 (lon 133.13..135.47, lat 34.13..35.71); GeoJSON positions are [longitude, latitude] "
     "in WGS84"),
    ("drop point half given",
     lambda f: set_prop(f, "residents.geojson", 4, "drop_lat", ...),
     "residents.geojson:4: drop_lat: drop_lon and drop_lat go together: give both or neither"),
    ("bad hub kind",
     lambda f: set_prop(f, "hubs.geojson", 1, "kind", "depot"),
     "hubs.geojson:1: kind: unknown value 'depot' (expected one of hub, supply)"),
    ("bad volunteer mode",
     lambda f: replace_text(f, "volunteers.csv", ",walk,", ",scooter,"),
     "volunteers.csv:2: mode: unknown value 'scooter' (expected one of walk, bicycle, car)"),
    ("bad road kind",
     lambda f: set_prop(f, "roads.geojson", 5, "kind", "motorway"),
     "roads.geojson:5: kind: unknown value 'motorway' (expected one of primary, secondary, local, "
     "track, path)"),
    ("bad language",
     lambda f: set_prop(f, "residents.geojson", 3, "language", "fr"),
     "residents.geojson:3: language: unknown value 'fr' (expected one of ja, en)"),
    ("bad HH:MM",
     lambda f: set_prop(f, "hubs.geojson", 1, "opens", "8am"),
     "hubs.geojson:1: opens: must be a time \"HH:MM\" (00:00-23:59), got '8am'"),
    ("bad cutoff",
     lambda f: set_prop(f, "hubs.geojson", 1, "cutoffs", ["10:00", "25:00"]),
     "hubs.geojson:1: cutoffs: must be a time \"HH:MM\" (00:00-23:59), got '25:00'"),
    ("shift end before start",
     lambda f: replace_text(f, "volunteers.csv", "09:00,12:00", "12:00,09:00"),
     "volunteers.csv:2: shift_end: shift_end 09:00 is not after shift_start 12:00"),
    ("unknown day",
     lambda f: replace_text(f, "volunteers.csv", "mon tue wed thu fri\n", "mon tues\n"),
     "volunteers.csv:2: days: unknown day 'tues' (expected mon tue wed thu fri sat sun, a range such as "
     "Mon-Fri, 平日 or 毎日)"),
    ("negative capacity",
     lambda f: replace_text(f, "volunteers.csv", ",walk,8,", ",walk,-8,"),
     "volunteers.csv:2: capacity_kg: must be greater than 0, got -8"),
    ("negative turnaround",
     lambda f: replace_text(f, "drones.csv", ",36,10", ",36,-10"),
     "drones.csv:2: turnaround_min: must not be negative, got -10"),
    ("negative road speed",
     lambda f: set_prop(f, "roads.geojson", 2, "maxspeed_kmh", -50),
     "roads.geojson:2: maxspeed_kmh: must be greater than 0, got -50"),
    ("number that is not a number",
     lambda f: replace_text(f, "drones.csv", ",4.5,", ",heavy,"),
     "drones.csv:2: payload_kg: must be a number, got 'heavy'"),
    ("fractional parcel count",
     lambda f: replace_text(f, "volunteers.csv", ",8,4,", ",8,4.5,"),
     "volunteers.csv:2: max_parcels: must be a whole number, got '4.5'"),
    ("boolean as a string",
     lambda f: set_prop(f, "roads.geojson", 4, "oneway", "yes"),
     "roads.geojson:4: oneway: must be true or false, got 'yes'"),
    ("unknown property (a typo)",
     lambda f: set_prop(f, "roads.geojson", 4, "one_way", True),
     "roads.geojson:4: one_way: unknown field (expected id, kind, maxspeed_kmh, oneway, car)"),
    ("missing file",
     lambda f: (f / "drones.csv").unlink(),
     "drones.csv:0: (file): required file is missing"),
    ("unknown file",
     lambda f: (f / "residents.csv").write_text("id\n"),
     "residents.csv:0: (file): unknown file (a region folder holds region.toml, hubs.geojson, "
     "residents.geojson, roads.geojson, zones.geojson, volunteers.csv, drones.csv, optionally permits.csv, "
     "proxies.csv, gtfs/ with bus_parcels.csv, a README and a scenarios/ folder)"),
    ("malformed TOML",
     lambda f: replace_text(f, "region.toml", 'crs = "EPSG:6673"', "crs = EPSG:6673"),
     "region.toml:2: (syntax): malformed TOML: Invalid value (at line 2, column 7)"),
    ("malformed JSON",
     lambda f: replace_text(f, "roads.geojson", '"kind": "local", "maxspeed_kmh": 30}', '"kind": "local",}'),
     "roads.geojson:4: (syntax): malformed JSON: Expecting property name enclosed in double quotes "
     "(column 69)"),
    ("malformed CSV quoting",
     lambda f: replace_text(f, "drones.csv", "JP2-class quadcopter", '"JP2-class" quadcopter'),
     "drones.csv:2: (syntax): malformed CSV: ',' expected after '\"'"),
    ("CSV row with too few values",
     lambda f: replace_text(f, "drones.csv", ",10\n", "\n"),
     "drones.csv:2: (syntax): expected 7 values, found 6"),
    ("CSV header missing a column",
     lambda f: replace_text(f, "drones.csv", ",turnaround_min", ""),
     "drones.csv:1: turnaround_min: required column is missing from the header"),
    ("unknown timezone",
     lambda f: replace_text(f, "region.toml", "Asia/Tokyo", "Asia/Toyooka"),
     "region.toml:3: timezone: unknown time zone 'Asia/Toyooka' (expected an IANA name such as "
     "Asia/Tokyo)"),
    ("CRS not metric",
     lambda f: replace_text(f, "region.toml", "EPSG:6673", "EPSG:4326"),
     "region.toml:2: crs: EPSG:4326 is not a projected CRS in metres (axis units: degree); "
     "distances are measured in it"),
    ("CRS unknown",
     lambda f: replace_text(f, "region.toml", "EPSG:6673", "EPSG:99999"),
     "region.toml:2: crs: unknown CRS 'EPSG:99999' (expected an EPSG code such as EPSG:6673)"),
    ("missing key in region.toml",
     lambda f: replace_text(f, "region.toml", 'locale = "ja_JP"\n', ""),
     "region.toml:0: locale: required field is missing"),
    ("resident at a supply point",
     lambda f: set_prop(f, "hubs.geojson", 1, "kind", "supply"),
     [f"residents.geojson:{row}: hub_id: 'H1' is a supply point, not a hub residents are served from"
      for row in range(1, 6)]),
    ("Point zone without a circle extent",
     lambda f: set_geometry(f, "zones.geojson", 1, {"type": "Point", "coordinates": [134.866, 35.57]}),
     'zones.geojson:1: geometry: a Point zone needs "extent": {"subType": "Circle", "radius": metres}'),
    ("validity window without offset",
     lambda f: set_prop(f, "zones.geojson", 1, "limitedApplicability",
                        [{"startDateTime": "2026-12-05T09:00", "endDateTime": "2026-12-05T17:00+09:00"}]),
     "zones.geojson:1: limitedApplicability: '2026-12-05T09:00' has no UTC offset "
     "(write e.g. 2026-12-05T09:00+09:00)"),
    ("validity window ending before it starts",
     lambda f: set_prop(f, "zones.geojson", 1, "limitedApplicability",
                        [{"startDateTime": "2026-12-05T17:00+09:00",
                          "endDateTime": "2026-12-05T09:00+09:00"}]),
     "zones.geojson:1: limitedApplicability: endDateTime 2026-12-05T09:00:00+09:00 is not after "
     "startDateTime 2026-12-05T17:00:00+09:00"),
    ("unknown handover consent",
     lambda f: set_prop(f, "residents.geojson", 2, "handover", "mailbox"),
     "residents.geojson:2: handover: unknown value 'mailbox' "
     "(expected one of none, neighbour, hall, either)"),
    ("negative zone buffer",
     lambda f: set_prop(f, "zones.geojson", 1, "extendedProperties", {"planning.bufferM": -5}),
     "zones.geojson:1: extendedProperties: planning.bufferM must be a number of metres >= 0, got -5"),
]


@pytest.mark.parametrize(("breakage", "expected"), [(c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_check_reports_file_row_and_field(tiny: Path, breakage: Callable[[Path], None],
                                              expected: str | list[str]) -> None:
    breakage(tiny)
    assert problems_of(tiny) == ([expected] if isinstance(expected, str) else expected)


def test_every_problem_is_reported_not_just_the_first(tiny: Path) -> None:
    set_prop(tiny, "residents.geojson", 1, "phone", "12345")
    set_prop(tiny, "residents.geojson", 2, "hub_id", "NOPE")
    set_prop(tiny, "roads.geojson", 3, "kind", "highway")
    set_prop(tiny, "zones.geojson", 1, "type", "MAYBE")
    replace_text(tiny, "volunteers.csv", ",bicycle,", ",skateboard,")
    replace_text(tiny, "region.toml", "Asia/Tokyo", "Mars/Olympus")
    problems = problems_of(tiny)
    assert [p.split(": ")[0] + ": " + p.split(": ")[1] for p in problems] == [
        "region.toml:3: timezone",
        "residents.geojson:1: phone",
        "residents.geojson:2: hub_id",
        "roads.geojson:3: kind",
        "zones.geojson:1: type",
        "volunteers.csv:3: mode",
    ]


def test_several_problems_in_one_record_are_all_reported(tiny: Path) -> None:
    set_prop(tiny, "residents.geojson", 2, "phone", "0796-00-0000")
    set_prop(tiny, "residents.geojson", 2, "language", "de")
    set_prop(tiny, "residents.geojson", 2, "id", ...)
    assert [p.split(": ")[1] for p in problems_of(tiny)] == ["id", "phone", "language"]


def test_a_bad_hub_does_not_cascade_into_every_resident(tiny: Path) -> None:
    """A hub whose opening hours are wrong still exists: its residents are not reported."""
    set_prop(tiny, "hubs.geojson", 1, "closes", "07:00")
    assert problems_of(tiny) == [
        "hubs.geojson:1: closes: closes 07:00 is not after opens 08:00",
        "hubs.geojson:1: cutoffs: cutoff 10:00 is outside opening hours 08:00-07:00",
        "hubs.geojson:1: cutoffs: cutoff 14:00 is outside opening hours 08:00-07:00",
    ]


def test_missing_folder_is_one_problem(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nowhere") == [
        f"{tmp_path / 'nowhere'}:0: (file): is not a region folder (not a directory)"
    ]


# ----------------------------------------------------------------------------------- zone details
def test_circle_zone_becomes_a_polygon_of_that_radius_in_metres(tiny: Path) -> None:
    set_geometry(tiny, "zones.geojson", 1, {
        "type": "Point", "coordinates": [134.866, 35.57], "extent": {"subType": "Circle", "radius": 300},
        "layer": {"lower": 0, "upper": 500, "uom": "ft"},
    })
    zone = read_region(tiny).zones[0]
    assert zone.geometry.geom_type == "Polygon"
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:6673", always_xy=True)
    centre = Point(to_metric.transform(134.866, 35.57))
    ring = [Point(to_metric.transform(x, y)) for x, y in zone.geometry.exterior.coords]
    assert all(299.0 < centre.distance(p) < 301.0 for p in ring)
    assert zone.upper_m == pytest.approx(152.4)
    assert zone.feature["geometry"]["extent"]["radius"] == 300


def test_validity_windows_are_aware_datetimes_and_nested_buffer_is_read(tiny: Path) -> None:
    set_prop(tiny, "zones.geojson", 1, "limitedApplicability", [
        {"startDateTime": "2026-12-05T09:00:00+09:00", "endDateTime": "2026-12-05T21:00:00+09:00"},
        {"startDateTime": "2026-12-06T00:00:00Z"},
    ])
    set_prop(tiny, "zones.geojson", 1, "extendedProperties", {"jp:category": "LOCAL_RULE",
                                                              "planning": {"bufferM": 80}})
    zone = read_region(tiny).zones[0]
    jst = dt.timezone(dt.timedelta(hours=9))
    assert zone.applicability == (
        ZoneWindow(dt.datetime(2026, 12, 5, 9, tzinfo=jst), dt.datetime(2026, 12, 5, 21, tzinfo=jst)),
        ZoneWindow(dt.datetime(2026, 12, 6, tzinfo=dt.UTC), None),
    )
    assert (zone.category, zone.buffer_m) == ("LOCAL_RULE", 80.0)


def test_zone_without_extended_properties_gets_the_default_buffer(tiny: Path) -> None:
    set_prop(tiny, "zones.geojson", 1, "extendedProperties", ...)
    zone = read_region(tiny).zones[0]
    assert (zone.category, zone.buffer_m) == (None, DEFAULT_BUFFER_M)


def test_optional_fields_take_their_defaults(tiny: Path) -> None:
    set_prop(tiny, "residents.geojson", 1, "language", ...)
    set_prop(tiny, "residents.geojson", 1, "notes", ...)
    set_prop(tiny, "hubs.geojson", 1, "cutoffs", ...)
    set_prop(tiny, "hubs.geojson", 1, "drone_port", ...)
    # drone_port defaults to false, so the tiny drone now sits at a hub without a port
    assert problems_of(tiny) == ["drones.csv:2: hub_id: hub 'H1' has no drone port (drone_port is false)"]
    (tiny / "drones.csv").write_text(
        "id,hub_id,model,payload_kg,range_km,cruise_kmh,turnaround_min\n", encoding="utf-8")
    data = read_region(tiny)
    assert (data.residents[0].language, data.residents[0].notes) == ("ja", "")
    assert (data.hubs[0].cutoffs, data.hubs[0].drone_port) == ((), False)
    road = data.roads[-1]
    assert road.kind == "path" and road.car is False and road.oneway is False
    assert data.roads[9].maxspeed_kmh is None
    assert data.drones == ()


# --------------------------------------------------------------------------------- tajima region
TAJIMA = REPO / "sample_regions" / "tajima"


@pytest.fixture(scope="module")
def tajima() -> RegionData:
    return read_region(TAJIMA)


def test_tajima_reads_with_the_stated_figures(tajima: RegionData) -> None:
    assert tajima.meta == RegionMeta(tajima.meta.name, "EPSG:6673", "Asia/Tokyo", "ja_JP")
    assert len(tajima.hubs) == 4
    assert sum(h.drone_port for h in tajima.hubs) >= 2
    assert [h.code for h in tajima.hubs if h.kind == "supply"] == ["TOYOOKA-PO"]
    assert len(tajima.residents) == 300
    assert len(tajima.roads) >= 500
    assert {r.kind for r in tajima.roads} == {"primary", "secondary", "local", "track", "path"}
    assert len(tajima.volunteers) == 22
    assert {v.mode for v in tajima.volunteers} == {"walk", "bicycle", "car"}
    assert len(tajima.drones) == 4


def test_tajima_couriers_and_drones_have_realistic_figures(tajima: RegionData) -> None:
    figures = {(v.mode, v.capacity_kg, v.max_parcels) for v in tajima.volunteers}
    assert figures == {("walk", 8, 4), ("bicycle", 15, 8), ("car", 150, 30)}
    ports = {h.code for h in tajima.hubs if h.drone_port}
    for drone in tajima.drones:
        assert (drone.payload_kg, drone.cruise_kmh, drone.range_km, drone.turnaround_min) == (4.5, 36, 20, 10)
        assert drone.hub_code in ports


def test_tajima_about_a_third_have_drop_points_a_few_tens_of_metres_from_home(tajima: RegionData) -> None:
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:6673", always_xy=True)
    with_drop = [r for r in tajima.residents if r.drop_lon is not None]
    assert 0.25 <= len(with_drop) / len(tajima.residents) <= 0.35
    for r in with_drop:
        home, drop = to_metric.transform(r.lon, r.lat), to_metric.transform(r.drop_lon, r.drop_lat)
        assert 15 <= Point(home).distance(Point(drop)) <= 60, r.code


def test_tajima_zones_cover_airport_town_centre_and_a_december_festival(tajima: RegionData) -> None:
    by_category = {z.category: z for z in tajima.zones}
    assert set(by_category) >= {"AIRPORT_SURFACE", "DID", "LOCAL_RULE", "COMMUNITY"}
    airport = by_category["AIRPORT_SURFACE"]
    assert airport.type == "PROHIBITED" and airport.geometry.geom_type == "Polygon"
    assert airport.geometry.contains(Point(134.787, 35.513))
    assert by_category["DID"].type == "REQ_AUTHORIZATION"
    assert by_category["DID"].geometry.contains(Point(134.820, 35.544))
    festival = by_category["LOCAL_RULE"]
    assert festival.applicability and all(
        w.start is not None and w.start.year == 2026 and w.start.month == 12 for w in festival.applicability)
    assert all(z.applicability == () for z in tajima.zones if z is not festival)


def test_tajima_no_hub_or_drop_point_in_a_prohibited_zone(tajima: RegionData) -> None:
    prohibited = [z.geometry for z in tajima.zones if z.type == "PROHIBITED"]
    points = [Point(h.lon, h.lat) for h in tajima.hubs]
    points += [Point(r.drop_lon, r.drop_lat) for r in tajima.residents if r.drop_lon is not None]
    assert not [p for p in points if any(zone.contains(p) for zone in prohibited)]


def test_tajima_every_resident_and_hub_is_within_300_m_of_a_road(tajima: RegionData) -> None:
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:6673", always_xy=True)
    roads = STRtree([LineString([to_metric.transform(*c) for c in r.coords]) for r in tajima.roads])
    places = [(r.code, r.lon, r.lat) for r in tajima.residents]
    places += [(h.code, h.lon, h.lat) for h in tajima.hubs]
    far = []
    for code, lon, lat in places:
        point = Point(to_metric.transform(lon, lat))
        nearest = roads.geometries[roads.nearest(point)]
        if point.distance(nearest) > 300:
            far.append(code)
    assert far == []


def test_tajima_road_network_is_connected_and_split_at_junctions(tajima: RegionData) -> None:
    parent: dict[tuple[float, float], tuple[float, float]] = {}

    def find(node: tuple[float, float]) -> tuple[float, float]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for road in tajima.roads:
        parent[find(road.coords[0])] = find(road.coords[-1])
    assert len({find(node) for node in list(parent)}) == 1
    # a junction is always a segment end: no segment end touches another segment's interior
    lines = [LineString(r.coords) for r in tajima.roads]
    tree = STRtree(lines)
    for node in parent:
        point = Point(node)
        for i in tree.query(point.buffer(1e-7)):
            ends = {lines[i].coords[0], lines[i].coords[-1]}
            assert node in ends or lines[i].distance(point) > 1e-8, (node, tajima.roads[i].code)


def test_generator_rewrites_identical_files(tmp_path: Path) -> None:
    """Run the script as a user would (from another directory), into a fresh folder."""
    subprocess.run([sys.executable, str(REPO / "sample_regions" / "generate_tajima.py"), str(tmp_path)],
                   check=True, cwd=tmp_path, timeout=120)
    generated = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in TAJIMA.iterdir() if p.name not in ("README.md", "scenarios"))
    assert generated == committed
    for name in generated:
        assert (tmp_path / name).read_bytes() == (TAJIMA / name).read_bytes(), name


# ------------------------------------------------------------------------- hakobu region check
def test_region_check_lists_every_problem_and_exits_2(tiny: Path) -> None:
    set_prop(tiny, "residents.geojson", 2, "hub_id", "H9")
    set_prop(tiny, "zones.geojson", 1, "type", "FORBIDDEN")
    result = CliRunner().invoke(region_group, ["check", str(tiny)])
    assert result.exit_code == 2
    assert "residents.geojson:2: hub_id: hub 'H9' does not exist in hubs.geojson" in result.stderr
    assert "zones.geojson:1: type: unknown value 'FORBIDDEN'" in result.stderr
    assert "2 problem(s)" in result.stderr


def test_region_check_reports_a_clean_region() -> None:
    result = CliRunner().invoke(region_group, ["check", str(TINY)])
    assert result.exit_code == 0, result.output
    assert "1 hubs, 5 residents, 11 roads, 1 zones, 2 volunteers, 1 drones" in result.stdout


@pytest.mark.db
def test_handover_consent_is_read_and_loaded(tiny: Path, db: Database) -> None:
    set_prop(tiny, "residents.geojson", 2, "handover", "hall")
    data = read_region(tiny)
    assert [r.handover for r in data.residents][:3] == ["none", "hall", "none"]
    load_region(db, data)
    with db.read() as s:
        consent = dict(s.execute(select(Resident.code, Resident.handover_consent)).all())
    assert consent["R2"] == "hall" and consent["R1"] == "none"


@pytest.mark.db
def test_a_volunteer_language_column_is_optional_and_names_bad_values(tiny: Path, db: Database) -> None:
    from dispatch.models import Volunteer

    replace_text(tiny, "volunteers.csv", "shift_end,days", "shift_end,days,language")
    lines = (tiny / "volunteers.csv").read_text(encoding="utf-8").splitlines()
    (tiny / "volunteers.csv").write_text("\n".join([lines[0], lines[1] + ",en",
                                                    *(line + ",ja" for line in lines[2:])]) + "\n",
                                        encoding="utf-8")
    load_region(db, read_region(tiny))
    with db.read() as s:
        languages = dict(s.execute(select(Volunteer.code, Volunteer.language)).all())
    assert languages["V1"] == "en" and languages["V2"] == "ja"
    replace_text(tiny, "volunteers.csv", ",en", ",fr")
    assert problems_of(tiny) == ["volunteers.csv:2: language: unknown value 'fr' (expected one of ja, en)"]
