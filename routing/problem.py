"""Problem data: frozen dataclasses describing one hub batch to plan.

Conventions
-----------
- Coordinates are WGS84 (longitude, latitude) in degrees. Every distance or geometric test is made
  after projecting to the problem's metric CRS (``Problem.crs``, e.g. ``EPSG:6673``; metres).
- Times are integer seconds since ``Problem.t0`` (a timezone-aware datetime); ISO 8601 strings
  with offset are produced only for people (JSON solutions, GeoJSON export).
- Weights are kilograms, lengths metres, speeds metres per second unless a name says otherwise
  (``maxspeed_kmh``).

A :class:`Problem` validates itself on construction and raises :class:`ProblemError` listing every
problem found, each naming the offending object (``order 'o7': ...``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from routing.geo import CrsError, geometry_to_metric, in_valid_area, metric_crs, to_metric
from routing.permits import Permit, check_permits, covering

GROUND_MODES: tuple[str, ...] = ("walk", "bicycle", "car")
DRONE = "drone"
ALL_MODES: tuple[str, ...] = (*GROUND_MODES, DRONE)
ROAD_KINDS: tuple[str, ...] = ("primary", "secondary", "local", "track", "path")
PRIORITIES: tuple[int, ...] = (1, 2, 3)
#: Segments per quarter circle of the canonical zone buffer (see :meth:`Zone.buffered`).
BUFFER_QUAD_SEGS = 16


class ProblemError(ValueError):
    """A malformed or impossible problem. ``problems`` lists every message (one per issue)."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        items = [problems] if isinstance(problems, str) else list(problems)
        self.problems: tuple[str, ...] = tuple(items)
        super().__init__("; ".join(items) if len(items) <= 1 else "\n  - ".join(["", *items]))


@dataclass(frozen=True)
class Place:
    """A fixed place: the hub (depot) or a supply point (post office, shop) where goods start."""

    id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Vehicle:
    """A volunteer courier.

    ``shift_start``/``shift_end`` are seconds since t0; ``start``/``end`` are place ids (the hub or
    a supply point). ``max_duration`` bounds end - start of the route in seconds (None = shift
    length). ``fixed_cost`` overrides ``Weights.volunteer_fixed`` when not None. A courier can carry
    parcels already at the hub only if it starts at the hub (they are loaded before leaving).
    ``skills`` names the training the courier completed (an order's ``needs`` must be among them).
    """

    id: str
    mode: str
    capacity_kg: float
    max_parcels: int
    shift_start: int
    shift_end: int
    start: str
    end: str
    max_duration: int | None = None
    fixed_cost: int | None = None
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Drone:
    """A delivery drone based at place ``base``.

    ``range_m`` is the longest flight of one sortie including the way back; ``cruise_mps`` its
    speed; ``turnaround_s`` the time on the ground between two sorties (battery swap, loading);
    ``max_sorties`` the number of sorties in the batch; ``max_drops`` the number of drop points a
    direct sortie may visit; ``drop_s`` the time to lower one parcel at a drop point;
    ``available_from``/``available_until`` the drone's window in seconds since t0
    (None = the problem horizon).
    """

    id: str
    base: str
    payload_kg: float
    range_m: float
    cruise_mps: float
    turnaround_s: int
    max_sorties: int
    max_drops: int = 1
    drop_s: int = 60
    available_from: int = 0
    available_until: int | None = None


@dataclass(frozen=True)
class Order:
    """A delivery to a resident.

    ``window`` is (earliest, latest) service start in seconds since t0; ``priority`` 1 (most
    urgent) to 3; ``origin`` the place id where the parcels are (the hub or a supply point);
    ``home`` the (lon, lat) where couriers hand over; ``drop`` the drone drop point (None = no drone
    delivery); ``modes`` the modes allowed to carry it to the resident (subset of
    ``walk, bicycle, car, drone``); ``needs`` the skills its courier must have (medicine, a welfare
    visit: see :func:`carries`).
    """

    id: str
    weight_kg: float
    home: tuple[float, float]
    window: tuple[int, int]
    origin: str
    parcels: int = 1
    service_s: int = 120
    priority: int = 2
    drop: tuple[float, float] | None = None
    modes: frozenset[str] = frozenset(ALL_MODES)
    needs: frozenset[str] = frozenset()


def carries(vehicle: Vehicle, order: Order) -> bool:
    """Whether courier ``vehicle`` may deliver ``order``: an allowed mode and every needed skill."""
    return vehicle.mode in order.modes and order.needs <= vehicle.skills


