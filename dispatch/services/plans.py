"""Operator edits of a proposed plan, and confirming it (issue 5, item 6).

Every edit works on the batch's *latest* version, which must be ``proposed``; it stores a new
version (the old one is superseded) with the validator's report, so an edit that breaks a
constraint is kept, visible and unconfirmable until the operator fixes it. :func:`confirm_plan`
refuses any version that is not the latest proposed one or whose report is not ok.

Confirming queues, in the same transaction (sent after commit by the outbox worker):

* each courier with stops: ``courier_route_link`` with a single-use sign-in link to their route;
* each served resident: ``order_planned`` with the ETA window (local times). The PIN is **not** in
  the stored message: the params carry ``pin_order_id`` and the sender calls
  :func:`pin_for_notification` at send time (it re-issues the PIN), renders with it, and stores
  only the redacted text (``outbox.mark_sent(..., redacted_body=...)``).

Drone sorties are the plan's drone Route rows; :func:`drone_sorties` lists them for hub staff with
the flight-log fields. Orders stay ``planned`` at confirmation; they become ``dispatched`` at the
hand-over to the courier or drone (a custody event), as :mod:`dispatch.lifecycle` describes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import routing
from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import BATCH_PENDING, BatchState, OrderState, PlanState, transition
from dispatch.localtime import timezone_of
from dispatch.models import Batch, Drone, Hub, Order, Plan, Route, Volunteer
from dispatch.phrases import Phrase
from dispatch.planning.bus import bus_stop_name, carry_bus_routes
from dispatch.planning.run import plan_batch
from dispatch.planning.store import save_version
from dispatch.services import notify
from dispatch.services.pins import issue_pin
from dispatch.services.signin import courier_link_url
from routing import repair

#: The resident's ETA window: the planned time rounded down to this step, lasting ``ETA_WINDOW``.
ETA_STEP = dt.timedelta(minutes=15)
ETA_WINDOW = dt.timedelta(hours=1)

Edited = tuple[routing.Problem, routing.Solution]


# --- loading and saving a version ----------------------------------------------------------------


def _latest_proposed(session: Session, plan_id: str) -> tuple[Plan, Batch]:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"plan {plan_id!r} does not exist")
    latest = session.scalar(select(func.max(Plan.version)).where(Plan.batch_id == plan.batch_id))
    if plan.version != latest:
        raise DomainError("plan %(plan_id)s is version %(version)s; the latest is %(latest)s: edit that one",
                          plan_id=plan_id, version=plan.version, latest=latest)
    if plan.state != PlanState.PROPOSED:
        raise DomainError("plan %(plan_id)s is %(state)s, only a proposed plan can change",
                          plan_id=plan_id, state=plan.state)
    batch = session.get(Batch, plan.batch_id)
    assert batch is not None
    return plan, batch


def _excluded(plan: Plan, solution: routing.Solution) -> list[dict[str, str]]:
    """Unserved entries of orders that are not in the problem (kept from version to version)."""
    solver = {u.order_id for u in solution.unserved}
    return [u for u in plan.unserved if u["order_id"] not in solver]


def load_version(plan: Plan) -> Edited:
    """The stored version's problem and solution (written by routing itself: no schema check,
    which was most of the time of an edit)."""
    return (routing.problem_from_json(plan.problem, check_schema=False),
            routing.solution_from_json(plan.solution, check_schema=False))


def _save_edit(session: Session, plan: Plan, batch: Batch, edited: Edited, note: str, user_id: str | None,
               dropped: list[dict[str, str]] | None = None) -> str:
    """Store the edited problem and solution as the batch's next version; return its id."""
    before = routing.solution_from_json(plan.solution, check_schema=False)
    excluded = [*_excluded(plan, before), *(dropped or [])]
    problem, solution = edited
    new = save_version(session, batch, problem, solution, excluded, note=note, user_id=user_id)
    carry_bus_routes(session, plan, new)
    return new.id


def _number(session: Session, order_id: str) -> int | str:
    """The order's number for a plan version's note (its id when it no longer exists)."""
    order = session.get(Order, order_id)
    return order.number if order is not None else order_id


def _who(session: Session, vehicle_id: str) -> str:
    """A courier as the operator knows them in a note: code and name."""
    volunteer = session.get(Volunteer, vehicle_id)
    return f"{volunteer.code} {volunteer.name}" if volunteer is not None else vehicle_id


