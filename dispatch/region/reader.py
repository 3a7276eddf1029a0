"""Read a region folder (see ``docs/region-format.md``) into frozen records, checking everything.

The reader is pure: no database, no Flask. It reads every file, collects *all* problems (not just
the first) as :class:`RegionProblem` values and raises :class:`RegionError` if there is any, so
``hakobu region check`` can list them all and ``hakobu region load`` imports nothing.

GeoJSON is parsed with :mod:`json` + :mod:`shapely` rather than geopandas: the checks need the raw
properties (absent vs ``null``, a string where a number belongs) to name the exact feature and
field, and geopandas drops the ED-318 geometry members ``layer`` and ``extent``. pyproj projects
to the region's metric CRS wherever something is measured (circle zones).

Row numbers: the 1-based feature index in a GeoJSON file, the line number in a CSV file (the
header is line 1, so the first record is line 2), the line of the key in ``region.toml``; row 0
means the file as a whole (missing, unknown, or a key that is absent).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from dispatch.models.region import CONSENT_METHODS, HANDOVER_CONSENT, PROXY_RELATIONS, TRAINING
from dispatch.region import ed318
from dispatch.region.ed318 import Authority, Layer, LocalText, ZoneWindow
from dispatch.region.gtfs import FeedTrip, GtfsError, read_trips
from dispatch.weather.limits import DEFAULT_LIMITS, WEATHER_LIMITS
from dispatch.weekdays import WEEKDAYS, parse_days
from routing.permits import CATEGORIES

REGION_FILE = "region.toml"
HUBS_FILE = "hubs.geojson"
RESIDENTS_FILE = "residents.geojson"
ROADS_FILE = "roads.geojson"
ZONES_FILE = "zones.geojson"
VOLUNTEERS_FILE = "volunteers.csv"
DRONES_FILE = "drones.csv"
PERMITS_FILE = "permits.csv"  # optional
PROXIES_FILE = "proxies.csv"
GTFS_FOLDER = "gtfs"  # optional: the community bus's GTFS / GTFS-JP feed
BUS_FILE = "bus_parcels.csv"  # with gtfs/: the trips that carry parcels and under which agreement
BUS_COLUMNS = ("route_id", "trip_id", "max_parcels", "max_kg", "agreement")
REQUIRED_FILES = (
    REGION_FILE, HUBS_FILE, RESIDENTS_FILE, ROADS_FILE, ZONES_FILE, VOLUNTEERS_FILE, DRONES_FILE,
)
#: Files a region folder may hold besides the required ones.
OPTIONAL_FILES = (PERMITS_FILE, PROXIES_FILE)

HUB_KINDS = ("hub", "supply")
LANGUAGES = ("ja", "en")
ROAD_KINDS = ("primary", "secondary", "local", "track", "path")
MODES = ("walk", "bicycle", "car")
ZONE_TYPES = ("PROHIBITED", "REQ_AUTHORIZATION", "CONDITIONAL", "NO_RESTRICTION", "USPACE")
ZONE_VARIANTS = ("COMMON", "CUSTOMIZED")
DAYS = WEEKDAYS
DEFAULT_BUFFER_M = 30.0
"""Planning buffer around a zone when ``planning.bufferM`` is absent: covers GNSS error and drift."""

VOLUNTEER_COLUMNS = (
    "id", "name", "phone", "hub_id", "mode", "capacity_kg", "max_parcels", "shift_start",
    "shift_end", "days",
)
VOLUNTEER_OPTIONAL = ("language", "training")  # training: space-separated, from TRAINING
DRONE_COLUMNS = ("id", "hub_id", "model", "payload_kg", "range_km", "cruise_kmh", "turnaround_min")
#: Optional drone columns: the registration (登録記号) and the model's weather limits.
DRONE_OPTIONAL = ("registration", *WEATHER_LIMITS)
PERMIT_COLUMNS = ("number", "hub_id", "valid_from", "valid_until", "categories", "drones", "pilots", "zones")
PERMIT_OPTIONAL = ("holder", "notes")
#: Zone types a permit may cover (a PROHIBITED zone is never flown through).
PERMIT_ZONE_TYPES = ("REQ_AUTHORIZATION", "CONDITIONAL")
PROXY_COLUMNS = ("resident_id", "name", "phone", "relation", "consented_by", "consent_method",
                 "consented_on", "covers")
PROXY_OPTIONAL = ("note", "active")
PROXY_COVERS = ("ordering", "receiving")

_E164 = re.compile(r"\+[1-9]\d{7,14}")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_LOCALE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_FILE, _SYNTAX = "(file)", "(syntax)"


# --------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class RegionMeta:
    name: str
    crs: str  # a projected CRS in metres, e.g. "EPSG:6673"
    timezone: str  # an IANA name zoneinfo knows, e.g. "Asia/Tokyo"
    locale: str  # e.g. "ja_JP"


@dataclass(frozen=True)
class HubRecord:
    code: str
    name: str
    kind: str  # "hub" | "supply"
    drone_port: bool
    opens: dt.time
    closes: dt.time
    cutoffs: tuple[dt.time, ...]  # local times when the hub's batch closes, ascending
    lon: float
    lat: float
    phone: str = ""  # E.164: residents call or text it (shown on the residents' page)


@dataclass(frozen=True)
class ResidentRecord:
    code: str
    name: str
    phone: str  # E.164
    language: str  # "ja" | "en"
    hub_code: str
    lon: float
    lat: float
    drop_lon: float | None  # drone drop point; None = no drone delivery
    drop_lat: float | None
    notes: str
    handover: str = "none"  # consent to leave parcels with a neighbour / the community hall


@dataclass(frozen=True)
class RoadRecord:
    code: str
    kind: str  # primary | secondary | local | track | path
    maxspeed_kmh: float | None
    oneway: bool  # True: drivable only in the direction of ``coords``
    car: bool
    coords: tuple[tuple[float, float], ...]  # WGS84 lon/lat


@dataclass(frozen=True)
class ZoneRecord:
    identifier: str
    country: str
    type: str  # PROHIBITED | REQ_AUTHORIZATION | CONDITIONAL | NO_RESTRICTION
    variant: str
    name: str
    reason: str
    geometry: BaseGeometry = field(compare=False)  # WGS84; a circle is already a polygon
    applicability: tuple[ZoneWindow, ...]  # empty = permanent
    lower_m: float | None
    upper_m: float | None
    category: str | None  # extendedProperties["jp:category"]
    buffer_m: float
    feature: dict[str, Any] = field(compare=False, repr=False)  # the original GeoJSON feature
    # ED-318's localised texts (``name`` is the one in the region's language), authorities, layers
    names: tuple[LocalText, ...] = ()
    reason_info: tuple[LocalText, ...] = ()
    message: tuple[LocalText, ...] = ()
    authorities: tuple[Authority, ...] = ()
    layers: tuple[Layer, ...] = ()


@dataclass(frozen=True)
class VolunteerRecord:
    code: str
    name: str
    phone: str
    hub_code: str
    mode: str  # walk | bicycle | car
    capacity_kg: float
    max_parcels: int
    shift_start: dt.time
    shift_end: dt.time
    days: tuple[str, ...]  # subset of DAYS, in week order
    language: str = "ja"  # of the courier's SMS (route links, changes)
    training: tuple[str, ...] = ()  # completed, subset of TRAINING


@dataclass(frozen=True)
class DroneRecord:
    code: str
    hub_code: str
    model: str
    payload_kg: float
    range_km: float  # per sortie, including the way back
    cruise_kmh: float
    turnaround_min: float  # battery swap and loading between sorties
    registration: str = ""
    #: Weather limits by name (:data:`dispatch.weather.limits.WEATHER_LIMITS`), defaults filled in.
    limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LIMITS))


@dataclass(frozen=True)
class PermitRecord:
    """A row of ``permits.csv``: an MLIT permit/approval held by a hub's drone operator."""

    number: str
    hub_code: str
    valid_from: dt.date
    valid_until: dt.date
    categories: tuple[str, ...]
    drones: tuple[str, ...]  # drone ids of drones.csv
    pilots: tuple[str, ...]  # names as on the permit
    zones: tuple[str, ...]  # zone identifiers of zones.geojson
    holder: str = ""
    notes: str = ""


