"""``solve(problem, params) -> Solution``: travel matrices, model, core search, decoding."""

from __future__ import annotations

import time
from dataclasses import replace
from itertools import pairwise

import numpy as np

from routing import core
from routing.geo import to_metric, to_wgs84
from routing.model import Model, build_model, leg_matrices
from routing.params import SolveParams
from routing.problem import DRONE, Problem, Vehicle
from routing.repair import km_by_mode, schedule
from routing.solution import Cost, Route, Solution, Stop, Unserved
from routing.travel import UNREACHABLE
from routing.travel.matrices import build_travel


def solve(problem: Problem, params: SolveParams | None = None) -> Solution:
    """Plan ``problem``: build the travel matrices, compile, search, decode.

    Parameters
    ----------
    problem
        The batch to plan.
    params
        Budget, seed and travel settings (default :class:`SolveParams`).

    Returns
    -------
    Solution
        Routes (couriers; drone shuttle and direct sorties numbered 1, 2, ... per drone), unserved
        orders with reasons, the cost breakdown, kilometres by mode and run statistics.

    Raises
    ------
    ProblemError
        A point too far from every road, or couriers without roads.
    """
    params = params if params is not None else SolveParams()
    started = time.perf_counter()
    travel = build_travel(problem, params)
    model = build_model(problem, params, travel)
    result = None
    if model.instance is not None:
        result = core.solve_core(model.instance, params.core())
    solution = decode(model, result)
    stats: dict[str, float | int | str] = {
        "matrix_s": round(travel.seconds, 3),
        "solve_s": round(result.runtime_s, 3) if result is not None else 0.0,
        "strategy": result.strategy if result is not None else "",
        "objective": result.objective if result is not None else 0,
        "nodes": len(model.nodes),
        "core_vehicles": len(model.slots),
    }
    return Solution(
        routes=solution.routes,
        unserved=solution.unserved,
        cost=solution.cost,
        km_by_mode=solution.km_by_mode,
        runtime_s=round(time.perf_counter() - started, 3),
        feasible=solution.feasible,
        stats=stats,
    )


def decode(model: Model, result: core.CoreResult | None) -> Solution:
    """Turn a core result into a :class:`Solution` (routes, unserved with reasons, costs)."""
    problem = model.problem
    routes: list[Route] = list(model.shuttles)
    served: set[str] = set()
    if result is not None:
        matrices = [leg_matrices(model, p) for p in range(len(model.profiles))]
        drone_free: dict[str, int] = {}
        for vi, nodes in enumerate(result.routes):
            if not nodes:
                continue
            slot = model.slots[vi]
            route = _route(model, vi, list(nodes), result, matrices[slot.profile],
                           drone_free.get(slot.vehicle.id))
            if slot.sortie is not None:
                turnaround = slot.vehicle.turnaround_s  # type: ignore[union-attr]
                drone_free[slot.vehicle.id] = route.end + turnaround
            routes.append(route)
            served.update(s.order_id for s in route.stops if s.kind == "delivery")
    routes = _with_flight_paths(model, _number_sorties(routes))
    unserved = [Unserved(o, r, d) for o, (r, d) in model.preunserved.items()]
    dropped = [o for o in model.delivery_node if o not in served]
    for order_id in dropped:
        reason, detail = why_dropped(model, order_id)
        unserved.append(Unserved(order_id, reason, detail))
    order_pos = {o.id: i for i, o in enumerate(problem.orders)}
    unserved.sort(key=lambda u: order_pos[u.order_id])
    return Solution(
        routes=tuple(routes),
        unserved=tuple(unserved),
        cost=_cost(model, routes, unserved),
        km_by_mode=km_by_mode(routes),
        feasible=True if result is None else result.feasible,
    )


