"""Edited sequences -> a :class:`routing.Solution` with times recomputed (no optimisation).

An operator's edit (move, reorder, drop) changes the order of stops; this module recomputes each
edited courier route with routing's own road travel model (:class:`routing.travel.RoadNetwork`),
waiting for windows but never skipping anything, so that :func:`routing.validate` can then say
whether the edited plan still keeps every constraint. An edited plan may well be invalid: it is
stored with its violations and cannot be confirmed until fixed.

Drone sorties are not re-timed: an order moved or dropped off a direct sortie removes that sortie
(the drones' sorties carry one drop each, see ``dispatch.planning.build``), and the drone's
remaining sorties are renumbered in time order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np

import routing
from routing.travel import UNREACHABLE, RoadNetwork


def ground_stops(problem: routing.Problem, solution: routing.Solution, vehicle: routing.Vehicle,
                 order_id: str) -> list[routing.Stop]:
    """The stops a courier needs for ``order_id`` (times left at 0, :func:`retime` sets them).

    Parcels already at the courier's start place need only a delivery; parcels that a drone
    shuttle lands at the hub are picked up there; otherwise at their supply point.
    """
    order = problem.order(order_id)
    places = problem.places
    out = []
    if order.origin != vehicle.start:
        shuttled = any(st.kind == "transfer" and st.order_id == order_id
                       for r in solution.routes for st in r.stops)
        place = places[problem.hub.id if shuttled else order.origin]
        out.append(_blank(order_id, "pickup", place.lon, place.lat, place.id))
    out.append(_blank(order_id, "delivery", *order.home, None))
    return out


def _blank(order_id: str, kind: str, lon: float, lat: float, place: str | None) -> routing.Stop:
    return routing.Stop(order_id=order_id, kind=kind, lon=lon, lat=lat, arrival=0, start=0, departure=0,
                        load_kg=0.0, load_parcels=0, distance_m=0, place=place)


def retime(problem: routing.Problem, vehicle: routing.Vehicle, stops: list[routing.Stop],
           depart: int | None = None) -> routing.Route | None:
    """The courier route visiting ``stops`` in this order, leaving at ``depart`` (default: the
    shift start), waiting for windows; None when there is nothing left to visit."""
    if not stops:
        return None
    places = problem.places
    start, end = places[vehicle.start], places[vehicle.end]
    points = np.array([(start.lon, start.lat), *((s.lon, s.lat) for s in stops), (end.lon, end.lat)])
    table = RoadNetwork(problem.roads, problem.crs).table(points, modes=[vehicle.mode])
    return timed(problem, vehicle, stops, depart, table.distance[vehicle.mode], table.duration[vehicle.mode])


def timed(problem: routing.Problem, vehicle: routing.Vehicle, stops: list[routing.Stop], depart: int | None,
          dist: np.ndarray, dur: np.ndarray) -> routing.Route:
    """:func:`retime` with the travel matrices given: ``dist`` / ``dur`` over the points
    ``[vehicle start, *stops, vehicle end]`` (so a caller trying many sequences builds one road
    table for all of them instead of one per try)."""
    orders = {o.id: o for o in problem.orders}
    picked_here = {s.order_id for s in stops if s.kind == "pickup"}
    preloaded = [orders[s.order_id] for s in stops if s.kind == "delivery" and s.order_id not in picked_here]
    kg, parcels = sum(o.weight_kg for o in preloaded), sum(o.parcels for o in preloaded)
    first = vehicle.shift_start if depart is None else max(depart, vehicle.shift_start)
    t, out = first, []
    for k, stop in enumerate(stops, start=1):
        order = orders[stop.order_id]
        leg = int(min(dur[k - 1, k], UNREACHABLE))
        arrival = t + leg
        if stop.kind == "delivery":
            begin, service = max(arrival, order.window[0]), order.service_s
            kg, parcels = kg - order.weight_kg, parcels - order.parcels
        else:
            begin, service = arrival, problem.pickup_service_s
            kg, parcels = kg + order.weight_kg, parcels + order.parcels
        out.append(replace(stop, arrival=arrival, start=begin, departure=begin + service,
                           load_kg=round(max(kg, 0.0), 6), load_parcels=parcels,
                           distance_m=int(dist[k - 1, k])))
        t = begin + service
    n = len(stops) + 1
    return routing.Route(
        vehicle_id=vehicle.id, mode=vehicle.mode, kind="ground", start_place=vehicle.start,
        end_place=vehicle.end, start=first, end=t + int(min(dur[n - 1, n], UNREACHABLE)),
        stops=tuple(out), start_load_kg=round(sum(o.weight_kg for o in preloaded), 6),
        start_parcels=sum(o.parcels for o in preloaded), end_distance_m=int(dist[n - 1, n]),
    )


def without_order_on_drones(routes: list[routing.Route], order_id: str) -> list[routing.Route]:
    """Drone routes with ``order_id`` taken off: its direct sortie goes, shuttle stops go, and each
    drone's sorties are renumbered 1, 2, ... in time order."""
    kept: list[routing.Route] = []
    for r in routes:
        if r.mode != routing.DRONE:
            kept.append(r)
            continue
        if r.kind == "direct" and any(st.order_id == order_id for st in r.stops):
            continue
        stops = tuple(st for st in r.stops if st.order_id != order_id)
        if stops:
            kept.append(replace(r, stops=stops))
    count: dict[str, int] = {}
    out = []
    for r in sorted(kept, key=lambda r: (r.mode == routing.DRONE, r.vehicle_id, r.start)):
        if r.mode == routing.DRONE:
            count[r.vehicle_id] = count.get(r.vehicle_id, 0) + 1
            r = replace(r, sortie=count[r.vehicle_id])
        out.append(r)
    return out