@dataclass(frozen=True)
class ProxyRecord:
    """A proxy of a resident with the resident's consent (``proxies.csv``); ``active`` false revokes."""

    resident_code: str
    name: str
    phone: str
    relation: str  # one of PROXY_RELATIONS
    consented_by: str
    consent_method: str  # one of CONSENT_METHODS
    consented_on: dt.date
    ordering: bool
    receiving: bool
    note: str = ""
    active: bool = True


@dataclass(frozen=True)
class RegionData:
    path: Path
    meta: RegionMeta
    hubs: tuple[HubRecord, ...]
    residents: tuple[ResidentRecord, ...]
    roads: tuple[RoadRecord, ...]
    zones: tuple[ZoneRecord, ...]
    volunteers: tuple[VolunteerRecord, ...]
    drones: tuple[DroneRecord, ...]
    permits: tuple[PermitRecord, ...] = ()
    proxies: tuple[ProxyRecord, ...] = ()
    bus_trips: tuple[BusTripRecord, ...] = ()


@dataclass(frozen=True)
class BusTripRecord:
    """A GTFS trip that carries parcels under the drivers' agreement (``bus_parcels.csv``)."""

    trip: FeedTrip
    max_parcels: int
    max_kg: float
    agreement: str


@dataclass(frozen=True)
class RegionProblem:
    """One thing wrong, located as ``file:row: field``; ``file`` is relative to the region folder."""

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.message}"


class RegionError(Exception):
    """A region folder has problems; ``problems`` lists every one, in file and row order."""

    def __init__(self, problems: Sequence[RegionProblem]) -> None:
        self.problems: tuple[RegionProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ------------------------------------------------------------------------------------ plumbing
class _Sink:
    """Collects problems in the order they are found."""

    def __init__(self) -> None:
        self.problems: list[RegionProblem] = []

    def add(self, file: str, row: int, field_name: str, message: str) -> None:
        self.problems.append(RegionProblem(file, row, field_name, message))


@dataclass
class _Context:
    """What later files are checked against: the region's CRS and the hubs that exist."""

    sink: _Sink
    crs: CRS | None = None
    bounds: tuple[float, float, float, float] | None = None  # area of use: W, S, E, N degrees
    hubs: dict[str, tuple[str, bool]] | None = None  # id -> (kind, drone_port); None = unreadable
    language: str = "ja"  # of region.toml's locale: which of a zone's localised names it shows
    drones: dict[str, str] | None = None  # drone id -> hub id; None = not read yet


class _Fields:
    """Typed access to one record's values; every bad value is reported at (file, row, field).

    ``from_text`` is set for CSV records, whose values are all strings. ``failed`` tells whether
    any field of this record was reported, so no half-checked record is built.
    """

    def __init__(self, sink: _Sink, file: str, row: int, values: Mapping[str, Any],
                 from_text: bool = False) -> None:
        self.sink, self.file, self.row, self.values = sink, file, row, values
        self.from_text = from_text
        self.failed = False

    def bad(self, name: str, message: str) -> None:
        self.sink.add(self.file, self.row, name, message)
        self.failed = True

    def raw(self, name: str, required: bool) -> Any:
        value = self.values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.bad(name, "required field is missing")
            return None
        return value

    def text(self, name: str, required: bool = True, default: str = "") -> str:
        value = self.raw(name, required)
        if value is None:
            return default
        if not isinstance(value, str):
            self.bad(name, f"must be a string, got {value!r}")
            return default
        return value.strip()

    def number(self, name: str, required: bool = True, positive: bool = False) -> float | None:
        """A finite number; ``positive`` demands > 0, otherwise >= 0 (no field may be negative)."""
        value = self.raw(name, required)
        if value is None:
            return None
        if self.from_text and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                self.bad(name, f"must be a number, got {value!r}")
                return None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(name, f"must be a number, got {value!r}")
            return None
        else:
            number = float(value)
        if not math.isfinite(number):
            self.bad(name, f"must be a finite number, got {value!r}")
        elif positive and number <= 0:
            self.bad(name, f"must be greater than 0, got {number:g}")
        elif number < 0:
            self.bad(name, f"must not be negative, got {number:g}")
        else:
            return number
        return None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name, required=False)
        if value is None:
            return default
        if self.from_text and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            self.bad(name, f"must be true or false, got {value!r}")
            return default
        return value

    def choice(self, name: str, choices: Sequence[str], required: bool = True,
               default: str = "") -> str:
        value = self.text(name, required, default)
        if value and value not in choices:
            self.bad(name, f"unknown value {value!r} (expected one of {', '.join(choices)})")
        return value

    def time(self, name: str, required: bool = True) -> dt.time | None:
        value = self.text(name, required)
        if not value:
            return None
        parsed = _parse_hhmm(value)
        if parsed is None:
            self.bad(name, f"must be a time \"HH:MM\" (00:00-23:59), got {value!r}")
        return parsed

    def phone(self, name: str) -> str:
        value = self.text(name)
        if value and not _E164.fullmatch(value):
            self.bad(name, f"{value!r} is not an E.164 number (+ then 8-15 digits, no spaces)")
        return value

    def unknown(self, allowed: Sequence[str]) -> None:
        for key in self.values:
            if key not in allowed:
                self.bad(key, f"unknown field (expected {', '.join(allowed)})")