def _route(
    model: Model,
    vi: int,
    nodes: list[int],
    result: core.CoreResult,
    matrices: tuple[np.ndarray, np.ndarray],
    free_at: int | None = None,
) -> Route:
    problem = model.problem
    slot = model.slots[vi]
    veh = slot.vehicle
    dist, secs = matrices
    orders = {o.id: o for o in problem.orders}
    assert model.instance is not None
    start_node = model.instance.vehicles[vi].start
    end_node = model.instance.vehicles[vi].end
    drone = slot.sortie is not None
    # Parcels loaded at the start: deliveries with no pickup on this route.
    loaded = [
        orders[str(model.nodes[i].order)]
        for i in nodes
        if model.nodes[i].kind == "delivery" and model.nodes[i].order not in model.pickup_node
    ]
    start_kg = float(sum(o.weight_kg for o in loaded))
    start_parcels = sum(o.parcels for o in loaded)
    points = model.travel.drone_points if drone else model.travel.ground_points
    start, times, end = _schedule(model, vi, nodes, secs, result, free_at)
    stops = []
    prev = start_node
    kg, parcels = start_kg, start_parcels
    for i, (arrival, begin, departure) in zip(nodes, times, strict=True):
        node = model.nodes[i]
        o = orders[node.order]  # type: ignore[index]
        sign = 1 if node.kind == "pickup" else -1
        kg += sign * o.weight_kg
        parcels += sign * o.parcels
        loc = node.dloc if drone else node.gloc
        lon, lat = points[loc]
        stops.append(
            Stop(
                order_id=o.id,
                kind=node.kind,
                lon=float(lon),
                lat=float(lat),
                arrival=arrival,
                start=begin,
                departure=departure,
                load_kg=round(max(kg, 0.0), 6),
                load_parcels=parcels,
                distance_m=int(dist[prev, i]),
                place=node.place,
            )
        )
        prev = i
    if isinstance(veh, Vehicle):
        start_place, end_place, mode, kind = veh.start, veh.end, veh.mode, "ground"
    else:
        start_place, end_place, mode, kind = veh.base, veh.base, DRONE, "direct"
    return Route(
        vehicle_id=veh.id,
        mode=mode,
        kind=kind,
        start_place=start_place,
        end_place=end_place,
        start=start,
        end=end,
        stops=tuple(stops),
        start_load_kg=round(start_kg, 6),
        start_parcels=start_parcels,
        end_distance_m=int(dist[prev, end_node]),
        sortie=slot.sortie,
    )


def _schedule(
    model: Model,
    vi: int,
    nodes: list[int],
    secs: np.ndarray,
    result: core.CoreResult,
    free_at: int | None,
) -> tuple[int, list[tuple[int, int, int]], int]:
    """Times of a route: (start, [(arrival, service start, departure)], end).

    Every visit as early as possible from the vehicle's earliest start (for a drone, also after
    its previous sortie and turnaround), then the start delayed by the wait at the first stop:
    deliveries come early and nobody idles at the first door. If that breaks the route's maximum
    duration, the core's own schedule is kept (it satisfies every constraint).
    """
    inst = model.instance
    assert inst is not None
    veh = inst.vehicles[vi]
    service = model.service[model.slots[vi].profile]
    windows = inst.windows
    legs = [int(secs[a, b]) for a, b in pairwise([veh.start, *nodes, veh.end])]
    services = [int(service[i]) for i in nodes]
    start = max(veh.earliest_start, int(windows[veh.start, 0]), free_at or 0)
    times, end = schedule(start, legs, [int(windows[i, 0]) for i in nodes], services)
    if times:
        push = times[0][1] - times[0][0]
        start += push
        times[0] = (times[0][0] + push, times[0][1], times[0][2])
    late = any(begin > windows[i, 1] for i, (_, begin, _) in zip(nodes, times, strict=True))
    too_long = veh.max_duration is not None and end - start > veh.max_duration
    if late or too_long or (veh.latest_end is not None and end > veh.latest_end):
        start = result.start_times[vi]
        times, end = schedule(start, legs, [int(result.arrival[i]) for i in nodes], services)
        end = max(result.end_times[vi], end)
    return start, times, end


def _number_sorties(routes: list[Route]) -> list[Route]:
    """Number each drone's sorties 1, 2, ... by take-off time; couriers first, then drones."""
    ground = [r for r in routes if r.mode != DRONE]
    drones = sorted((r for r in routes if r.mode == DRONE), key=lambda r: (r.vehicle_id, r.start))
    out, count = list(ground), dict[str, int]()
    for r in drones:
        count[r.vehicle_id] = count.get(r.vehicle_id, 0) + 1
        out.append(replace(r, sortie=count[r.vehicle_id]))
    return out