def _courier(problem: routing.Problem, vehicle_id: str) -> routing.Vehicle:
    for v in problem.vehicles:
        if v.id == vehicle_id:
            return v
    if any(d.id == vehicle_id for d in problem.drones):
        raise DomainError("%(vehicle_id)s is a drone: stops can only be moved onto couriers",
                          vehicle_id=vehicle_id)
    raise NotFound(f"courier {vehicle_id!r} is not in this plan's problem (not on shift)")


def _served_on(solution: routing.Solution, order_id: str) -> routing.Route:
    for r in solution.routes:
        if any(st.order_id == order_id and st.kind == "delivery" for st in r.stops):
            return r
    raise DomainError("order %(order_id)s is not on a route of this plan (unserved orders cannot be moved)",
                      order_id=order_id)


# --- edits ---------------------------------------------------------------------------------------


def move_stop(db: Database, plan_id: str, order_id: str, to_vehicle_id: str, position: int,
              user_id: str | None = None) -> str:
    """Move an order onto courier ``to_vehicle_id``, its stops inserted before stop index
    ``position`` (0-based; beyond the end appends). Returns the new plan version's id."""
    with db.write() as session:
        plan, batch = _latest_proposed(session, plan_id)
        problem, solution = load_version(plan)
        _served_on(solution, order_id)
        _courier(problem, to_vehicle_id)
        edited = problem, repair.move_order(problem, solution, order_id, to_vehicle_id, position)
        note = Phrase("moved order #%(number)s to %(courier)s as stop %(position)s",
                      {"number": _number(session, order_id), "courier": _who(session, to_vehicle_id),
                       "position": position + 1})
        return _save_edit(session, plan, batch, edited, note.stored(), user_id)


def reorder(db: Database, plan_id: str, vehicle_id: str, order_ids: list[str],
            user_id: str | None = None) -> str:
    """Visit the deliveries of courier ``vehicle_id`` in the order ``order_ids`` (each delivered
    order of the route exactly once); pickups keep their places in the sequence."""
    with db.write() as session:
        plan, batch = _latest_proposed(session, plan_id)
        problem, solution = load_version(plan)
        try:
            edited = problem, repair.reorder(problem, solution, vehicle_id, order_ids)
        except repair.RepairError as error:
            raise DomainError(str(error)) from error
        note = Phrase("changed the order of %(courier)s's stops", {"courier": _who(session, vehicle_id)})
        return _save_edit(session, plan, batch, edited, note.stored(), user_id)


def drop_order(db: Database, plan_id: str, order_id: str, user_id: str | None = None) -> str:
    """Take an order out of the plan; it goes back to ``confirmed`` for the next batch."""
    with db.write() as session:
        plan, batch = _latest_proposed(session, plan_id)
        problem, solution = load_version(plan)
        if not any(o.id == order_id for o in problem.orders):
            raise DomainError("order %(order_id)s is not in this plan", order_id=order_id)
        dropped = [{"order_id": order_id, "reason": "dropped",
                    "detail": "dropped by the operator to the next batch"}]
        return _save_edit(session, plan, batch, repair.drop_orders(problem, solution, {order_id}),
                          Phrase("dropped order #%(number)s to the next batch",
                                 {"number": _number(session, order_id)}).stored(), user_id, dropped)


def ground_here(db: Database, plan_id: str, order_id: str, user_id: str | None = None) -> str:
    """Force an order onto the ground as a local change: off its drone sortie (or courier) and
    into the courier route where it adds least time (:func:`routing.repair.insert_orders`), every
    other route as it was. Returns the new version's id.

    The console's "Force ground": under two seconds where a re-solve of the batch takes half a
    minute (:func:`request_ground` remains for the full re-plan). The order keeps
    ``force_ground`` so a later re-plan respects it. When no courier can take it, it is unserved
    in the new version (the validator and the operator see it) with the reason.
    """
    with db.write() as session:
        plan, batch = _latest_proposed(session, plan_id)
        problem, solution = load_version(plan)
        if not any(o.id == order_id for o in problem.orders):
            raise DomainError("order %(order_id)s is not in this plan", order_id=order_id)
        order = session.get_one(Order, order_id)
        order.force_ground = True
        problem = replace(problem, orders=tuple(
            replace(o, modes=o.modes - {routing.DRONE}) if o.id == order_id else o for o in problem.orders))
        legs = repair.RoadLegs(problem)
        routes = repair.remove_orders(problem, solution.routes, {order_id}, legs=legs)
        insertion = repair.insert_orders(problem, routes, [order_id], now=0, legs=legs)
        unserved = tuple(u for u in solution.unserved if u.order_id != order_id)
        if insertion.left:
            unserved += (routing.Unserved(order_id, "no_eligible_vehicle",
                                          "forced to the ground: no courier on shift has room for it"),)
        edited = problem, repair.with_routes(solution, repair.in_solver_order(insertion.routes), unserved)
        note = Phrase("force ground order #%(number)s (local change)", {"number": order.number}).stored()
        return _save_edit(session, plan, batch, edited, note, user_id)