def _parse_hhmm(value: str) -> dt.time | None:
    match = _HHMM.fullmatch(value.strip())
    return dt.time(int(match[1]), int(match[2])) if match else None


def _read_text(sink: _Sink, folder: Path, name: str) -> str | None:
    try:
        return (folder / name).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        sink.add(name, 0, _FILE, "required file is missing")
    except UnicodeDecodeError as error:
        sink.add(name, 0, _FILE, f"is not UTF-8 text ({error.reason} at byte {error.start})")
    except OSError as error:
        sink.add(name, 0, _FILE, f"cannot be read: {error.strerror}")
    return None


#: A sub-folder of scenario files a region may carry (read by ``hakobu scenario run``).
SCENARIOS = "scenarios"


def _check_folder(sink: _Sink, folder: Path) -> bool:
    """Report a folder that does not exist, and files that are not part of the format."""
    if not folder.is_dir():
        sink.add(str(folder), 0, _FILE, "is not a region folder (not a directory)")
        return False
    for entry in sorted(folder.iterdir()):
        name = entry.name
        known = name in REQUIRED_FILES or name in OPTIONAL_FILES
        if known or name.startswith(".") or name.upper().startswith("README"):
            continue
        if (name == BUS_FILE and entry.is_file()) or (name == GTFS_FOLDER and entry.is_dir()):
            continue  # the community bus's timetable and which trips carry parcels
        if name == SCENARIOS and entry.is_dir():
            continue  # planners' what-if files for this region (docs/planners.md), not region data
        sink.add(name, 0, _FILE, f"unknown file (a region folder holds {', '.join(REQUIRED_FILES)}"
                 f", optionally {', '.join(OPTIONAL_FILES)}, {GTFS_FOLDER}/ with {BUS_FILE}, a README and a "
                 f"{SCENARIOS}/ folder)")
    return True


# ------------------------------------------------------------------------------- region.toml
def _read_meta(ctx: _Context, folder: Path) -> RegionMeta | None:
    text = _read_text(ctx.sink, folder, REGION_FILE)
    if text is None:
        return None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        ctx.sink.add(REGION_FILE, int(match[1]) if match else 0, _SYNTAX, f"malformed TOML: {error}")
        return None

    def line_of(key: str) -> int:
        found = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
        return text.count("\n", 0, found.start()) + 1 if found else 0

    checks = _TomlFields(ctx.sink, values, line_of)
    checks.unknown(("name", "crs", "timezone", "locale"))
    name = checks.text("name")
    crs_text = checks.text("crs")
    timezone = checks.text("timezone")
    locale = checks.text("locale")
    if crs_text:
        ctx.crs, ctx.bounds = _metric_crs(checks, crs_text)
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            checks.bad("timezone", f"unknown time zone {timezone!r} (expected an IANA name such as "
                       "Asia/Tokyo)")
    if locale and not _LOCALE.fullmatch(locale):
        checks.bad("locale", f"{locale!r} is not a locale such as ja_JP")
    elif locale:
        ctx.language = locale.split("_")[0]
    return None if checks.failed else RegionMeta(name, crs_text, timezone, locale)


class _TomlFields(_Fields):
    """Like :class:`_Fields`, but the row of a problem is the line of its key in region.toml."""

    def __init__(self, sink: _Sink, values: Mapping[str, Any], line_of: Callable[[str], int]) -> None:
        super().__init__(sink, REGION_FILE, 0, values)
        self.line_of = line_of

    def bad(self, name: str, message: str) -> None:
        self.sink.add(self.file, self.line_of(name), name, message)
        self.failed = True


def _metric_crs(checks: _Fields, text: str) -> tuple[CRS | None, tuple[float, float, float, float] | None]:
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        checks.bad("crs", f"unknown CRS {text!r} (expected an EPSG code such as EPSG:6673)")
        return None, None
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or units != {"metre"}:
        checks.bad("crs", f"{text} is not a projected CRS in metres (axis units: "
                   f"{', '.join(sorted(units)) or 'none'}); distances are measured in it")
        return None, None
    area = crs.area_of_use
    if area is None:
        checks.bad("crs", f"{text} has no area of use to check coordinates against")
        return None, None
    return crs, (area.west, area.south, area.east, area.north)


