"""Storing a plan version: the Plan row with its problem, solution and report, Route and Stop rows,
and the order states that follow from it.

Every call makes a *new* version (previous max + 1) and supersedes the proposed ones before it, so
re-planning a batch or editing a plan never rewrites history.
"""

from __future__ import annotations

import logging
from typing import Any

import shapely
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import routing
from dispatch.lifecycle import OrderState, PlanState, RouteState, transition
from dispatch.models import Batch, Order, Plan, Route, Stop, utcnow

log = logging.getLogger(__name__)


def next_version(session: Session, batch_id: str) -> int:
    """The version number the next plan of ``batch_id`` gets."""
    return int(session.scalar(select(func.max(Plan.version)).where(Plan.batch_id == batch_id)) or 0) + 1


def unserved_entries(solution: routing.Solution, excluded: list[dict[str, str]]) -> list[dict[str, str]]:
    """The plan's unserved list: orders kept out of the problem first, then the solver's."""
    return [*excluded, *({"order_id": u.order_id, "reason": u.reason, "detail": u.detail}
                         for u in solution.unserved)]


def save_version(session: Session, batch: Batch, problem: routing.Problem, solution: routing.Solution,
                 excluded: list[dict[str, str]], *, note: str, user_id: str | None = None,
                 flight_notes: list[str] | None = None,
                 weather: set[str] | frozenset[str] = frozenset()) -> Plan:
    """Validate ``solution``, store it as the batch's next proposed version and move order states.

    Served orders become ``planned``; unserved and excluded ones go back to ``confirmed`` so the
    next batch of the hub takes them; an unserved order in ``weather`` (kept off the drones by the
    weather) is unserved for reason ``weather``. ``flight_notes`` (None: those of the previous
    version, for an edit or a revision) say what the plan relies on to fly.
    """
    if flight_notes is None:
        flight_notes = session.scalars(select(Plan.flight_notes).where(Plan.batch_id == batch.id)
                                       .order_by(Plan.version.desc()).limit(1)).first() or []
    report = routing.validate(problem, solution)
    session.execute(update(Plan).where(Plan.batch_id == batch.id, Plan.state == PlanState.PROPOSED)
                    .values(state=PlanState.SUPERSEDED))
    unserved = [{**u, "reason": "weather"} if u["order_id"] in weather else u
                for u in unserved_entries(solution, excluded)]
    plan = Plan(
        batch_id=batch.id, version=next_version(session, batch.id), state=PlanState.PROPOSED,
        problem=routing.problem_to_json(problem), solution=routing.solution_to_json(solution, problem),
        validation={"ok": report.ok, "violations": list(report.violations)},
        unserved=unserved, note=note, created_by=user_id, created_at=utcnow(), flight_notes=flight_notes,
    )
    session.add(plan)
    session.flush()
    paths = display_paths(problem, solution, batch.id)
    for position, route in enumerate(solution.routes):
        session.add(route_row(plan.id, position, route, problem, paths[position]))
    _move_orders(session, solution.served, {u["order_id"] for u in unserved})
    session.flush()
    return plan


def route_row(plan_id: str, position: int, route: routing.Route, problem: routing.Problem,
              path: list[list[float]] | None = None) -> Route:
    """The Route row (with its Stop rows) of one courier route or drone sortie; ``path`` is its
    display line (see :func:`display_paths`)."""
    drone = route.mode == routing.DRONE
    row = Route(
        plan_id=plan_id, position=position, volunteer_id=None if drone else route.vehicle_id,
        drone_id=route.vehicle_id if drone else None, sortie=route.sortie, mode=route.mode,
        depart_at=problem.at(route.start), return_at=problem.at(route.end),
        distance_m=float(route.distance_m), state=RouteState.PLANNED, path=path,
        permits=list(routing.sortie_permits(problem, route)) if drone else [],
    )
    row.stops = [
        Stop(seq=seq, order_id=stop.order_id, kind=stop.kind, eta=problem.at(stop.start),
             lon=stop.lon, lat=stop.lat)
        for seq, stop in enumerate(route.stops, start=1)
    ]
    return row


#: Tolerance of the simplified display lines, in degrees (about 3 m): invisible on the map, and a
#: day's road paths shrink several-fold, which is most of a map page's weight.
SIMPLIFY_DEG = 0.00003


def display_paths(problem: routing.Problem, solution: routing.Solution,
                  batch_id: str) -> list[list[list[float]] | None]:
    """Each route's map line, in the order of ``solution.routes``: its legs from
    :func:`routing.plan_geojson` (road paths for couriers, the detour waypoints around no-fly zones
    for drones) joined into one line and simplified to :data:`SIMPLIFY_DEG`.

    Computed here, once per stored version (0.15 s for a 1,000-order day, with the problem already
    in hand), because a page would have to read the stored problem back, validate it and search
    the road paths: over a second on the first view of every new version, in every process.
    A failure costs only the stored line (None: the console computes it when shown).
    """
    try:
        collection = routing.plan_geojson(problem, solution, batch_id)
    except Exception:  # a display line must never stop a plan from being stored
        log.exception("route display lines of batch %s not computed", batch_id)
        return [None] * len(solution.routes)
    # plan_geojson lists each route's legs in order (seq 1, 2, ...), routes in solution order.
    legs: list[list[list[list[float]]]] = []
    vehicles: list[str] = []
    for feature in collection["features"]:
        geometry, props = feature["geometry"], feature["properties"]
        if geometry["type"] != "LineString" or "vehicle_id" not in props:
            continue
        if props["seq"] == 1 or not legs:
            legs.append([])
            vehicles.append(props["vehicle_id"])
        legs[-1].append(geometry["coordinates"])
    if vehicles != [r.vehicle_id for r in solution.routes]:
        log.error("route display lines of batch %s: %d routes, %d lines not in their order", batch_id,
                  len(solution.routes), len(legs))
        return [None] * len(solution.routes)
    return [joined_line(parts) for parts in legs]


def joined_line(legs: list[list[list[float]]]) -> list[list[float]]:
    """Legs that each start where the previous one ended, as one simplified line (rounded to
    about 10 cm): one map feature per route instead of one per leg."""
    points: list[tuple[float, float]] = []
    for leg in legs:
        pts = [(float(x), float(y)) for x, y in leg]
        points.extend(pts[1:] if points and pts and points[-1] == pts[0] else pts)
    if len(points) >= 3:
        points = list(shapely.LineString(points).simplify(SIMPLIFY_DEG, preserve_topology=False).coords)
    return [[round(x, 6), round(y, 6)] for x, y in points]


def _move_orders(session: Session, served: set[str], unserved: set[str]) -> None:
    ids = served | unserved
    if not ids:
        return
    for order in session.scalars(select(Order).where(Order.id.in_(ids))):
        if order.id in served and order.state == OrderState.BATCHED.value:
            transition(order, OrderState.PLANNED)
        elif order.id in unserved and order.state in (OrderState.BATCHED.value, OrderState.PLANNED.value):
            transition(order, OrderState.CONFIRMED)
        order.updated_at = utcnow()


def plan_summary(plan: Plan) -> dict[str, Any]:
    """A small dict describing a plan version (for logs and the worker's result)."""
    return {"plan_id": plan.id, "version": plan.version, "ok": plan.validation.get("ok"),
            "unserved": len(plan.unserved)}
