"""Community-bus legs (貨客混載): parcels that ride a scheduled bus instead of a courier (issue 20, item 3).

Like a timed shuttle (:mod:`routing.shuttle`), a bus leg is decided before the courier model is
built, greedily and deterministically: the bus runs to its timetable whatever we do, so a leg
is a fixed (board, alight) pair of a trip, not a vehicle to route. An order goes by bus when

1. a trip that carries parcels (a capacity left, the drivers' agreement behind it) calls at a stop
   within ``board_radius_m`` of the hub at least ``handover_s`` after the batch's horizon starts
   (time to hand the parcel to the driver), and later at a stop within ``alight_radius_m`` of the
   resident's home, arriving inside the order's window (the resident, or a courier passing,
   collects it there at that time); and
2. it is cheaper: ``bus_cost_s`` (the handovers at both ends and the walk to the stop, counted in
   courier-seconds) is below the courier's cheapest insertion cost for the home, i.e. the
   smallest detour ``d(a, home) + d(home, b) - d(a, b)`` over the hub and the other homes, in
   road seconds of the fastest mode allowed to carry the order. Orders that a drone could carry
   are left to the solver (a sortie from the hub is cheaper than a handover).

Distances to stops are straight lines in the problem's metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.geo import to_metric
from routing.problem import DRONE, Order, Problem
from routing.travel import UNREACHABLE
from routing.travel.matrices import Travel, place_index


@dataclass(frozen=True)
class Call:
    """A bus trip calling at a stop: its id, place (WGS84) and times in seconds since t0."""

    stop_id: str
    lon: float
    lat: float
    arrival: int
    departure: int


@dataclass(frozen=True)
class BusTrip:
    """A trip of the day that may carry parcels, its calls in order, and its parcel capacity."""

    id: str
    calls: tuple[Call, ...]
    max_parcels: int
    max_kg: float


@dataclass(frozen=True)
class BusParams:
    board_radius_m: float = 600.0
    alight_radius_m: float = 500.0
    handover_s: int = 600
    bus_cost_s: int = 600


@dataclass(frozen=True)
class BusLeg:
    """Order ``order_id`` rides trip ``trip_id`` from call ``board`` to call ``alight``."""

    order_id: str
    trip_id: str
    board: Call
    alight: Call
    courier_cost_s: int  # what the courier would have cost (the cheapest insertion), for the record


def plan_bus_legs(
    problem: Problem, travel: Travel, trips: list[BusTrip], params: BusParams | None = None
) -> list[BusLeg]:
    """The orders to send by bus (see the module docstring), at most one leg per order."""
    params = params or BusParams()
    if not trips or not problem.orders:
        return []
    crs = problem.crs
    hub_xy = to_metric(crs, np.array([[problem.hub.lon, problem.hub.lat]]))[0]
    homes = to_metric(crs, np.array([o.home for o in problem.orders], dtype=float))
    left = {t.id: (t.max_parcels, t.max_kg) for t in trips}
    legs = []
    order_rank = sorted(
        range(len(problem.orders)), key=lambda k: (problem.orders[k].window[1], problem.orders[k].id)
    )
    for k in order_rank:
        order = problem.orders[k]
        if order.origin != problem.hub.id or not order.modes - {DRONE} or _drone_may(problem, order):
            continue
        cost = _insertion_cost(problem, travel, k)
        if cost <= params.bus_cost_s:
            continue
        best = None
        for trip in trips:
            parcels, kg = left[trip.id]
            if parcels < order.parcels or kg + 1e-9 < order.weight_kg:
                continue
            leg = _leg(trip, hub_xy, homes[k], crs, order.window, params)
            if leg is not None and (best is None or leg[1].arrival < best[2].arrival):
                best = (trip, *leg)
        if best is None:
            continue
        trip, board, alight = best
        left[trip.id] = (left[trip.id][0] - order.parcels, left[trip.id][1] - order.weight_kg)
        legs.append(BusLeg(order.id, trip.id, board, alight, int(cost)))
    return legs


def _drone_may(problem: Problem, order: Order) -> bool:
    return bool(problem.drones) and DRONE in order.modes and order.drop is not None


def _leg(
    trip: BusTrip,
    hub_xy: np.ndarray,
    home_xy: np.ndarray,
    crs: str,
    window: tuple[int, int],
    params: BusParams,
) -> tuple[Call, Call] | None:
    xy = to_metric(crs, np.array([[c.lon, c.lat] for c in trip.calls], dtype=float))
    to_hub = np.hypot(*(xy - hub_xy).T)
    to_home = np.hypot(*(xy - home_xy).T)
    for i, call in enumerate(trip.calls):
        if to_hub[i] > params.board_radius_m or call.departure < params.handover_s:
            continue
        for j in range(i + 1, len(trip.calls)):
            there = trip.calls[j]
            if to_home[j] <= params.alight_radius_m and window[0] <= there.arrival <= window[1]:
                return call, there
        return None
    return None


def _insertion_cost(problem: Problem, travel: Travel, k: int) -> float:
    """The cheapest detour to the home of order ``k`` between any two of hub and other homes."""
    if travel.road is None:
        return float("inf")
    n_places = len(place_index(problem))
    home = n_places + k
    others = [0, *(n_places + j for j in range(len(problem.orders)) if j != k)]
    order = problem.orders[k]
    best = float("inf")
    for mode, matrix in travel.road.duration.items():
        if mode not in order.modes or not any(v.mode == mode for v in problem.vehicles):
            continue
        m = matrix.astype(float)
        m[m >= UNREACHABLE] = np.inf
        idx = np.array(others)
        detour = m[idx, home][:, None] + m[home, idx][None, :] - m[np.ix_(idx, idx)]
        best = min(best, float(detour.min()))
    return best
