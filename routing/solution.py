"""Solution data: the plan for one problem (routes, unserved orders with reasons, costs).

Times are integer seconds since the problem's ``t0``; lengths metres; weights kilograms. ISO 8601
strings are derived for people in the JSON form (:mod:`routing.io`) and the GeoJSON export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Stop kinds. ``pickup``: a courier (or drone) takes an order's parcels at a place;
#: ``delivery``: hand-over at the home (couriers) or drop at the drop point (drones);
#: ``load``/``transfer``: a shuttle sortie loads parcels at a supply point and lands them at the hub.
STOP_KINDS: tuple[str, ...] = ("pickup", "delivery", "load", "transfer")
#: Route kinds: a courier's route, a direct drone sortie, a shuttle drone sortie.
ROUTE_KINDS: tuple[str, ...] = ("ground", "direct", "shuttle")
#: Reasons an order is unserved.
REASONS: tuple[str, ...] = ("no_eligible_vehicle", "time_window", "capacity", "range", "zone")


@dataclass(frozen=True)
class Stop:
    """One visit. ``place`` is the place id for stops at the hub or a supply point, else None.

    ``arrival`` is when the vehicle reaches the location, ``start`` when service starts (waiting
    for the window in between), ``departure`` when it leaves; ``load_kg``/``load_parcels`` are on
    board after the stop; ``distance_m`` is the length of the leg that leads here; ``via`` the
    intermediate WGS84 waypoints of that leg for drones (the detour around no-fly zones; empty for
    a straight leg and for couriers, whose legs follow the roads).
    """

    order_id: str
    kind: str
    lon: float
    lat: float
    arrival: int
    start: int
    departure: int
    load_kg: float
    load_parcels: int
    distance_m: int
    place: str | None = None
    via: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Route:
    """A courier's route or one drone sortie (``sortie`` numbers 1, 2, ... per drone).

    ``start`` is the departure from ``start_place``, ``end`` the arrival at ``end_place``;
    ``start_load_kg``/``start_parcels`` are loaded before leaving (parcels already at the start
    place); ``end_distance_m`` is the length of the last leg, back to ``end_place``, and
    ``end_via`` its waypoints (drones).
    """

    vehicle_id: str
    mode: str
    kind: str
    start_place: str
    end_place: str
    start: int
    end: int
    stops: tuple[Stop, ...]
    start_load_kg: float = 0.0
    start_parcels: int = 0
    end_distance_m: int = 0
    sortie: int | None = None
    end_via: tuple[tuple[float, float], ...] = ()

    @property
    def distance_m(self) -> int:
        """Total length of the route in metres."""
        return sum(s.distance_m for s in self.stops) + self.end_distance_m

    @property
    def duration_s(self) -> int:
        """Seconds from departure to arrival at the end place."""
        return self.end - self.start


@dataclass(frozen=True)
class Unserved:
    """An order the plan does not serve: ``reason`` is one of :data:`REASONS`, ``detail`` says why
    in words."""

    order_id: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Cost:
    """Objective breakdown in cost units (see :class:`routing.problem.Weights`)."""

    time: int = 0
    distance: int = 0
    fixed: int = 0
    unserved: int = 0

    @property
    def total(self) -> int:
        """Sum of the parts."""
        return self.time + self.distance + self.fixed + self.unserved


@dataclass(frozen=True)
class Solution:
    """A plan: routes, unserved orders, cost, kilometres by mode and solver statistics.

    ``solve()`` returns this (``Result`` is an alias). ``stats`` holds numbers about the run
    (``matrix_s``, ``solve_s``, ``strategy``, ``objective``...), not part of the plan itself.
    """

    routes: tuple[Route, ...] = ()
    unserved: tuple[Unserved, ...] = ()
    cost: Cost = field(default_factory=Cost)
    km_by_mode: dict[str, float] = field(default_factory=dict)
    runtime_s: float = 0.0
    feasible: bool = True
    stats: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def served(self) -> set[str]:
        """Ids of orders delivered by some route."""
        return {s.order_id for r in self.routes for s in r.stops if s.kind == "delivery"}

    def routes_of(self, vehicle_id: str) -> list[Route]:
        """Routes of one vehicle (a courier has one; a drone one per sortie), in time order."""
        return sorted((r for r in self.routes if r.vehicle_id == vehicle_id), key=lambda r: r.start)


Result = Solution
