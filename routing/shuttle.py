"""Shuttle sorties: drones bring supply-point parcels to the hub before couriers take them on."""

from __future__ import annotations

import math

from routing.problem import DRONE, Drone, Order, Problem
from routing.solution import Route, Stop
from routing.travel.matrices import Travel, fly, place_index


def plan_shuttles(
    problem: Problem, travel: Travel, onward: set[str] | None = None
) -> tuple[list[Route], dict[str, int], dict[str, tuple[int, int]]]:
    """Plan the shuttle sorties that bring supply-point parcels to the hub by drone.

    Greedy and deterministic: per supply point, its orders (those in ``onward``, the ones that
    can be carried on from the hub; default all) (by window end, priority, id) are packed
    first-fit into payload-sized loads; each load flies on the drone that lands it earliest.
    Returns the shuttle routes, the release time at the hub of each shuttled order (its landing
    time), and per drone the (time it is free again, sorties used).
    """
    pidx = place_index(problem)
    hub = pidx[problem.hub.id]
    free = {d.id: (d.available_from, 0) for d in problem.drones}
    routes: list[Route] = []
    release: dict[str, int] = {}
    horizon = problem.horizon
    for sp in problem.supply_points:
        s = pidx[sp.id]
        waiting = sorted(
            (o for o in problem.orders
             if o.origin == sp.id and (onward is None or o.id in onward)),
            key=lambda o: (o.window[1], o.priority, o.id),
        )
        capable = []
        for d in problem.drones:
            b = pidx[d.base]
            length = fly(travel, b, s) + fly(travel, s, hub) + fly(travel, hub, b)
            if math.isfinite(length) and length <= d.range_m:
                capable.append(d)
        while waiting and capable:
            best = None
            for d in capable:
                t_free, used = free[d.id]
                if used >= d.max_sorties:
                    continue
                load, rest, kg = [], [], 0.0
                for o in waiting:
                    if kg + o.weight_kg <= d.payload_kg + 1e-9:
                        load.append(o)
                        kg += o.weight_kg
                    else:
                        rest.append(o)
                if not load:
                    continue
                route = _shuttle_route(problem, travel, d, sp.id, load, t_free)
                until = d.available_until if d.available_until is not None else horizon
                if route.end > until:
                    continue
                landing = route.stops[-1].departure
                if best is None or landing < best[0]:
                    best = (landing, d, route, rest)
            if best is None:
                break
            _, d, route, rest = best
            routes.append(route)
            for stop in route.stops:
                if stop.kind == "transfer":
                    release[stop.order_id] = stop.departure
            free[d.id] = (route.end + d.turnaround_s, free[d.id][1] + 1)
            waiting = rest
    return routes, release, free


def _shuttle_route(
    problem: Problem, travel: Travel, d: Drone, supply: str, load: list[Order], takeoff: int
) -> Route:
    pidx = place_index(problem)
    b, s, h = pidx[d.base], pidx[supply], pidx[problem.hub.id]
    pts = travel.drone_points

    def leg(a: int, z: int) -> tuple[int, int]:
        metres = fly(travel, a, z)
        return math.ceil(metres), math.ceil(metres / d.cruise_mps)

    stops: list[Stop] = []
    kg, parcels = 0.0, 0
    m, secs = leg(b, s)
    t = takeoff + secs
    for k, o in enumerate(load):
        kg += o.weight_kg
        parcels += o.parcels
        dep = t + problem.pickup_service_s
        lon, lat = map(float, pts[s])
        stops.append(Stop(o.id, "load", lon, lat, t, t, dep, kg, parcels, m if k == 0 else 0, supply))
        t = dep
    m, secs = leg(s, h)
    t += secs
    for k, o in enumerate(load):
        kg -= o.weight_kg
        parcels -= o.parcels
        lon, lat = map(float, pts[h])
        stops.append(
            Stop(o.id, "transfer", lon, lat, t, t, t, max(kg, 0.0), parcels, m if k == 0 else 0,
                 problem.hub.id)
        )
    m, secs = leg(h, b)
    return Route(
        vehicle_id=d.id,
        mode=DRONE,
        kind="shuttle",
        start_place=d.base,
        end_place=d.base,
        start=takeoff,
        end=t + secs,
        stops=tuple(stops),
        end_distance_m=m,
    )