#: Re-times a courier route: ``(vehicle, stops, depart) -> route`` (:func:`retime` by default).
Retimer = Callable[[routing.Vehicle, list[routing.Stop], int | None], routing.Route | None]


def take_off(problem: routing.Problem, routes: list[routing.Route], order_ids: Iterable[str],
             retimer: Retimer | None = None) -> list[routing.Route]:
    """``routes`` with every stop of ``order_ids`` removed: their direct sorties gone, their shuttle
    stops dropped (sorties renumbered), each courier route that had one re-timed by ``retimer`` and
    dropped when nothing is left on it."""
    ids = set(order_ids)
    for order_id in sorted(ids):
        routes = without_order_on_drones(routes, order_id)
    again = retimer or (lambda vehicle, stops, depart: retime(problem, vehicle, stops, depart))
    out = []
    for r in routes:
        if r.mode != routing.DRONE and any(st.order_id in ids for st in r.stops):
            vehicle = next(v for v in problem.vehicles if v.id == r.vehicle_id)
            stops = [st for st in r.stops if st.order_id not in ids]
            new = again(vehicle, stops, r.start) if stops else None
            if new is not None:
                out.append(new)
        else:
            out.append(r)
    return out


def in_solver_order(routes: list[routing.Route]) -> list[routing.Route]:
    """Couriers first, then drones by drone and take-off time (the order the solver returns)."""
    def key(r: routing.Route) -> tuple[bool, str, int]:
        drone = r.mode == routing.DRONE
        return drone, r.vehicle_id if drone else "", r.start

    return sorted(routes, key=key)


def rebuilt(solution: routing.Solution, routes: list[routing.Route],
            unserved: tuple[routing.Unserved, ...] | None = None) -> routing.Solution:
    """A solution with new routes (and unserved list), its kilometres by mode recomputed."""
    km: dict[str, float] = {}
    for r in routes:
        km[r.mode] = round(km.get(r.mode, 0.0) + r.distance_m / 1000, 3)
    return routing.Solution(
        routes=tuple(routes), unserved=solution.unserved if unserved is None else unserved,
        cost=solution.cost, km_by_mode=km, runtime_s=0.0, feasible=True, stats={"edited": 1},
    )