def _with_flight_paths(model: Model, routes: list[Route]) -> list[Route]:
    """Add the waypoints of every drone leg that detours around a zone (WGS84)."""
    space = model.travel.space
    if space is None:
        return routes
    crs = model.problem.crs
    places = model.problem.places
    out = []
    for r in routes:
        if r.mode != DRONE:
            out.append(r)
            continue
        base = places[r.start_place]
        pts = [(base.lon, base.lat), *((s.lon, s.lat) for s in r.stops), (base.lon, base.lat)]
        xy = to_metric(crs, np.array(pts))
        vias = []
        for k in range(len(xy) - 1):
            path = space.path_xy(xy[k], xy[k + 1])
            inner = path[1:-1] if path is not None else np.zeros((0, 2))
            vias.append(tuple(map(tuple, to_wgs84(crs, inner).tolist())) if len(inner) else ())
        stops = tuple(replace(s, via=v) for s, v in zip(r.stops, vias, strict=False))
        out.append(replace(r, stops=stops, end_via=vias[-1]))
    return out


def _cost(model: Model, routes: list[Route], unserved: list[Unserved]) -> Cost:
    problem = model.problem
    w = problem.weights
    busy = 0
    metres = 0
    fixed = 0
    for r in routes:
        metres += r.distance_m
        # Travel plus service, without waiting: what the core's arc costs count.
        wait = sum(s.start - s.arrival for s in r.stops)
        busy += r.end - r.start - wait
        if r.mode != DRONE:
            v = problem.vehicle(r.vehicle_id)
            assert isinstance(v, Vehicle)
            fixed += v.fixed_cost if v.fixed_cost is not None else w.volunteer_fixed
    orders = {o.id: o for o in problem.orders}
    penalty = sum(w.unserved[orders[u.order_id].priority - 1] for u in unserved)
    return Cost(
        time=w.time_per_s * busy, distance=w.distance_per_m * metres, fixed=fixed, unserved=penalty
    )


# --- why an order was dropped ----------------------------------------------------------------


def why_dropped(model: Model, order_id: str) -> tuple[str, str]:
    """Reason for an order the optimiser left out: is it feasible for some vehicle on its own?

    Each allowed vehicle is tried alone with only this order (from its shift start): a failing
    capacity gives ``capacity``, a window (or shift, or duration) that cannot be met gives
    ``time_window``, a sortie over range gives ``range``. If some vehicle could serve it alone, the
    fleet's capacity and time went to other orders: ``capacity``.
    """
    inst = model.instance
    assert inst is not None
    d = model.delivery_node[order_id]
    p = model.pickup_node.get(order_id)
    visits = [p, d] if p is not None else [d]
    failures: dict[str, str] = {}
    allowed = inst.allowed[d] or ()
    for v in allowed:
        veh = inst.vehicles[v]
        name = model.slots[v].vehicle.id
        dist, dur = inst.distance[veh.profile], inst.duration[veh.profile]
        if any(inst.demands[visits[0]][c] > veh.capacities[c] for c in range(2)) or any(
            -inst.demands[d][c] > veh.capacities[c] for c in range(2)
        ):
            failures.setdefault("capacity", f"too heavy or too many parcels for '{name}'")
            continue
        path = [veh.start, *visits, veh.end]
        t = veh.earliest_start
        metres, late = 0, None
        for a, b in pairwise(path):
            if dur[a, b] >= UNREACHABLE:
                late = "unreachable"
                break
            t += int(dur[a, b])
            metres += int(dist[a, b])
            if b != veh.end:
                lo, hi = inst.windows[b]
                if t > hi:
                    late = f"'{name}' cannot arrive before the window closes"
                    break
                t = max(t, int(lo))
        latest_end = veh.latest_end if veh.latest_end is not None else inst.horizon
        if late is None and latest_end is not None and t > latest_end:
            late = f"'{name}' cannot be back before its shift ends"
        if late is not None:
            failures.setdefault("time_window", late)
            continue
        if veh.max_distance is not None and metres > veh.max_distance:
            failures.setdefault("range", f"sortie {metres} m over range {veh.max_distance} m")
            continue
        return (
            "capacity",
            "the vehicles' capacity and shift time went to other orders (the optimiser left this "
            "one out; add a courier or widen the window)",
        )
    for reason in ("time_window", "range", "capacity"):
        if reason in failures:
            return reason, failures[reason]
    return "no_eligible_vehicle", "no vehicle can reach it"