@dataclass(frozen=True)
class Zone:
    """An active no-fly zone: WGS84 ``geometry`` (Polygon/MultiPolygon; a Point for a circle with
    ``buffer_m`` as its radius) and a safety buffer in metres. Every zone given is active for the
    whole batch (the caller passes only zones active at some time during it). ``category`` is the
    特定飛行 a flight through it is (:data:`routing.permits.CATEGORIES`): a drone may cross it
    under a covering :class:`~routing.permits.Permit`; None = never (prohibited)."""

    id: str
    geometry: BaseGeometry
    buffer_m: float = 0.0
    category: str | None = None

    def buffered(self, crs: str) -> BaseGeometry:
        """The canonical buffered zone in ``crs`` metres (round joins, 16 segments per quarter)."""
        metric = geometry_to_metric(crs, self.geometry)
        if self.buffer_m <= 0 and metric.area > 0:
            return metric
        return metric.buffer(max(self.buffer_m, 0.0), quad_segs=BUFFER_QUAD_SEGS)


@dataclass(frozen=True)
class Road:
    """A road segment: WGS84 ``coords`` (lon, lat) in order; ``oneway`` applies to cars only (in
    the direction of the coordinates); ``car`` False closes it to cars; ``maxspeed_kmh`` caps the
    car speed (None = the kind's default)."""

    id: str
    kind: str
    coords: tuple[tuple[float, float], ...]
    maxspeed_kmh: float | None = None
    oneway: bool = False
    car: bool = True


@dataclass(frozen=True)
class Weights:
    """Objective weights, in integer cost units.

    ``time_per_s`` per second of travel, waiting and service; ``distance_per_m`` per metre;
    ``volunteer_fixed`` per volunteer called out (a route that serves at least one stop);
    ``unserved`` the penalty for an unserved order by priority (1, 2, 3).
    """

    time_per_s: int = 1
    distance_per_m: int = 0
    volunteer_fixed: int = 1800
    unserved: tuple[int, int, int] = (1_000_000, 300_000, 100_000)