# ---------------------------------------------------------------------------------- GeoJSON
def _features(sink: _Sink, folder: Path, name: str) -> list[tuple[int, dict[str, Any], Any, Any]] | None:
    """(row, properties, geometry, feature) of each feature; None if the file is unusable as a whole."""
    text = _read_text(sink, folder, name)
    if text is None:
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        sink.add(name, error.lineno, _SYNTAX, f"malformed JSON: {error.msg} (column {error.colno})")
        return None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        sink.add(name, 0, "type", "must be a GeoJSON FeatureCollection with a \"features\" list")
        return None
    crs_member = document.get("crs")
    if crs_member is not None and "CRS84" not in json.dumps(crs_member) \
            and "4326" not in json.dumps(crs_member):
        sink.add(name, 0, "crs", f"GeoJSON must be WGS84 longitude/latitude (RFC 7946), "
                 f"not {json.dumps(crs_member)}")
    rows = []
    for row, feature in enumerate(document["features"], start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            sink.add(name, row, "type", "must be a GeoJSON Feature")
            continue
        properties = feature.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            sink.add(name, row, "properties", "must be an object")
            continue
        rows.append((row, properties, feature.get("geometry"), feature))
    return rows


def _geometry(ctx: _Context, f: _Fields, raw: Any, kinds: Sequence[str],
              name: str = "geometry") -> BaseGeometry | None:
    """A shapely geometry of one of ``kinds``, valid, inside the CRS's area of use; else reported."""
    if not isinstance(raw, dict) or "type" not in raw:
        f.bad(name, "required geometry is missing")
        return None
    if raw["type"] not in kinds:
        f.bad(name, f"must be a {' or '.join(kinds)}, got {raw['type']!r}")
        return None
    depth, expected = _NESTING[raw["type"]]
    if not _nested_positions(raw.get("coordinates"), depth):
        got = json.dumps(raw.get("coordinates"))[:60]
        f.bad(name, f"{raw['type']} coordinates must be {expected}, got {got}")
        return None
    try:
        geom = shape({"type": raw["type"], "coordinates": raw.get("coordinates")})
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as error:
        f.bad(name, f"malformed {raw['type']} coordinates: {error}")
        return None
    if geom.is_empty:
        f.bad(name, f"empty {raw['type']}")
        return None
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        f.bad(name, "coordinates must be finite numbers")
        return None
    if not geom.is_valid:
        f.bad(name, f"invalid {raw['type']}: {shapely.is_valid_reason(geom)}")
        return None
    _check_area(ctx, f, coords, name)
    return geom


_NESTING = {
    "Point": (0, "one position [lon, lat]"),
    "LineString": (1, "a list of positions [lon, lat]"),
    "Polygon": (2, "a list of rings, each a list of positions [lon, lat]"),
    "MultiPolygon": (3, "a list of polygons, each a list of rings of positions [lon, lat]"),
}


def _nested_positions(value: Any, depth: int) -> bool:
    """True if ``value`` is a GeoJSON position (``depth`` 0) or lists of them nested ``depth`` deep."""
    if depth == 0:
        return isinstance(value, list) and 2 <= len(value) <= 3 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    return isinstance(value, list) and all(_nested_positions(v, depth - 1) for v in value)


def _check_area(ctx: _Context, f: _Fields, coords: np.ndarray, name: str) -> None:
    if ctx.bounds is None or ctx.crs is None:
        return
    west, south, east, north = ctx.bounds
    outside = ~((coords[:, 0] >= west) & (coords[:, 0] <= east)
                & (coords[:, 1] >= south) & (coords[:, 1] <= north))
    if outside.any():
        lon, lat = coords[np.argmax(outside)]
        f.bad(name, f"coordinates ({lon:g}, {lat:g}) lie outside the area of use of "
              f"{ctx.crs.to_string()} (lon {west:g}..{east:g}, lat {south:g}..{north:g}); "
              "GeoJSON positions are [longitude, latitude] in WGS84")


def _check_duplicate(f: _Fields, seen: dict[str, int], code: str, name: str = "id") -> None:
    if not code:
        return
    if code in seen:
        f.bad(name, f"duplicate id {code!r} (first used in row {seen[code]})")
    else:
        seen[code] = f.row


def _check_hub_ref(ctx: _Context, f: _Fields, code: str, need: str = "") -> None:
    """``need`` is "hub" (a village hub, not a supply point) or "drone_port"."""
    if not code or ctx.hubs is None:
        return
    if code not in ctx.hubs:
        f.bad("hub_id", f"hub {code!r} does not exist in {HUBS_FILE}")
        return
    kind, drone_port = ctx.hubs[code]
    if need == "hub" and kind == "supply":
        f.bad("hub_id", f"{code!r} is a {kind} point, not a hub residents are served from")
    if need == "drone_port" and not drone_port:
        f.bad("hub_id", f"hub {code!r} has no drone port (drone_port is false)")


# ------------------------------------------------------------------------------- hubs, people
_HUB_FIELDS = ("id", "name", "kind", "drone_port", "opens", "closes", "cutoffs", "phone")
_RESIDENT_FIELDS = ("id", "name", "phone", "language", "hub_id", "drop_lon", "drop_lat", "notes", "handover",
                    "address")  # the postal address: kept in the file, geocoded by `hakobu region geocode`
_ROAD_FIELDS = ("id", "kind", "maxspeed_kmh", "oneway", "car")


def _read_hubs(ctx: _Context, folder: Path) -> list[HubRecord]:
    features = _features(ctx.sink, folder, HUBS_FILE)
    if features is None:
        return []
    ctx.hubs = {}
    seen: dict[str, int] = {}
    hubs = []
    for row, props, raw_geom, _ in features:
        f = _Fields(ctx.sink, HUBS_FILE, row, props)
        f.unknown(_HUB_FIELDS)
        code = f.text("id")
        _check_duplicate(f, seen, code)
        name = f.text("name")
        kind = f.choice("kind", HUB_KINDS)
        drone_port = f.boolean("drone_port", default=False)
        if code and code not in ctx.hubs:
            ctx.hubs[code] = (kind if kind in HUB_KINDS else "", drone_port)
        opens, closes = f.time("opens"), f.time("closes")
        if opens and closes and closes <= opens:
            f.bad("closes", f"closes {closes:%H:%M} is not after opens {opens:%H:%M}")
        cutoffs = _cutoffs(f, props.get("cutoffs"), opens, closes)
        phone = f.text("phone", required=False)
        if phone and not _E164.fullmatch(phone):
            f.bad("phone", f"{phone!r} is not an E.164 number (+ then 8-15 digits, no spaces)")
        geom = _geometry(ctx, f, raw_geom, ("Point",))
        if f.failed or geom is None or opens is None or closes is None:
            continue
        hubs.append(HubRecord(code, name, kind, drone_port, opens, closes, cutoffs, geom.x, geom.y,
                              phone))
    return hubs


def _cutoffs(f: _Fields, raw: Any, opens: dt.time | None, closes: dt.time | None) -> tuple[dt.time, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        f.bad("cutoffs", f"must be a list of \"HH:MM\" strings, got {raw!r}")
        return ()
    times = []
    for value in raw:
        parsed = _parse_hhmm(value)
        if parsed is None:
            f.bad("cutoffs", f"must be a time \"HH:MM\" (00:00-23:59), got {value!r}")
        elif opens and closes and not opens <= parsed <= closes:
            f.bad("cutoffs", f"cutoff {value} is outside opening hours {opens:%H:%M}-{closes:%H:%M}")
        else:
            times.append(parsed)
    if times != sorted(set(times)):
        f.bad("cutoffs", f"must be ascending without repeats, got {raw!r}")
    return tuple(times)


def _read_residents(ctx: _Context, folder: Path) -> list[ResidentRecord]:
    features = _features(ctx.sink, folder, RESIDENTS_FILE)
    if features is None:
        return []
    seen: dict[str, int] = {}
    residents = []
    for row, props, raw_geom, _ in features:
        f = _Fields(ctx.sink, RESIDENTS_FILE, row, props)
        f.unknown(_RESIDENT_FIELDS)
        code = f.text("id")
        _check_duplicate(f, seen, code)
        name = f.text("name")
        phone = f.phone("phone")
        language = f.choice("language", LANGUAGES, required=False, default="ja")
        hub_code = f.text("hub_id")
        _check_hub_ref(ctx, f, hub_code, need="hub")
        notes = f.text("notes", required=False)
        handover = f.choice("handover", HANDOVER_CONSENT, required=False, default="none")
        drop = _drop_point(ctx, f, props)
        address = f.text("address", required=False)
        if raw_geom is None and address:
            f.bad("geometry", f"no coordinates for the address {address!r}: run `hakobu region geocode` "
                  "(docs/region-format.md, Geocoding) or give a Point")
            continue
        geom = _geometry(ctx, f, raw_geom, ("Point",))
        if f.failed or geom is None:
            continue
        residents.append(ResidentRecord(code, name, phone, language, hub_code, geom.x, geom.y,
                                        drop[0] if drop else None, drop[1] if drop else None, notes,
                                        handover))
    return residents


def _drop_point(ctx: _Context, f: _Fields, props: Mapping[str, Any]) -> tuple[float, float] | None:
    has_lon, has_lat = props.get("drop_lon") is not None, props.get("drop_lat") is not None
    if has_lon != has_lat:
        f.bad("drop_lat" if has_lon else "drop_lon", "drop_lon and drop_lat go together: give both or "
              "neither")
        return None
    if not has_lon:
        return None
    values = []
    for name in ("drop_lon", "drop_lat"):
        value = props[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            f.bad(name, f"must be a number (WGS84 degrees), got {value!r}")
            return None
        values.append(float(value))
    _check_area(ctx, f, np.array([values]), "drop_lon")
    return values[0], values[1]


def _read_roads(ctx: _Context, folder: Path) -> list[RoadRecord]:
    features = _features(ctx.sink, folder, ROADS_FILE)
    if features is None:
        return []
    seen: dict[str, int] = {}
    roads = []
    for row, props, raw_geom, _ in features:
        f = _Fields(ctx.sink, ROADS_FILE, row, props)
        f.unknown(_ROAD_FIELDS)
        code = f.text("id")
        _check_duplicate(f, seen, code)
        kind = f.choice("kind", ROAD_KINDS)
        maxspeed = f.number("maxspeed_kmh", required=False, positive=True)
        oneway = f.boolean("oneway", default=False)
        car = f.boolean("car", default=True)
        geom = _geometry(ctx, f, raw_geom, ("LineString",))
        if f.failed or geom is None:
            continue
        coords = tuple((float(x), float(y)) for x, y in shapely.get_coordinates(geom))
        roads.append(RoadRecord(code, kind, maxspeed, oneway, car, coords))
    return roads


# ------------------------------------------------------------------------------------- zones
def _read_zones(ctx: _Context, folder: Path) -> list[ZoneRecord]:
    """Zones in ED-318 as published (see :mod:`dispatch.region.ed318`) or Hakobu's simpler profile."""
    features = _features(ctx.sink, folder, ZONES_FILE)
    if features is None:
        return []
    seen: dict[str, int] = {}
    zones = []
    for row, props, raw_geom, feature in features:
        f = _Fields(ctx.sink, ZONES_FILE, row, props)
        identifier = f.text("identifier")
        _check_duplicate(f, seen, identifier, "identifier")
        country = f.text("country")
        if country and not re.fullmatch(r"[A-Z]{3}", country):
            f.bad("country", f"must be an ISO 3166-1 alpha-3 code such as JPN, got {country!r}")
        zone_type = f.choice("type", ZONE_TYPES)
        variant = f.choice("variant", ZONE_VARIANTS, required=False, default="COMMON")
        names = ed318.local_texts(f.bad, "name", props.get("name"))
        if not names and props.get("name") in (None, "", []):
            f.bad("name", "required field is missing")
        reasons = ed318.reasons(f.bad, props.get("reason"))
        reason_info = ed318.local_texts(f.bad, "otherReasonInfo", props.get("otherReasonInfo"))
        message = ed318.local_texts(f.bad, "message", props.get("message"))
        authorities = ed318.authorities(f.bad, props.get("zoneAuthority"))
        windows = ed318.applicability(f.bad, props.get("limitedApplicability"))
        category, buffer_m = _extended(f, props.get("extendedProperties"))
        geom, layers = _zone_geometry(ctx, f, raw_geom)
        if f.failed or geom is None:
            continue
        lower, upper = ed318.envelope(layers)
        zones.append(ZoneRecord(
            identifier, country, zone_type, variant, ed318.pick(names, ctx.language), ", ".join(reasons),
            geom, windows, lower, upper, category, buffer_m, feature, names=names,
            reason_info=reason_info, message=message, authorities=authorities, layers=layers,
        ))
    return zones


def _zone_geometry(ctx: _Context, f: _Fields, raw: Any) -> tuple[BaseGeometry | None, tuple[Layer, ...]]:
    """The zone's area in WGS84 and its vertical layers: one geometry, or a GeometryCollection of
    several (ED-318's way to give a zone layers with different altitude bands)."""
    if isinstance(raw, dict) and raw.get("type") == "GeometryCollection":
        parts = raw.get("geometries")
        if not isinstance(parts, list) or not parts:
            f.bad("geometry", "a GeometryCollection needs a non-empty \"geometries\" list")
            return None, ()
        pieces = [_zone_part(ctx, f, part) for part in parts]
        if any(p[0] is None for p in pieces):
            return None, ()
        layers = tuple(p[1] for p in pieces if p[1] is not None)
        return shapely.union_all([p[0] for p in pieces]), layers
    geom, layer = _zone_part(ctx, f, raw)
    return geom, (layer,) if layer is not None else ()


def _zone_part(ctx: _Context, f: _Fields, raw: Any) -> tuple[BaseGeometry | None, Layer | None]:
    geom = _geometry(ctx, f, raw, ("Polygon", "MultiPolygon", "Point"))
    layer = ed318.layer(f.bad, raw.get("layer")) if isinstance(raw, dict) else None
    if geom is None or not isinstance(geom, Point):
        return geom, layer
    extent = raw.get("extent")
    if not isinstance(extent, dict) or extent.get("subType") != "Circle":
        f.bad("geometry", "a Point zone needs \"extent\": {\"subType\": \"Circle\", \"radius\": metres}")
        return None, layer
    radius = extent.get("radius")
    if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius > 0:
        f.bad("geometry", f"extent radius must be a number of metres greater than 0, got {radius!r}")
        return None, layer
    if ctx.crs is None:
        return None, layer  # region.toml is broken and reported; the circle cannot be measured
    return circle(geom.x, geom.y, float(radius), ctx.crs), layer


def circle(lon: float, lat: float, radius_m: float, metric_crs: CRS | str) -> BaseGeometry:
    """A WGS84 polygon approximating a circle of ``radius_m`` metres measured in ``metric_crs``."""
    to_metric = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    to_wgs84 = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)
    x, y = to_metric.transform(lon, lat)
    ring = Point(x, y).buffer(radius_m, quad_segs=16)
    return shapely.transform(ring, lambda c: np.column_stack(to_wgs84.transform(c[:, 0], c[:, 1])))


def _extended(f: _Fields, raw: Any) -> tuple[str | None, float]:
    """``jp:category`` and the planning buffer (``planning.bufferM`` flat, or nested planning)."""
    if raw is None:
        return None, DEFAULT_BUFFER_M
    if not isinstance(raw, dict):
        f.bad("extendedProperties", f"must be an object, got {raw!r}")
        return None, DEFAULT_BUFFER_M
    category = raw.get("jp:category")
    if category is not None and not isinstance(category, str):
        f.bad("extendedProperties", f"jp:category must be a string, got {category!r}")
        category = None
    buffer = raw.get("planning.bufferM")
    nested = raw.get("planning")
    if isinstance(nested, dict) and nested.get("bufferM") is not None:
        if buffer is not None and buffer != nested["bufferM"]:
            f.bad("extendedProperties", f"planning.bufferM is given twice ({buffer!r} and "
                  f"{nested['bufferM']!r})")
        buffer = nested["bufferM"]
    if buffer is None:
        return category, DEFAULT_BUFFER_M
    if isinstance(buffer, bool) or not isinstance(buffer, int | float) or not buffer >= 0:
        f.bad("extendedProperties", f"planning.bufferM must be a number of metres >= 0, got {buffer!r}")
        return category, DEFAULT_BUFFER_M
    return category, float(buffer)


# --------------------------------------------------------------------------------------- CSV
def _csv_rows(sink: _Sink, folder: Path, name: str, columns: Sequence[str],
              optional: Sequence[str] = ()) -> list[tuple[int, dict[str, str]]] | None:
    """The (line, {column: value}) of each record, after checking the header and cell counts
    (``columns`` are required in the header, ``optional`` ones may be there)."""
    text = _read_text(sink, folder, name)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            sink.add(name, 1, _SYNTAX, f"empty file; expected the header {','.join(columns)}")
            return None
        header = [h.strip() for h in header]
        missing = [c for c in columns if c not in header]
        unknown = [h for h in header if h not in columns and h not in optional]
        for column in missing:
            sink.add(name, 1, column, "required column is missing from the header")
        for column in unknown:
            extra = f"; optional: {','.join(optional)}" if optional else ""
            sink.add(name, 1, column, f"unknown column (expected {','.join(columns)}{extra})")
        if len(set(header)) != len(header):
            sink.add(name, 1, _SYNTAX, "a column name appears twice in the header")
        if missing or unknown or len(set(header)) != len(header):
            return None
        rows = []
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                sink.add(name, reader.line_num, _SYNTAX,
                         f"expected {len(header)} values, found {len(cells)}")
                continue
            rows.append((reader.line_num, dict(zip(header, cells, strict=True))))
    except csv.Error as error:
        sink.add(name, reader.line_num, _SYNTAX, f"malformed CSV: {error}")
        return None
    return rows


def _read_volunteers(ctx: _Context, folder: Path) -> list[VolunteerRecord]:
    rows = _csv_rows(ctx.sink, folder, VOLUNTEERS_FILE, VOLUNTEER_COLUMNS, VOLUNTEER_OPTIONAL)
    seen: dict[str, int] = {}
    volunteers = []
    for line, values in rows or []:
        f = _Fields(ctx.sink, VOLUNTEERS_FILE, line, values, from_text=True)
        code = f.text("id")
        _check_duplicate(f, seen, code)
        name, phone = f.text("name"), f.phone("phone")
        hub_code = f.text("hub_id")
        _check_hub_ref(ctx, f, hub_code)
        mode = f.choice("mode", MODES)
        capacity = f.number("capacity_kg", positive=True)
        parcels = f.number("max_parcels", positive=True)
        if parcels is not None and not parcels.is_integer():
            f.bad("max_parcels", f"must be a whole number, got {values['max_parcels']!r}")
        start, end = f.time("shift_start"), f.time("shift_end")
        if start and end and end <= start:
            f.bad("shift_end", f"shift_end {end:%H:%M} is not after shift_start {start:%H:%M}")
        days = _days(f, f.text("days", required=False))  # none: comes only when called out
        language = f.choice("language", LANGUAGES, required=False, default="ja")
        training = f.text("training", required=False).lower().split()
        for course in training:
            if course not in TRAINING:
                f.bad("training", f"unknown training {course!r} (expected any of {', '.join(TRAINING)})")
        if f.failed or capacity is None or parcels is None or start is None or end is None:
            continue
        volunteers.append(VolunteerRecord(code, name, phone, hub_code, mode, capacity, int(parcels),
                                          start, end, days, language, tuple(dict.fromkeys(training))))
    return volunteers


def _days(f: _Fields, text: str) -> tuple[str, ...]:
    """Weekdays as people write them (``mon wed fri``, ``Mon-Fri``, ``平日``): :mod:`dispatch.weekdays`."""
    if not text:
        return ()
    try:
        return parse_days(text)
    except ValueError as error:
        f.bad("days", str(error))
        return ()


def _read_drones(ctx: _Context, folder: Path) -> list[DroneRecord]:
    rows = _csv_rows(ctx.sink, folder, DRONES_FILE, DRONE_COLUMNS, DRONE_OPTIONAL)
    seen: dict[str, int] = {}
    drones = []
    for line, values in rows or []:
        f = _Fields(ctx.sink, DRONES_FILE, line, values, from_text=True)
        code = f.text("id")
        _check_duplicate(f, seen, code)
        hub_code = f.text("hub_id")
        _check_hub_ref(ctx, f, hub_code, need="drone_port")
        model = f.text("model")
        payload = f.number("payload_kg", positive=True)
        range_km = f.number("range_km", positive=True)
        cruise = f.number("cruise_kmh", positive=True)
        turnaround = f.number("turnaround_min")
        registration = f.text("registration", required=False)
        limits = _limits(f)
        if f.failed or payload is None or range_km is None or cruise is None or turnaround is None:
            continue
        drones.append(DroneRecord(code, hub_code, model, payload, range_km, cruise, turnaround,
                                  registration, limits))
    ctx.drones = {d.code: d.hub_code for d in drones}
    return drones


def _limits(f: _Fields) -> dict[str, float]:
    """The weather limits of a drones.csv row; an empty or absent cell takes the default."""
    out = dict(DEFAULT_LIMITS)
    for name in WEATHER_LIMITS:
        if name == "min_temp_c":  # the only one that may be below zero
            raw = f.text(name, required=False)
            try:
                value: float | None = float(raw) if raw else None
            except ValueError:
                f.bad(name, f"must be a number (°C), got {raw!r}")
                value = None
            if value is not None and not math.isfinite(value):
                f.bad(name, f"must be a finite number, got {raw!r}")
                value = None
        else:
            value = f.number(name, required=False, positive=True)
        if value is not None:
            out[name] = value
    return out


# ----------------------------------------------------------------------------------- permits
def _read_permits(ctx: _Context, folder: Path, zones: Sequence[ZoneRecord]) -> list[PermitRecord]:
    """``permits.csv`` when the folder has one: each permit's hub, drones and zones must exist,
    its drones belong to its hub, its zones need authorisation and its categories be known."""
    if not (folder / PERMITS_FILE).exists():
        return []
    rows = _csv_rows(ctx.sink, folder, PERMITS_FILE, PERMIT_COLUMNS, PERMIT_OPTIONAL)
    zone_types = {z.identifier: z.type for z in zones}
    seen: dict[str, int] = {}
    permits = []
    for line, values in rows or []:
        f = _Fields(ctx.sink, PERMITS_FILE, line, values, from_text=True)
        number = f.text("number")
        _check_duplicate(f, seen, number, "number")
        hub_code = f.text("hub_id")
        _check_hub_ref(ctx, f, hub_code, need="drone_port")
        start, end = _date(f, "valid_from"), _date(f, "valid_until")
        if start and end and end < start:
            f.bad("valid_until", f"{end.isoformat()} is before valid_from {start.isoformat()}")
        categories = _words(f, "categories", CATEGORIES)
        drones = _words(f, "drones")
        for code in drones:
            if ctx.drones is not None and code not in ctx.drones:
                f.bad("drones", f"drone {code!r} does not exist in {DRONES_FILE}")
            elif ctx.drones is not None and hub_code and ctx.drones[code] != hub_code:
                f.bad("drones", f"drone {code!r} belongs to hub {ctx.drones[code]!r}, not {hub_code!r}")
        pilots = tuple(p.strip() for p in f.text("pilots").split(";") if p.strip())
        zone_ids = _words(f, "zones")
        for identifier in zone_ids:
            if identifier not in zone_types:
                f.bad("zones", f"zone {identifier!r} does not exist in {ZONES_FILE}")
            elif zone_types[identifier] not in PERMIT_ZONE_TYPES:
                f.bad("zones", f"zone {identifier!r} is {zone_types[identifier]}: no permit covers it "
                      f"(only {' or '.join(PERMIT_ZONE_TYPES)})")
        holder, notes = f.text("holder", required=False), f.text("notes", required=False)
        if f.failed or start is None or end is None:
            continue
        permits.append(PermitRecord(number, hub_code, start, end, categories, drones, pilots, zone_ids,
                                    holder, notes))
    return permits
def _read_proxies(ctx: _Context, folder: Path,
                  residents: Sequence[ResidentRecord]) -> list[ProxyRecord]:
    """``proxies.csv`` (optional): who may order for (or receive for) a resident, with consent."""
    if not (folder / PROXIES_FILE).exists():
        return []
    rows = _csv_rows(ctx.sink, folder, PROXIES_FILE, PROXY_COLUMNS, PROXY_OPTIONAL)
    phones = {r.code: r.phone for r in residents}
    seen: dict[str, int] = {}
    proxies = []
    for line, values in rows or []:
        f = _Fields(ctx.sink, PROXIES_FILE, line, values, from_text=True)
        code, name, phone = f.text("resident_id"), f.text("name"), f.phone("phone")
        if code and code not in phones:
            f.bad("resident_id", f"resident {code!r} does not exist in {RESIDENTS_FILE}")
        elif code and phone == phones[code]:
            f.bad("phone", f"{phone} is resident {code!r}'s own number: no proxy is needed")
        _check_duplicate(f, seen, f"{code} {phone}", "phone")
        relation = f.choice("relation", PROXY_RELATIONS)
        consented_by, method = f.text("consented_by"), f.choice("consent_method", CONSENT_METHODS)
        day = _date(f, "consented_on")
        covers = f.text("covers").lower().split()
        if any(c not in PROXY_COVERS for c in covers) or len(set(covers)) != len(covers):
            f.bad("covers", f"expected space-separated {' '.join(PROXY_COVERS)}, got {values['covers']!r}")
        note, active = f.text("note", required=False), f.boolean("active", default=True)
        if f.failed or day is None:
            continue
        proxies.append(ProxyRecord(code, name, phone, relation, consented_by, method, day,
                                   "ordering" in covers, "receiving" in covers, note, active))
    return proxies


def _date(f: _Fields, name: str) -> dt.date | None:
    value = f.text(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        f.bad(name, f"must be a date YYYY-MM-DD, got {value!r}")
        return None


def _words(f: _Fields, name: str, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    """Space-separated values, each in ``allowed`` when given; at least one."""
    words = tuple(f.text(name).split())
    unknown = [w for w in words if allowed is not None and w not in allowed]
    if unknown:
        f.bad(name, f"unknown value {unknown[0]!r} (expected space-separated {' '.join(allowed or ())})")
    if len(set(words)) != len(words):
        f.bad(name, f"a value is listed twice in {' '.join(words)!r}")
    return words


# ------------------------------------------------------------------------------ community bus
def _read_bus(ctx: _Context, folder: Path) -> list[BusTripRecord]:
    """``gtfs/`` and ``bus_parcels.csv`` come together: the timetable, and per route (``trip_id``
    empty) or per trip the parcels the drivers agreed to carry and the agreement's reference. A
    trip without a row carries no parcels; a trip row overrides its route's row."""
    has_feed, has_rows = (folder / GTFS_FOLDER).is_dir(), (folder / BUS_FILE).is_file()
    if not has_feed and not has_rows:
        return []
    if not has_feed:
        ctx.sink.add(BUS_FILE, 0, _FILE, f"needs the bus timetable in {GTFS_FOLDER}/ (a GTFS feed)")
        return []
    try:
        trips = read_trips(folder / GTFS_FOLDER)
    except GtfsError as error:
        ctx.sink.add(GTFS_FOLDER, 0, _FILE, str(error))
        return []
    if not has_rows:
        ctx.sink.add(BUS_FILE, 0, _FILE, f"required with {GTFS_FOLDER}/: which trips carry parcels")
        return []
    routes = {t.route_id for t in trips.values()}
    by_route: dict[str, tuple[int, float, str]] = {}
    by_trip: dict[str, tuple[int, float, str]] = {}
    for line, values in _csv_rows(ctx.sink, folder, BUS_FILE, BUS_COLUMNS) or []:
        f = _Fields(ctx.sink, BUS_FILE, line, values, from_text=True)
        route, trip = f.text("route_id"), f.text("trip_id", required=False)
        if route and route not in routes:
            f.bad("route_id", f"route {route!r} is not in {GTFS_FOLDER}/routes.txt (trips.txt)")
        if trip and (trip not in trips or trips[trip].route_id != route):
            f.bad("trip_id", f"trip {trip!r} of route {route!r} is not in {GTFS_FOLDER}/trips.txt")
        parcels, kg = f.number("max_parcels", positive=True), f.number("max_kg", positive=True)
        if parcels is not None and not parcels.is_integer():
            f.bad("max_parcels", f"must be a whole number, got {values['max_parcels']!r}")
        agreement = f.text("agreement")  # no agreement, no parcels: the drivers must have agreed
        if f.failed or parcels is None or kg is None:
            continue
        (by_trip if trip else by_route)[trip or route] = (int(parcels), kg, agreement)
    records = []
    for trip in trips.values():
        terms = by_trip.get(trip.trip_id) or by_route.get(trip.route_id)
        if terms is not None:
            records.append(BusTripRecord(trip, *terms))
    return records


# -------------------------------------------------------------------------------------- entry
def read_region(path: str | Path) -> RegionData:
    """Read and check the region folder at ``path``.

    Raises
    ------
    RegionError
        Listing every problem found, as ``file:row: field: what is wrong``.
    """
    folder = Path(path)
    ctx = _Context(_Sink())
    if not _check_folder(ctx.sink, folder):
        raise RegionError(ctx.sink.problems)
    meta = _read_meta(ctx, folder)
    hubs = _read_hubs(ctx, folder)
    residents = _read_residents(ctx, folder)
    roads = _read_roads(ctx, folder)
    zones = _read_zones(ctx, folder)
    volunteers = _read_volunteers(ctx, folder)
    drones = _read_drones(ctx, folder)
    permits = _read_permits(ctx, folder, zones)
    proxies = _read_proxies(ctx, folder, residents)
    bus_trips = _read_bus(ctx, folder)
    if ctx.sink.problems or meta is None:
        raise RegionError(ctx.sink.problems)
    return RegionData(folder, meta, tuple(hubs), tuple(residents), tuple(roads), tuple(zones),
                      tuple(volunteers), tuple(drones), tuple(permits), tuple(proxies), tuple(bus_trips))