def restore_previous(db: Database, plan_id: str, user_id: str | None = None) -> str:
    """Undo the edit that made ``plan_id`` (the batch's latest proposed version): the version
    before it is stored again as the next version (history keeps both). Returns its id.

    Refused when there is no earlier version, or when an order of that version has moved on
    since (cancelled, or taken by another batch after being dropped): undo never pulls an order
    back from elsewhere. Nobody is texted: a proposed plan has told no one anything.
    """
    with db.write() as session:
        plan, batch = _latest_proposed(session, plan_id)
        before = session.scalar(select(Plan).where(Plan.batch_id == batch.id, Plan.version < plan.version)
                                .order_by(Plan.version.desc()).limit(1))
        if before is None:
            raise DomainError("version %(version)s is the first of this plan: there is nothing to undo",
                              version=plan.version)
        problem, solution = load_version(before)
        ids = [o.id for o in problem.orders]
        for order in session.scalars(select(Order).where(Order.id.in_(ids))):
            if order.batch_id != batch.id or order.state not in (
                    OrderState.BATCHED.value, OrderState.PLANNED.value, OrderState.CONFIRMED.value):
                raise DomainError("order #%(number)s is %(state)s now: version %(version)s cannot come back",
                                  number=order.number, state=order.state, version=before.version)
            if order.state == OrderState.CONFIRMED.value:  # dropped by the edit: back into this batch
                transition(order, OrderState.BATCHED)
        excluded = _excluded(before, solution)
        note = Phrase("restored version %(version)s (undo)", {"version": before.version}).stored()
        return save_version(session, batch, problem, solution, excluded, note=note, user_id=user_id).id


def request_ground(db: Database, plan_id: str, order_id: str, user_id: str | None = None) -> str:
    """Forbid drones for an order and send its batch back to the solver; returns the batch id.

    The console calls this: a web request never solves. The scheduler's worker (``hakobu
    scheduler``) re-plans the batch within seconds, and the new proposed version replaces the
    operator's earlier edits of this plan (the solver plans from the orders, not from the edits).
    """
    with db.write() as session:
        plan, batch = _latest_proposed(session, plan_id)
        if order_id not in {o["id"] for o in plan.problem["orders"]}:
            raise DomainError("order %(order_id)s is not in this plan", order_id=order_id)
        if batch.state in BATCH_PENDING and batch.replan_reason is not None:
            raise DomainError("batch %(id)s is already being planned again (%(display_reason)s)",
                              id=batch.id, display_reason=batch.display_reason)
        order = session.get(Order, order_id)
        assert order is not None
        order.force_ground = True
        if batch.state != BatchState.CLOSED:
            transition(batch, BatchState.CLOSED)
        batch.reason = ""
        batch.replan_reason = Phrase("force ground order #%(number)s", {"number": order.number}).stored()
        return batch.id


def force_ground(db: Database, plan_id: str, order_id: str, user_id: str | None = None, *,
                 time_limit_s: float, solution_limit: int | None = None) -> str:
    """:func:`request_ground`, then the re-plan at once in this process (command line and tests;
    the console only requests it). Returns the new version's id."""
    from dispatch.services.solving import solve_batch

    batch_id = request_ground(db, plan_id, order_id, user_id)
    state = solve_batch(db.url, batch_id, lambda d, b: plan_batch(
        d, b, time_limit_s=time_limit_s, solution_limit=solution_limit, user_id=user_id))
    if state != BatchState.SOLVED:
        raise DomainError("the re-plan of batch %(batch_id)s %(state)s", batch_id=batch_id, state=state)
    with db.read() as session:
        plan_id = session.scalars(select(Plan.id).where(Plan.batch_id == batch_id)
                                  .order_by(Plan.version.desc())).first()
    assert plan_id is not None
    return plan_id


# --- confirming ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmation:
    """What :func:`confirm_plan` queued."""

    plan_id: str
    courier_messages: int
    resident_messages: int
    drone_sorties: int
    retimed: bool = False  # the first ETA had passed: a re-timed version was confirmed


#: ETAs this far in the past at confirmation make the plan re-timed from now (or refused).
PAST_ETA_GRACE = dt.timedelta(minutes=5)


