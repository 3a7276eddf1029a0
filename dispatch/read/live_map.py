"""The dashboard map, live: what the page's poller (``web/static/live_map.js``) redraws every few
seconds without a reload — couriers' last shared positions, drones in the air and the open orders.

Nothing reports a drone's position, so a drone in the air is placed where its plan says it should
be: along the sortie's stored path, at the time since its *recorded* take-off, paced by the planned
leg times (stop ETAs relative to the planned departure). A late take-off therefore shifts the whole
flight; the marker is always labelled as an estimate. :func:`estimated_position` is pure, so the
geometry is tested on paths checked by hand.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dispatch.lifecycle import RouteState
from dispatch.models import Batch, Drone, Hub, Order, Plan, Route, SortieLog
from dispatch.read import HubScope, scoped
from dispatch.read.dashboard import POSITIONS_SINCE, CourierPoint, OrderRow, courier_positions, order_queue

Point = tuple[float, float]  # (lon, lat), WGS84


def _distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Distance in degrees of latitude (equirectangular): only proportions along a path matter."""
    dx = (b[0] - a[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, b[1] - a[1])


def _anchors(path: Sequence[Sequence[float]], waypoints: Sequence[Point]) -> list[int]:
    """The index of the path vertex each waypoint falls on: the first and last waypoints on the
    path's ends, each one between on the nearest vertex not before the previous waypoint's."""
    anchors = [0]
    for waypoint in waypoints[1:-1]:
        start = anchors[-1]
        anchors.append(min(range(start, len(path)), key=lambda i: _distance(path[i], waypoint)))
    anchors.append(len(path) - 1)
    return anchors


def vertex_offsets(path: Sequence[Sequence[float]], waypoints: Sequence[Point],
                   offsets: Sequence[float]) -> list[float]:
    """The planned time (seconds after departure) of every vertex of ``path``: each waypoint's
    vertex gets its offset, the vertices between two waypoints are paced by distance."""
    anchors = _anchors(path, waypoints)
    times = [0.0] * len(path)
    for n in range(len(anchors) - 1):
        (i, j), (t0, t1) = anchors[n:n + 2], offsets[n:n + 2]
        lengths = [_distance(path[k], path[k + 1]) for k in range(i, j)]
        total, run = sum(lengths), 0.0
        times[i] = t0
        for k in range(i + 1, j + 1):
            run += lengths[k - i - 1]
            times[k] = t0 + (t1 - t0) * (run / total if total else 1.0)
    return times


def estimated_position(path: Sequence[Sequence[float]], waypoints: Sequence[Point],
                       offsets: Sequence[float], elapsed: float) -> Point:
    """Where a vehicle is ``elapsed`` seconds after departure if it keeps to the plan.

    ``waypoints`` are the departure point, the stops and the return point, ``offsets`` their
    planned times in seconds after departure (same length, non-decreasing). ``path`` is the stored
    display line through them (fewer than two points: straight between the waypoints). Before
    departure the vehicle is at the start, after the planned return at the end.
    """
    if len(waypoints) != len(offsets) or not waypoints:
        raise ValueError("one planned offset per waypoint")
    if len(path) < 2 or len(waypoints) < 2:
        line: Sequence[Sequence[float]] = waypoints
        times = [float(t) for t in offsets]
    else:
        line, times = path, vertex_offsets(path, waypoints, offsets)
    if elapsed <= times[0]:
        return float(line[0][0]), float(line[0][1])
    for k in range(1, len(line)):
        if elapsed <= times[k]:
            span = times[k] - times[k - 1]
            f = (elapsed - times[k - 1]) / span if span else 1.0
            a, b = line[k - 1], line[k]
            return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
    return float(line[-1][0]), float(line[-1][1])


@dataclass(frozen=True)
class DronePoint:
    """A drone in the air at its estimated position (never a reported one): labelled by the
    drone's code and sortie number, with the recorded take-off it was estimated from."""

    route_id: str
    label: str
    lon: float
    lat: float
    taken_off_at: dt.datetime
    estimated: bool = True


def drones_in_the_air(session: Session, hub_ids: HubScope, now: dt.datetime) -> list[DronePoint]:
    """Every sortie of the hubs in scope that staff recorded taking off and that has not ended
    (the route is active), placed by :func:`estimated_position` at ``now``."""
    stmt = (select(Route, SortieLog.taken_off_at, Drone.code, Hub.lon, Hub.lat)
            .join(SortieLog, SortieLog.route_id == Route.id)
            .join(Drone, Drone.id == Route.drone_id)
            .join(Plan, Plan.id == Route.plan_id).join(Batch, Batch.id == Plan.batch_id)
            .join(Hub, Hub.id == Batch.hub_id)
            .where(Route.state == RouteState.ACTIVE, SortieLog.taken_off_at.is_not(None))
            .options(selectinload(Route.stops)).order_by(SortieLog.taken_off_at))
    out = []
    for route, taken_off_at, code, hub_lon, hub_lat in session.execute(scoped(stmt, Batch.hub_id, hub_ids)):
        path = route.path or []
        home: Point = (path[0][0], path[0][1]) if path else (hub_lon, hub_lat)
        end: Point = (path[-1][0], path[-1][1]) if path else home
        depart = route.depart_at or taken_off_at
        stops = [st for st in route.stops if st.eta is not None]
        legs = [(st.eta - depart).total_seconds() for st in stops]  # type: ignore[operator]
        back = (route.return_at - depart).total_seconds() if route.return_at else (legs[-1] if legs else 0.0)
        offsets = [0.0, *(max(0.0, t) for t in legs), max(0.0, back, *legs)]
        offsets = [max(offsets[: i + 1]) for i in range(len(offsets))]  # never backwards in time
        lon, lat = estimated_position(path, [home, *((st.lon, st.lat) for st in stops), end], offsets,
                                      (now - taken_off_at).total_seconds())
        label = code + (f" #{route.sortie}" if route.sortie else "")
        out.append(DronePoint(route.id, label, lon, lat, taken_off_at))
    return out


@dataclass(frozen=True)
class LiveMap:
    """What the dashboard's poller redraws: positions, drones, the order queue and how many
    orders came in since the page was loaded."""

    generated_at: dt.datetime
    couriers: list[CourierPoint]
    drones: list[DronePoint]
    orders: list[OrderRow]
    new_orders: int


def live_map(session: Session, hub_ids: HubScope, now: dt.datetime,
             since: dt.datetime | None = None) -> LiveMap:
    """The live layers of the dashboard of the hubs in scope at ``now``; ``new_orders`` counts the
    orders received after ``since`` (the page's load time; None: 0)."""
    new = 0
    if since is not None:
        stmt = scoped(select(func.count(Order.id)).where(Order.created_at > since), Order.hub_id, hub_ids)
        new = int(session.scalar(stmt) or 0)
    return LiveMap(generated_at=now, couriers=courier_positions(session, hub_ids, now - POSITIONS_SINCE),
                   drones=drones_in_the_air(session, hub_ids, now), orders=order_queue(session, hub_ids),
                   new_orders=new)
