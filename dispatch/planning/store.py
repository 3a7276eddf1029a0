"""Storing a plan version: the Plan row with its problem, solution and report, Route and Stop rows,
and the order states that follow from it.

Every call makes a *new* version (previous max + 1) and supersedes the proposed ones before it, so
re-planning a batch or editing a plan never rewrites history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import routing
from dispatch.lifecycle import OrderState, transition
from dispatch.models import Batch, Order, Plan, Route, Stop, utcnow


def next_version(session: Session, batch_id: str) -> int:
    """The version number the next plan of ``batch_id`` gets."""
    return int(session.scalar(select(func.max(Plan.version)).where(Plan.batch_id == batch_id)) or 0) + 1


def unserved_entries(solution: routing.Solution, excluded: list[dict[str, str]]) -> list[dict[str, str]]:
    """The plan's unserved list: orders kept out of the problem first, then the solver's."""
    return [*excluded, *({"order_id": u.order_id, "reason": u.reason, "detail": u.detail}
                         for u in solution.unserved)]


def save_version(session: Session, batch: Batch, problem: routing.Problem, solution: routing.Solution,
                 excluded: list[dict[str, str]], *, note: str, user_id: str | None = None) -> Plan:
    """Validate ``solution``, store it as the batch's next proposed version and move order states.

    Served orders become ``planned``; unserved and excluded ones go back to ``confirmed`` so the
    next batch of the hub takes them.
    """
    report = routing.validate(problem, solution)
    session.execute(update(Plan).where(Plan.batch_id == batch.id, Plan.state == "proposed")
                    .values(state="superseded"))
    unserved = unserved_entries(solution, excluded)
    plan = Plan(
        batch_id=batch.id, version=next_version(session, batch.id), state="proposed",
        problem=routing.problem_to_json(problem), solution=routing.solution_to_json(solution, problem),
        validation={"ok": report.ok, "violations": list(report.violations)},
        unserved=unserved, note=note, created_by=user_id, created_at=utcnow(),
    )
    session.add(plan)
    session.flush()
    for position, route in enumerate(solution.routes):
        session.add(route_row(plan.id, position, route, problem))
    _move_orders(session, solution.served, {u["order_id"] for u in unserved})
    session.flush()
    return plan


def route_row(plan_id: str, position: int, route: routing.Route, problem: routing.Problem) -> Route:
    """The Route row (with its Stop rows) of one courier route or drone sortie."""
    drone = route.mode == routing.DRONE
    row = Route(
        plan_id=plan_id, position=position, volunteer_id=None if drone else route.vehicle_id,
        drone_id=route.vehicle_id if drone else None, sortie=route.sortie, mode=route.mode,
        depart_at=problem.at(route.start), return_at=problem.at(route.end),
        distance_m=float(route.distance_m), state="planned",
    )
    row.stops = [
        Stop(seq=seq, order_id=stop.order_id, kind=stop.kind, eta=problem.at(stop.start),
             lon=stop.lon, lat=stop.lat)
        for seq, stop in enumerate(route.stops, start=1)
    ]
    return row


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