class PastEtas(DomainError):
    """The plan's first ETA has passed and, re-timed from now, it breaks its own rules."""


def first_eta(plan: Plan) -> dt.datetime | None:
    """The earliest arrival at any stop of the plan (aware UTC), None for a plan with no stop."""
    etas = [st.eta for r in plan.routes for st in r.stops if st.eta is not None]
    return min(etas) if etas else None


def confirm_plan(db: Database, plan_id: str, user_id: str | None, now: dt.datetime,
                 settings: Settings, *, as_planned: bool = False) -> Confirmation:
    """Confirm the latest proposed, valid version of a batch's plan and queue the notifications
    (``settings``: the courier links' secret, lifetime and public address).

    A plan whose first ETA is already past (confirmed late) would text residents times that have
    gone by: it is re-timed from ``now`` (:func:`routing.repair.retime_from`) and that version is
    confirmed. If the re-timed plan breaks a rule (a window it can no longer make, a shift that
    ends), :class:`PastEtas` says so and nothing is confirmed; the operator re-plans, or confirms
    the times as planned with ``as_planned=True``."""
    with db.write() as session:
        plan, batch = _latest_proposed(session, plan_id)
        if not plan.validation.get("ok"):
            count = len(plan.validation.get("violations", []))
            raise DomainError("plan %(plan_id)s (version %(version)s) is invalid (%(count)s violations); "
                              "fix it before confirming",
                              plan_id=plan_id, version=plan.version, count=count)
        first = first_eta(plan)
        retimed = not as_planned and first is not None and first < now - PAST_ETA_GRACE
        if retimed:
            plan = _retimed(session, plan, batch, now, user_id)
        served = [st.order_id for r in plan.routes for st in r.stops if st.kind == "delivery"]
        orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(served)))}
        stale = sorted(o.number for o in orders.values() if o.state != OrderState.PLANNED.value)
        if stale:
            raise DomainError("orders %(stale)s changed state since planning (cancelled?); drop them first",
                              stale=stale)
        transition(plan, PlanState.CONFIRMED)
        plan.confirmed_at, plan.created_by = now, plan.created_by or user_id
        couriers = _queue_courier_links(session, plan, settings, now)
        residents = _queue_resident_etas(session, plan, orders, timezone_of(session, batch.hub), now)
        return Confirmation(plan.id, couriers, residents, sum(1 for r in plan.routes if r.drone_id),
                            retimed)


def _retimed(session: Session, plan: Plan, batch: Batch, now: dt.datetime, user_id: str | None) -> Plan:
    """The plan re-timed from ``now``, stored as the batch's next version; :class:`PastEtas` when
    that version does not validate."""
    problem, solution = load_version(plan)
    first = first_eta(plan)
    assert first is not None
    retimed = repair.retime_from(problem, solution, int((now - problem.t0).total_seconds()))
    report = routing.validate(problem, retimed)
    if not report.ok:
        raise PastEtas("its first ETA (%(first)s) has passed, and re-timed from now (%(now)s) it breaks "
                       "%(count)s rule(s) (%(violations)s): re-plan the batch, or confirm the planned times "
                       "as they are",
                       first=first, now=now, count=len(report.violations), violations=report.violations[0])
    new_id = _save_edit(session, plan, batch, (problem, retimed),
                        Phrase("re-timed from %(now)s: the first ETA (%(first)s) had passed",
                               {"now": now, "first": first}).stored(), user_id)
    return session.get_one(Plan, new_id)


def _queue_courier_links(session: Session, plan: Plan, settings: Settings, now: dt.datetime) -> int:
    count = 0
    for route in plan.routes:
        if route.volunteer_id is None or not route.stops:
            continue
        volunteer = session.get(Volunteer, route.volunteer_id)
        assert volunteer is not None
        url = courier_link_url(session, volunteer.id, settings, now)
        queued = notify.text_volunteer(session, volunteer, "courier_route_link", {"url": url}, now=now,
                                       dedupe_key=f"courier_route_link:{plan.id}:{volunteer.id}")
        count += queued is not None
    return count


