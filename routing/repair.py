"""Plan repair: change a solved plan a little, without solving it again.

A plan's routes are what couriers and residents were told. When an operator edits a proposed plan
(move, reorder, drop a stop) or the day changes under a confirmed one (a courier calls off, a
resident cancels, drones are grounded), only the routes that must change are changed; a new solve
would reshuffle every route for the sake of a few stops. This module holds the mechanics, on
routing's own types (:class:`~routing.Problem`, :class:`~routing.Solution`,
:class:`~routing.Route`), with no database:

- :func:`time_route` times a courier's stops in the order given on the roads: arrival, service
  start (waiting for the window to open) and departure of each stop, leaving at a given time or at
  the shift start, never skipping anything. :func:`schedule` is the timing rule itself, shared with
  the solver's decoding (:func:`routing.solve`); :func:`retime` re-times a route with new stops;
- :func:`remove_orders` takes orders off routes (courier routes re-timed, direct drone sorties
  gone, shuttle stops dropped, each drone's sorties renumbered); :func:`drop_orders` takes them out
  of the problem as well; :func:`move_order` and :func:`reorder` are the operator's edits;
- :func:`cheapest_insertion` puts an order where it adds least route time on a courier on shift,
  after the courier's last handled stop, when the route still fits (:func:`fits`: capacity,
  windows, shift, duration); :func:`insert_orders` does so for several orders, most urgent first.

Nothing here judges a whole plan: :func:`routing.validate` has the final word, and an edited plan
may well be invalid (stored with its violations and fixed by the operator). Drone sorties are never
re-timed: they carry one drop each, so an order off a sortie removes that sortie.

Units as everywhere in ``routing``: times in integer seconds since ``Problem.t0``, lengths in metres
(the problem's metric CRS), coordinates WGS84 (lon, lat). No function mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from routing.problem import DRONE, Problem, Vehicle, carries
from routing.solution import Route, Solution, Stop, Unserved
from routing.travel import UNREACHABLE, shared_network

#: One timed visit: (arrival, service start, departure), seconds since t0.
Visit = tuple[int, int, int]
_Point = tuple[float, float]


class RepairError(ValueError):
    """An edit that cannot be made on this plan (the message names the offending value)."""


# --- timing ----------------------------------------------------------------------------------


def schedule(
    depart: int, legs: Sequence[int], opens: Sequence[int], services: Sequence[int]
) -> tuple[list[Visit], int]:
    """Earliest times of a route that visits its stops in the order given.

    The vehicle leaves at ``depart``; at each stop service starts on arrival or when the stop
    opens, whichever is later, and lasts its service time; then the next leg.

    Parameters
    ----------
    depart
        When the vehicle leaves its start place.
    legs
        Travel seconds of every leg: start place to the first stop, ..., the last stop to the end
        place (one more than there are stops).
    opens
        Per stop, the earliest service start (the window's opening).
    services
        Per stop, the seconds of service.

    Returns
    -------
    visits : list of (arrival, service start, departure)
        One per stop.
    end : int
        Arrival at the end place.

    Raises
    ------
    ValueError
        The sequences do not have matching lengths.
    """
    if len(legs) != len(opens) + 1 or len(services) != len(opens):
        raise ValueError(f"schedule: {len(opens)} stops need {len(opens) + 1} legs and "
                         f"{len(opens)} service times, not {len(legs)} and {len(services)}")
    t, visits = depart, []
    for leg, opens_at, service in zip(legs[:-1], opens, services, strict=True):
        arrival = t + leg
        begin = max(arrival, opens_at)
        t = begin + service
        visits.append((arrival, begin, t))
    return visits, t + legs[-1]


class RoadLegs:
    """Road lengths and travel times between the points of a problem's courier routes.

    One road table (:meth:`routing.travel.RoadNetwork.table`) per mode holds every point asked for
    so far; a request with new points rebuilds it once over all of them. A caller that tries many
    sequences (every position of every courier) therefore pays matrix lookups, not a shortest-path
    search per try. Only the problem's roads and CRS are used, so one instance serves versions of
    a problem that differ in their orders.

    Parameters
    ----------
    problem
        The problem whose roads (WGS84) and metric CRS give the legs.
    """

    def __init__(self, problem: Problem) -> None:
        self._network = shared_network(problem.roads, problem.crs)
        self._tables: dict[str, tuple[dict[_Point, int], np.ndarray, np.ndarray]] = {}

    def between(self, mode: str, points: Sequence[_Point]) -> tuple[np.ndarray, np.ndarray]:
        """Metres and seconds (int64 matrices, :data:`~routing.travel.UNREACHABLE` where no path)
        between ``points`` (WGS84 lon, lat) for ``mode``, rows and columns in the order given."""
        index, dist, dur = self._tables.get(mode, ({}, np.zeros((0, 0)), np.zeros((0, 0))))
        missing = [p for p in dict.fromkeys(points) if p not in index]
        if missing:
            every = [*index, *missing]
            table = self._network.table(np.array(every), modes=[mode])
            index = {p: i for i, p in enumerate(every)}
            dist, dur = table.distance[mode], table.duration[mode]
            self._tables[mode] = (index, dist, dur)
        ids = [index[p] for p in points]
        return dist[np.ix_(ids, ids)], dur[np.ix_(ids, ids)]


def time_route(
    problem: Problem,
    vehicle: Vehicle,
    stops: Sequence[Stop],
    depart: int | None = None,
    *,
    legs: RoadLegs | None = None,
) -> Route:
    """The courier route of ``vehicle`` visiting ``stops`` in this order, timed on the roads.

    Deliveries wait for their window to open; pickups start on arrival and last the problem's
    ``pickup_service_s``. Parcels delivered without a pickup on the route are loaded at the start.
    Nothing is checked (a late stop stays late: see :func:`fits` and :func:`routing.validate`); an
    unreachable leg counts :data:`~routing.travel.UNREACHABLE` seconds.

    Parameters
    ----------
    problem
        The problem the stops' orders belong to.
    vehicle
        The courier.
    stops
        The visits in order; only their order, kind and location count (times and loads are set
        here).
    depart
        When the courier leaves (never before the shift starts); default the shift start.
    legs
        Road legs to reuse across calls (default: a new :class:`RoadLegs`).

    Returns
    -------
    Route
        A ``ground`` route with every stop's times, loads and leg length.

    Raises
    ------
    RepairError
        ``stops`` is empty (a courier route has at least one stop).
    """
    if not stops:
        raise RepairError(f"courier '{vehicle.id}': a route needs at least one stop")
    legs = legs if legs is not None else RoadLegs(problem)
    places = problem.places
    start, end = places[vehicle.start], places[vehicle.end]
    points = [(start.lon, start.lat), *((s.lon, s.lat) for s in stops), (end.lon, end.lat)]
    dist, dur = legs.between(vehicle.mode, points)
    orders = {o.id: o for o in problem.orders}
    picked_here = {s.order_id for s in stops if s.kind == "pickup"}
    preloaded = [orders[s.order_id] for s in stops
                 if s.kind == "delivery" and s.order_id not in picked_here]
    first = vehicle.shift_start if depart is None else max(depart, vehicle.shift_start)
    travel = [int(min(dur[k, k + 1], UNREACHABLE)) for k in range(len(stops) + 1)]
    deliveries = [s.kind == "delivery" for s in stops]
    opens = [orders[s.order_id].window[0] if d else first for s, d in zip(stops, deliveries, strict=True)]
    services = [orders[s.order_id].service_s if d else problem.pickup_service_s
                for s, d in zip(stops, deliveries, strict=True)]
    visits, end_at = schedule(first, travel, opens, services)
    start_kg, start_parcels = sum(o.weight_kg for o in preloaded), sum(o.parcels for o in preloaded)
    kg, parcels, out = start_kg, start_parcels, []
    for k, (stop, (arrival, begin, leave)) in enumerate(zip(stops, visits, strict=True)):
        order = orders[stop.order_id]
        sign = -1 if deliveries[k] else 1
        kg, parcels = kg + sign * order.weight_kg, parcels + sign * order.parcels
        out.append(replace(stop, arrival=arrival, start=begin, departure=leave,
                           load_kg=round(max(kg, 0.0), 6), load_parcels=parcels,
                           distance_m=int(dist[k, k + 1])))
    n = len(stops)
    return Route(
        vehicle_id=vehicle.id, mode=vehicle.mode, kind="ground", start_place=vehicle.start,
        end_place=vehicle.end, start=first, end=end_at, stops=tuple(out),
        start_load_kg=round(start_kg, 6), start_parcels=start_parcels,
        end_distance_m=int(dist[n, n + 1]),
    )


def retime(
    problem: Problem, route: Route, stops: Sequence[Stop] | None = None, *, legs: RoadLegs | None = None
) -> Route:
    """Courier ``route`` visiting ``stops`` (default its own) and leaving when it did
    (:func:`time_route`). Raises :class:`RepairError` for a drone sortie or no stops."""
    return time_route(problem, _courier(problem, route.vehicle_id),
                      route.stops if stops is None else stops, route.start, legs=legs)


def stops_for(problem: Problem, routes: Iterable[Route], vehicle: Vehicle, order_id: str) -> list[Stop]:
    """The stops ``vehicle`` needs to serve ``order_id`` (untimed: :func:`time_route` times them).

    Parcels already at the courier's start place need only a delivery; parcels a drone shuttle of
    ``routes`` lands at the hub are picked up there; any others at their supply point.
    """
    order = problem.order(order_id)
    out = []
    if order.origin != vehicle.start:
        shuttled = any(st.kind == "transfer" and st.order_id == order_id for r in routes for st in r.stops)
        place = problem.places[problem.hub.id if shuttled else order.origin]
        out.append(_blank(order_id, "pickup", place.lon, place.lat, place.id))
    out.append(_blank(order_id, "delivery", *order.home, None))
    return out


def _blank(order_id: str, kind: str, lon: float, lat: float, place: str | None) -> Stop:
    return Stop(order_id=order_id, kind=kind, lon=lon, lat=lat, arrival=0, start=0, departure=0,
                load_kg=0.0, load_parcels=0, distance_m=0, place=place)


def _courier(problem: Problem, vehicle_id: str) -> Vehicle:
    for v in problem.vehicles:
        if v.id == vehicle_id:
            return v
    raise RepairError(f"vehicle '{vehicle_id}' is not a courier of problem '{problem.name}'")


# --- removing --------------------------------------------------------------------------------


def remove_orders(
    problem: Problem, routes: Iterable[Route], order_ids: Iterable[str], *, legs: RoadLegs | None = None
) -> list[Route]:
    """``routes`` with every stop of ``order_ids`` taken off.

    Their direct drone sorties go, their stops on shuttle sorties go (each drone's sorties are
    renumbered 1, 2, ... in time order); each courier route that had one of their stops is re-timed
    from its departure (:func:`retime`) and goes when nothing is left on it. The others are kept
    as they are, couriers first.
    """
    ids = set(order_ids)
    kept = list(routes)
    for order_id in sorted(ids):
        kept = _off_drones(kept, order_id)
    legs = legs if legs is not None else RoadLegs(problem)
    out = []
    for r in kept:
        if r.mode != DRONE and any(st.order_id in ids for st in r.stops):
            stops = [st for st in r.stops if st.order_id not in ids]
            if stops:
                out.append(retime(problem, r, stops, legs=legs))
        else:
            out.append(r)
    return out


def _off_drones(routes: list[Route], order_id: str) -> list[Route]:
    """Drone routes without ``order_id`` (its direct sortie gone, its shuttle stops dropped), each
    drone's sorties renumbered in time order; couriers first."""
    kept: list[Route] = []
    for r in routes:
        if r.mode != DRONE:
            kept.append(r)
            continue
        if r.kind == "direct" and any(st.order_id == order_id for st in r.stops):
            continue
        stops = tuple(st for st in r.stops if st.order_id != order_id)
        if stops:
            kept.append(replace(r, stops=stops))
    count: dict[str, int] = {}
    out = []
    for r in sorted(kept, key=lambda r: (r.mode == DRONE, r.vehicle_id, r.start)):
        if r.mode == DRONE:
            count[r.vehicle_id] = count.get(r.vehicle_id, 0) + 1
            r = replace(r, sortie=count[r.vehicle_id])
        out.append(r)
    return out


def drop_orders(
    problem: Problem, solution: Solution, order_ids: Collection[str], *, legs: RoadLegs | None = None
) -> tuple[Problem, Solution]:
    """The problem and solution with ``order_ids`` taken out entirely (off every route, out of the
    orders and the unserved list): what a cancelled or dropped order leaves."""
    routes = remove_orders(problem, solution.routes, order_ids, legs=legs)
    smaller = replace(problem, orders=tuple(o for o in problem.orders if o.id not in order_ids))
    unserved = tuple(u for u in solution.unserved if u.order_id not in order_ids)
    return smaller, with_routes(solution, routes, unserved)


# --- operator edits --------------------------------------------------------------------------


def move_order(
    problem: Problem, solution: Solution, order_id: str, vehicle_id: str, position: int,
    *, legs: RoadLegs | None = None,
) -> Solution:
    """``solution`` with ``order_id`` moved onto courier ``vehicle_id``, its stops before stop
    index ``position`` of the courier's route (0-based; beyond the end appends; a courier without a
    route gets one from its shift start). Every route it leaves and the courier's are re-timed."""
    vehicle = _courier(problem, vehicle_id)
    legs = legs if legs is not None else RoadLegs(problem)
    routes = remove_orders(problem, solution.routes, {order_id}, legs=legs)
    target = next((r for r in routes if r.vehicle_id == vehicle_id and r.mode != DRONE), None)
    stops = list(target.stops) if target is not None else []
    at = max(0, min(position, len(stops)))
    stops[at:at] = stops_for(problem, solution.routes, vehicle, order_id)
    new = time_route(problem, vehicle, stops, target.start if target is not None else None, legs=legs)
    return with_routes(solution, in_solver_order([*(r for r in routes if r is not target), new]))


def reorder(problem: Problem, solution: Solution, vehicle_id: str, order_ids: Sequence[str]) -> Solution:
    """``solution`` with courier ``vehicle_id`` delivering in the order ``order_ids`` (each
    delivered order of its route exactly once; pickups keep their places), re-timed.

    Raises
    ------
    RepairError
        The courier has no route, or ``order_ids`` is not its deliveries.
    """
    route = next((r for r in solution.routes if r.vehicle_id == vehicle_id and r.mode != DRONE), None)
    if route is None:
        raise RepairError(f"courier {vehicle_id} has no route in this plan")
    deliveries = {st.order_id: st for st in route.stops if st.kind == "delivery"}
    if sorted(order_ids) != sorted(deliveries):
        raise RepairError(f"reorder must list each order of the route once: {sorted(deliveries)}")
    queue = iter(order_ids)
    stops = [deliveries[next(queue)] if st.kind == "delivery" else st for st in route.stops]
    new = retime(problem, route, stops)
    return with_routes(solution, [new if r is route else r for r in solution.routes])


# --- inserting -------------------------------------------------------------------------------


def fits(problem: Problem, vehicle: Vehicle, route: Route) -> bool:
    """Whether a timed courier route keeps its vehicle's limits and its orders' windows.

    Checked: back before the shift ends, within ``max_duration``, the load (kilograms and parcels)
    within capacity at the start and after every stop, the vehicle's mode allowed for every order,
    every delivery started before its window closes. A quick screen of one candidate: the
    validator has the final word on the whole plan.
    """
    orders = {o.id: o for o in problem.orders}
    if route.end > vehicle.shift_end:
        return False
    if vehicle.max_duration is not None and route.end - route.start > vehicle.max_duration:
        return False
    if route.start_load_kg > vehicle.capacity_kg + 1e-9 or route.start_parcels > vehicle.max_parcels:
        return False
    for st in route.stops:
        if st.load_kg > vehicle.capacity_kg + 1e-9 or st.load_parcels > vehicle.max_parcels:
            return False
        order = orders[st.order_id]
        if not carries(vehicle, order):
            return False
        if st.kind == "delivery" and st.start > order.window[1]:
            return False
    return True


def cheapest_insertion(
    problem: Problem,
    routes: Sequence[Route],
    order_id: str,
    *,
    now: float,
    handled: Collection[str] = frozenset(),
    excluded: Collection[str] = frozenset(),
    legs: RoadLegs | None = None,
) -> Route | None:
    """The courier route with ``order_id`` inserted where it adds least route time, or None.

    Tried: every courier of ``problem`` not in ``excluded``, of a mode the order allows, whose
    shift ends after ``now``; on its route in ``routes`` every position after the last stop of a
    ``handled`` order (a stop behind the courier: nothing goes before it), the route leaving when it
    did; a courier without a route gets a new one leaving at ``now`` or its shift start, whichever
    is later. A candidate counts only if it :func:`fits`. Ties go to the first candidate (couriers
    in problem order, earlier positions first).

    Parameters
    ----------
    problem
        The problem (the order must be in it).
    routes
        The current routes (drone sorties are looked at only for shuttle stops, see
        :func:`stops_for`).
    order_id
        The order to insert (on no route of ``routes``).
    now
        Seconds since t0.
    handled
        Ids of orders whose stops are behind their courier.
    excluded
        Ids of couriers that may not take it.
    legs
        Road legs to reuse across calls.
    """
    legs = legs if legs is not None else RoadLegs(problem)
    order = problem.order(order_id)
    by_vehicle = {r.vehicle_id: r for r in routes if r.mode != DRONE}
    best: tuple[int, Route] | None = None
    for vehicle in problem.vehicles:
        if vehicle.id in excluded or not carries(vehicle, order) or vehicle.shift_end <= now:
            continue
        current = by_vehicle.get(vehicle.id)
        stops = list(current.stops) if current is not None else []
        first_open = max((i + 1 for i, st in enumerate(stops) if st.order_id in handled), default=0)
        new_stops = stops_for(problem, routes, vehicle, order_id)
        depart = current.start if current is not None else max(vehicle.shift_start, int(now))
        before = current.end - current.start if current is not None else 0
        for at in range(first_open, len(stops) + 1):
            candidate = time_route(problem, vehicle, [*stops[:at], *new_stops, *stops[at:]], depart,
                                   legs=legs)
            if not fits(problem, vehicle, candidate):
                continue
            added = candidate.end - candidate.start - before
            if best is None or added < best[0]:
                best = (added, candidate)
    return best[1] if best is not None else None


@dataclass(frozen=True)
class Insertion:
    """What :func:`insert_orders` did: the routes after it, which courier took each order placed,
    and the orders no courier could take (most urgent first)."""

    routes: tuple[Route, ...]
    placed: dict[str, str]
    left: tuple[str, ...]


def insert_orders(
    problem: Problem,
    routes: Sequence[Route],
    order_ids: Iterable[str],
    *,
    now: float,
    handled: Collection[str] = frozenset(),
    excluded: Collection[str] = frozenset(),
    legs: RoadLegs | None = None,
) -> Insertion:
    """Insert ``order_ids`` one by one, most urgent first (priority, then the window's close), each
    at its :func:`cheapest_insertion` given the routes so far.

    A courier's changed route replaces its old one at the end of the list; the other routes keep
    their order. See :func:`cheapest_insertion` for ``now``, ``handled`` and ``excluded``.
    """
    legs = legs if legs is not None else RoadLegs(problem)
    current = list(routes)
    placed: dict[str, str] = {}
    left: list[str] = []
    for order_id in sorted(order_ids, key=lambda o: (problem.order(o).priority, problem.order(o).window[1])):
        best = cheapest_insertion(problem, current, order_id, now=now, handled=handled,
                                  excluded=excluded, legs=legs)
        if best is None:
            left.append(order_id)
            continue
        current = [r for r in current if not (r.mode != DRONE and r.vehicle_id == best.vehicle_id)]
        current.append(best)
        placed[order_id] = best.vehicle_id
    return Insertion(tuple(current), placed, tuple(left))


# --- assembling ------------------------------------------------------------------------------


def retime_from(problem: Problem, solution: Solution, t: int, *, legs: RoadLegs | None = None) -> Solution:
    """The plan as it runs when nothing leaves before ``t`` (seconds since ``problem.t0``).

    A plan confirmed after its first departure would tell residents times already past. Courier
    routes that should have left before ``t`` leave at ``t`` and are timed again on the roads
    (:func:`time_route`); each drone's sorties that should have taken off before ``t`` are shifted
    as a whole, in take-off order, keeping the drone's turnaround between sorties. Routes that leave
    at or after ``t`` are kept as they are. Nothing is checked here: a window the later times miss
    shows in :func:`routing.validate`.

    Parameters
    ----------
    problem
        The plan's problem.
    solution
        The plan.
    t
        The earliest departure, seconds since ``problem.t0`` (e.g. now).
    legs
        A shared road table (made here when not given).
    """
    legs = legs or RoadLegs(problem)
    routes: list[Route] = []
    sorties: dict[str, list[Route]] = {}
    for r in solution.routes:
        if r.mode == DRONE:
            sorties.setdefault(r.vehicle_id, []).append(r)
        elif r.start < t:
            routes.append(time_route(problem, _courier(problem, r.vehicle_id), r.stops, t, legs=legs))
        else:
            routes.append(r)
    for drone_id, flights in sorties.items():
        turnaround = problem.vehicle(drone_id).turnaround_s  # type: ignore[union-attr]
        earliest = t
        for r in sorted(flights, key=lambda f: f.start):
            shifted = _shifted(r, max(0, earliest - r.start))
            routes.append(shifted)
            earliest = shifted.end + turnaround
    return with_routes(solution, in_solver_order(routes))


def _shifted(route: Route, seconds: int) -> Route:
    if seconds == 0:
        return route
    stops = tuple(replace(st, arrival=st.arrival + seconds, start=st.start + seconds,
                          departure=st.departure + seconds) for st in route.stops)
    return replace(route, start=route.start + seconds, end=route.end + seconds, stops=stops)


def in_solver_order(routes: Iterable[Route]) -> list[Route]:
    """Couriers first (in the order given), then drones by drone and take-off time: the order
    :func:`routing.solve` returns."""
    def key(r: Route) -> tuple[bool, str, int]:
        drone = r.mode == DRONE
        return drone, r.vehicle_id if drone else "", r.start

    return sorted(routes, key=key)


def km_by_mode(routes: Iterable[Route]) -> dict[str, float]:
    """Kilometres travelled by mode (rounded to metres)."""
    out: dict[str, float] = {}
    for r in routes:
        out[r.mode] = round(out.get(r.mode, 0.0) + r.distance_m / 1000, 3)
    return out


def with_routes(
    solution: Solution, routes: Iterable[Route], unserved: tuple[Unserved, ...] | None = None
) -> Solution:
    """An edited ``solution``: new routes (and unserved list, default its own), kilometres by mode
    recomputed, the solver's cost kept, ``stats`` ``{"edited": 1}``."""
    routes = tuple(routes)
    return Solution(
        routes=routes, unserved=solution.unserved if unserved is None else unserved,
        cost=solution.cost, km_by_mode=km_by_mode(routes), runtime_s=0.0, feasible=True,
        stats={"edited": 1},
    )


__all__ = [
    "Insertion",
    "RepairError",
    "RoadLegs",
    "Visit",
    "cheapest_insertion",
    "drop_orders",
    "fits",
    "in_solver_order",
    "insert_orders",
    "km_by_mode",
    "move_order",
    "remove_orders",
    "reorder",
    "retime",
    "retime_from",
    "schedule",
    "stops_for",
    "time_route",
    "with_routes",
]