@dataclass(frozen=True)
class Problem:
    """One batch to plan around a hub. See the module docstring for units and CRS."""

    crs: str
    timezone: str
    t0: datetime
    hub: Place
    vehicles: tuple[Vehicle, ...] = ()
    drones: tuple[Drone, ...] = ()
    orders: tuple[Order, ...] = ()
    supply_points: tuple[Place, ...] = ()
    zones: tuple[Zone, ...] = ()
    roads: tuple[Road, ...] = ()
    weights: Weights = field(default_factory=Weights)
    pickup_service_s: int = 60
    name: str = ""
    permits: tuple[Permit, ...] = ()

    def __post_init__(self) -> None:
        for name in ("vehicles", "drones", "orders", "supply_points", "zones", "roads", "permits"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        problems = _check(self)
        if problems:
            raise ProblemError(problems)

    # --- derived data -----------------------------------------------------------------------
    @property
    def places(self) -> dict[str, Place]:
        """Hub and supply points by id."""
        return {p.id: p for p in (self.hub, *self.supply_points)}

    @property
    def horizon(self) -> int:
        """Last second that matters: the latest shift end, window end or drone availability."""
        ends = [v.shift_end for v in self.vehicles]
        ends += [o.window[1] for o in self.orders]
        ends += [d.available_until for d in self.drones if d.available_until is not None]
        return max([*ends, 0])

    @property
    def obstacles(self) -> tuple[Zone, ...]:
        """The zones drones fly around: every zone but those each drone of the problem may cross
        under a permit for the whole of its availability (see :mod:`routing.permits`)."""
        if not self.permits or not self.drones:
            return self.zones
        until = self.horizon
        return tuple(
            z for z in self.zones
            if not all(covering(self.permits, z.id, z.category, d.id, d.available_from,
                                d.available_until if d.available_until is not None else until)
                       for d in self.drones)
        )

    def order(self, order_id: str) -> Order:
        """The order with id ``order_id`` (KeyError if none)."""
        for o in self.orders:
            if o.id == order_id:
                return o
        raise KeyError(order_id)

    def vehicle(self, vehicle_id: str) -> Vehicle | Drone:
        """The courier or drone with id ``vehicle_id`` (KeyError if none)."""
        for v in self.vehicles:
            if v.id == vehicle_id:
                return v
        for d in self.drones:
            if d.id == vehicle_id:
                return d
        raise KeyError(vehicle_id)

    def at(self, seconds: float) -> datetime:
        """Aware datetime (in the problem's timezone) of ``seconds`` since t0."""
        return (self.t0 + timedelta(seconds=float(seconds))).astimezone(ZoneInfo(self.timezone))

    def iso(self, seconds: float) -> str:
        """ISO 8601 string with offset of ``seconds`` since t0."""
        return self.at(seconds).isoformat()


# --- validation ------------------------------------------------------------------------------


def _finite(*values: float) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _lonlat_ok(lon: float, lat: float) -> bool:
    return _finite(lon, lat) and -180 <= lon <= 180 and -90 <= lat <= 90


def _check(p: Problem) -> list[str]:
    out: list[str] = []
    try:
        metric_crs(p.crs)
    except CrsError as exc:
        return [f"crs: {exc}"]
    try:
        ZoneInfo(p.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        out.append(f"timezone: unknown time zone {p.timezone!r}")
    if not isinstance(p.t0, datetime) or p.t0.utcoffset() is None:
        out.append(f"t0: {p.t0!r} must be a timezone-aware datetime")
    out += _check_ids(p)
    out += _check_points(p)
    out += _check_vehicles(p)
    out += _check_orders(p)
    out += _check_roads(p)
    out += check_permits(p.permits)
    if not out:
        out += _check_zones(p)
        out += _check_feasibility(p)
    w = p.weights
    if min(w.time_per_s, w.distance_per_m, w.volunteer_fixed) < 0 or len(w.unserved) != 3:
        out.append("weights: every weight must be >= 0 and unserved must have 3 penalties")
    elif min(w.unserved) < 0:
        out.append("weights: unserved penalties must be >= 0")
    if p.pickup_service_s < 0:
        out.append(f"pickup_service_s: {p.pickup_service_s} must be >= 0")
    return out


def _check_ids(p: Problem) -> list[str]:
    out = []
    groups = {
        "place": [x.id for x in (p.hub, *p.supply_points)],
        "vehicle": [v.id for v in p.vehicles] + [d.id for d in p.drones],
        "order": [x.id for x in p.orders],
        "zone": [x.id for x in p.zones],
        "road": [x.id for x in p.roads],
    }
    for kind, ids in groups.items():
        seen: set[str] = set()
        for i in ids:
            if not isinstance(i, str) or not i:
                out.append(f"{kind} id {i!r}: ids must be non-empty strings")
            elif i in seen:
                out.append(f"{kind} '{i}': duplicate id")
            seen.add(i)
    return out


def _check_points(p: Problem) -> list[str]:
    out = []
    named: list[tuple[str, tuple[float, float]]] = [
        (f"place '{pl.id}'", (pl.lon, pl.lat)) for pl in (p.hub, *p.supply_points)
    ]
    for o in p.orders:
        named.append((f"order '{o.id}' home", tuple(o.home)))  # type: ignore[arg-type]
        if o.drop is not None:
            named.append((f"order '{o.id}' drop point", tuple(o.drop)))  # type: ignore[arg-type]
    good = []
    for name, (lon, lat) in named:
        if not _lonlat_ok(lon, lat):
            out.append(f"{name}: ({lon}, {lat}) is not a WGS84 longitude/latitude")
        else:
            good.append((name, (lon, lat)))
    if good:
        mask = in_valid_area(p.crs, np.array([xy for _, xy in good]))
        for (name, (lon, lat)), ok in zip(good, mask, strict=True):
            if not ok:
                out.append(f"{name}: ({lon}, {lat}) lies outside the area of {p.crs}")
    return out


def _check_vehicles(p: Problem) -> list[str]:
    out = []
    places = p.places
    for v in p.vehicles:
        where = f"vehicle '{v.id}'"
        if v.mode not in GROUND_MODES:
            out.append(f"{where}: mode {v.mode!r} is not one of {', '.join(GROUND_MODES)}")
        if not _finite(v.capacity_kg) or v.capacity_kg <= 0:
            out.append(f"{where}: capacity_kg {v.capacity_kg} must be > 0")
        if not isinstance(v.max_parcels, int) or v.max_parcels <= 0:
            out.append(f"{where}: max_parcels {v.max_parcels} must be a positive integer")
        if v.shift_end <= v.shift_start:
            out.append(f"{where}: shift ends ({v.shift_end}) before it starts ({v.shift_start})")
        for end in ("start", "end"):
            if getattr(v, end) not in places:
                out.append(f"{where}: {end} place {getattr(v, end)!r} does not exist")
        if v.max_duration is not None and v.max_duration <= 0:
            out.append(f"{where}: max_duration {v.max_duration} must be > 0")
        if v.fixed_cost is not None and v.fixed_cost < 0:
            out.append(f"{where}: fixed_cost {v.fixed_cost} must be >= 0")
    for d in p.drones:
        where = f"drone '{d.id}'"
        if d.base not in places:
            out.append(f"{where}: base place {d.base!r} does not exist")
        for name in ("payload_kg", "range_m", "cruise_mps"):
            value = getattr(d, name)
            if not _finite(value) or value <= 0:
                out.append(f"{where}: {name} {value} must be > 0")
        for name in ("turnaround_s", "drop_s"):
            if getattr(d, name) < 0:
                out.append(f"{where}: {name} {getattr(d, name)} must be >= 0")
        for name in ("max_sorties", "max_drops"):
            if getattr(d, name) < 1:
                out.append(f"{where}: {name} {getattr(d, name)} must be >= 1")
        if d.available_until is not None and d.available_until <= d.available_from:
            out.append(f"{where}: available_until is not after available_from")
    return out


def _check_orders(p: Problem) -> list[str]:
    out = []
    places = p.places
    for o in p.orders:
        where = f"order '{o.id}'"
        if not _finite(o.weight_kg) or o.weight_kg < 0:
            out.append(f"{where}: weight_kg {o.weight_kg} must be >= 0")
        if not isinstance(o.parcels, int) or o.parcels < 1:
            out.append(f"{where}: parcels {o.parcels} must be a positive integer")
        if o.service_s < 0:
            out.append(f"{where}: service_s {o.service_s} must be >= 0")
        if len(o.window) != 2 or o.window[1] < o.window[0]:
            out.append(f"{where}: window {tuple(o.window)} closes before it opens")
        if o.priority not in PRIORITIES:
            out.append(f"{where}: priority {o.priority} must be 1, 2 or 3")
        if o.origin not in places:
            out.append(f"{where}: origin place {o.origin!r} does not exist")
        bad = set(o.modes) - set(ALL_MODES)
        if bad:
            out.append(f"{where}: unknown modes {sorted(bad)} (allowed: {', '.join(ALL_MODES)})")
        if not o.modes:
            out.append(f"{where}: no allowed mode")
    return out


def _check_roads(p: Problem) -> list[str]:
    out = []
    for r in p.roads:
        where = f"road '{r.id}'"
        if r.kind not in ROAD_KINDS:
            out.append(f"{where}: kind {r.kind!r} is not one of {', '.join(ROAD_KINDS)}")
        if len(r.coords) < 2:
            out.append(f"{where}: needs at least 2 coordinates")
        elif not all(_lonlat_ok(*c) for c in r.coords):
            out.append(f"{where}: coordinates are not WGS84 longitude/latitude")
        if r.maxspeed_kmh is not None and (not _finite(r.maxspeed_kmh) or r.maxspeed_kmh <= 0):
            out.append(f"{where}: maxspeed_kmh {r.maxspeed_kmh} must be > 0")
    return out


def _check_zones(p: Problem) -> list[str]:
    out = []
    buffered = []
    obstacles = {z.id for z in p.obstacles}
    for z in p.zones:
        where = f"zone '{z.id}'"
        g = z.geometry
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon", "Point"):
            out.append(f"{where}: geometry must be a Polygon, MultiPolygon or Point")
            continue
        if not g.is_valid:
            out.append(f"{where}: invalid geometry ({shapely.is_valid_reason(g)})")
            continue
        if z.buffer_m < 0 or (g.geom_type == "Point" and z.buffer_m <= 0):
            out.append(f"{where}: buffer_m {z.buffer_m} must be >= 0 (> 0 for a Point)")
            continue
        if z.id in obstacles:
            buffered.append((z, z.buffered(p.crs)))
    for place in (p.hub, *p.supply_points):
        port = any(d.base == place.id for d in p.drones)
        if not port and place.id != p.hub.id:
            continue
        pt = shapely.Point(to_metric(p.crs, np.array([[place.lon, place.lat]]))[0])
        for z, zone in buffered:
            if zone.intersects(pt):
                kind = "hub" if place.id == p.hub.id else "drone base"
                out.append(
                    f"{kind} '{place.id}' at ({place.lon}, {place.lat}) lies inside no-fly zone "
                    f"'{z.id}' (buffer {z.buffer_m:g} m)"
                )
    return out


def _check_feasibility(p: Problem) -> list[str]:
    """Orders no vehicle could ever serve: too heavy for everything, window before every shift."""
    out = []
    for o in p.orders:
        ground = [v for v in p.vehicles if carries(v, o)]
        drones = [d for d in p.drones if DRONE in o.modes and o.drop is not None]
        carriers: list[tuple[float, int, int]] = [
            (v.capacity_kg, v.shift_start, v.shift_end) for v in ground
        ]
        carriers += [
            (d.payload_kg, d.available_from, d.available_until or p.horizon) for d in drones
        ]
        if not carriers:
            continue  # reported as unserved ("no eligible vehicle"), not a malformed problem
        heaviest = max(c[0] for c in carriers)
        if o.weight_kg > heaviest:
            out.append(
                f"order '{o.id}': weight {o.weight_kg:g} kg is heavier than every vehicle that "
                f"may carry it (largest capacity {heaviest:g} kg)"
            )
        first_open = min(c[1] for c in carriers)
        if o.window[1] < first_open:
            out.append(
                f"order '{o.id}': time window closes at {p.iso(o.window[1])}, before every shift "
                f"opens (earliest {p.iso(first_open)})"
            )
    return out