def eta_window(eta: dt.datetime, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The window told to the resident: ``eta`` rounded down to ``ETA_STEP``, lasting ``ETA_WINDOW``."""
    local = eta.astimezone(tz)
    step = int(ETA_STEP.total_seconds())
    floor = local - dt.timedelta(seconds=(local.hour * 3600 + local.minute * 60 + local.second) % step,
                                 microseconds=local.microsecond)
    return floor, floor + ETA_WINDOW


def _queue_resident_etas(session: Session, plan: Plan, orders: dict[str, Order], tz: ZoneInfo,
                         now: dt.datetime) -> int:
    count = 0
    for route in plan.routes:
        for stop in route.stops:
            if stop.kind != "delivery" or stop.eta is None:
                continue
            order = orders[stop.order_id]
            issue_pin(session, order)  # the order is PIN-protected from now on; the SMS gets a fresh one
            if route.mode == "bus":  # collected from the driver at the stop, at the bus's time
                template = "order_by_bus"
                params = {"window_start": stop.eta.isoformat(), "stop": bus_stop_name(session, route, stop),
                          "pin_order_id": order.id}
            else:
                template = "order_planned"
                start, end = eta_window(stop.eta, tz)
                params = {"window_start": start.isoformat(), "window_end": end.isoformat(),
                          "pin_order_id": order.id}
            queued = notify.text_resident(session, order, template, params, now=now,
                                          dedupe_key=f"{template}:{plan.id}:{order.id}")
            count += queued is not None
    return count


def pin_for_notification(db: Database, order_id: str) -> str:
    """Issue a fresh delivery PIN for ``order_id`` at send time and return it (only its hash is
    stored). The SMS sender calls this for a message whose params carry ``pin_order_id``, renders
    with ``pin``, and stores only the redacted text. Re-issuing invalidates any earlier PIN."""
    with db.write() as session:
        order = session.get(Order, order_id)
        if order is None:
            raise NotFound(f"order {order_id!r} does not exist")
        if order.state not in (OrderState.PLANNED.value, OrderState.DISPATCHED.value,
                               OrderState.IN_TRANSIT.value):
            raise DomainError("order #%(number)s is %(state)s: no PIN to send",
                              number=order.number, state=order.state)
        return issue_pin(session, order)


# --- drone sorties for hub staff -----------------------------------------------------------------


@dataclass(frozen=True)
class SortieLog:
    """One drone sortie with the flight-log fields hub staff record."""

    route_id: str
    aircraft: str
    model: str
    sortie: int | None
    takeoff_place: str
    takeoff_at: dt.datetime | None
    landing_place: str
    landing_at: dt.datetime | None
    waypoints: tuple[tuple[float, float], ...]
    order_numbers: tuple[int, ...]
    distance_m: float


def drone_sorties(db: Database, plan_id: str) -> list[SortieLog]:
    """The drone sorties of a plan in take-off order, with the flight path (WGS84 lon/lat:
    base, detour waypoints, drop points, back to base)."""
    with db.read() as session:
        # The solution only: the problem (roads and all) is most of a plan row to decode.
        solution = session.scalar(select(Plan.solution).where(Plan.id == plan_id))
        if solution is None:
            raise NotFound(f"plan {plan_id!r} does not exist")
        paths = {(r["vehicle_id"], r["sortie"]): r for r in solution.get("routes", [])
                 if r["mode"] == routing.DRONE}
        out = []
        rows = session.scalars(select(Route).where(Route.plan_id == plan_id, Route.drone_id.is_not(None))
                               .order_by(Route.depart_at))
        for route in rows:
            drone = session.get(Drone, route.drone_id)
            hub = session.get(Hub, drone.hub_id) if drone is not None else None
            assert drone is not None and hub is not None
            numbers = session.scalars(select(Order.number).where(
                Order.id.in_([st.order_id for st in route.stops if st.kind == "delivery"]))).all()
            out.append(SortieLog(
                route_id=route.id, aircraft=drone.code, model=drone.model, sortie=route.sortie,
                takeoff_place=hub.name, takeoff_at=route.depart_at, landing_place=hub.name,
                landing_at=route.return_at, waypoints=_flight_path(paths.get((drone.id, route.sortie)), hub),
                order_numbers=tuple(sorted(numbers)), distance_m=route.distance_m,
            ))
        return out


def _flight_path(route: dict[str, object] | None, hub: Hub) -> tuple[tuple[float, float], ...]:
    points: list[tuple[float, float]] = [(hub.lon, hub.lat)]
    if route is not None:
        for stop in route["stops"]:  # type: ignore[attr-defined]
            points += [(float(x), float(y)) for x, y in stop["via"]]
            points.append((float(stop["lon"]), float(stop["lat"])))
        points += [(float(x), float(y)) for x, y in route["end_via"]]  # type: ignore[attr-defined]
    points.append((hub.lon, hub.lat))
    return tuple(points)
