"""Disruptions during the day: re-plan, never silently drop (issue 5, item 9).

A confirmed plan is what couriers and residents were told. When the day changes under it — a courier
calls off, a resident cancels a planned order, the hub's drones are grounded — the plan is *revised*:
a new confirmed version of the batch's plan replaces the old one (which becomes ``superseded``, so
history is kept), and everyone whose day changed gets an SMS in the same transaction:

* stops that lose their vehicle are inserted where they add least travel time on another courier
  of the hub who is on shift and still has room (cheapest feasible insertion after the courier's
  last handled stop; an idle courier on shift gets a new route). The new version is checked by
  :func:`routing.validate`; it is stored only when valid;
* what cannot be inserted goes back to the queue (``confirmed``) and the next batch of the hub takes
  it; it appears in the version's unserved list with the reason, and the resident is told;
* parcels a courier already carries stay in their custody: the courier is asked to bring them back,
  and records the return (a ``returned`` custody event) from their route, kept in the new version
  as ``cancelled`` with only those parcels; then the parcels are offered for the next batch.

Why insertion and not a new solve: the other couriers are already out with parcels and told their
stops; a re-solve would reshuffle every route for the sake of a few stops. Insertion changes only the
routes that must change. A *proposed* (unconfirmed) plan is simply solved again by the scheduler.
The routes are changed by :mod:`routing.repair` (removal, re-timing, insertion; no database); this
module loads the plan, decides from the orders' states what must move, saves the version and
queues the messages.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

import routing
from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import BatchState, OrderState, PlanState, RouteState, transition
from dispatch.localtime import timezone_of
from dispatch.models import Batch, Drone, Hub, Order, Plan, Volunteer, Zone
from dispatch.phrases import Phrase
from dispatch.planning.build import active_zones
from dispatch.planning.store import save_version
from dispatch.services import notify
from dispatch.services.plans import eta_window, load_version
from dispatch.services.signin import courier_link_url
from routing import repair

log = logging.getLogger(__name__)

#: Order states whose parcel is still at the hub (or supply point): they can move to another vehicle.
MOVABLE = frozenset({OrderState.PLANNED.value, OrderState.DISPATCHED.value})
#: States of an order whose parcel the courier has in hand (it comes back with them if they stop).
CARRIED = frozenset({OrderState.IN_TRANSIT.value, OrderState.FAILED.value})
#: States of an order whose stop is behind the courier (nothing may be inserted before it).
HANDLED = frozenset({OrderState.IN_TRANSIT.value, OrderState.DELIVERED.value, OrderState.FAILED.value,
                     OrderState.RETURNED.value, OrderState.CANCELLED.value})


@dataclass
class Revision:
    """What a disruption changed, for the caller (console flash, CLI output, simulator)."""

    plans: list[str] = field(default_factory=list)  # new confirmed plan versions
    moved: dict[str, str] = field(default_factory=dict)  # order id -> volunteer id it moved to
    queued: list[str] = field(default_factory=list)  # order ids back in the queue
    bring_back: list[str] = field(default_factory=list)  # order ids a courier must return to the hub
    removed: list[str] = field(default_factory=list)  # order ids taken off (cancelled)
    resolve: list[str] = field(default_factory=list)  # batch ids sent back to the solver
    in_air: list[str] = field(default_factory=list)  # grounded drones' sorties in the air: land them

    def merge(self, other: Revision) -> None:
        self.plans += other.plans
        self.moved.update(other.moved)
        self.queued += other.queued
        self.bring_back += other.bring_back
        self.removed += other.removed
        self.resolve += other.resolve
        self.in_air += other.in_air


# --- the public disruptions ----------------------------------------------------------------------


def _cancelled(number: int) -> str:
    """A plan version's note (and the re-plan's reason) when a resident cancelled an order."""
    return Phrase("order #%(number)s cancelled", {"number": number}).stored()


def courier_cancels(db: Database, volunteer_id: str, now: dt.datetime, actor: str,
                    settings: Settings) -> Revision:
    """A courier calls off for the rest of the day: not planned again before tomorrow, their
    remaining stops go to other couriers or back to the queue, parcels they carry come back."""
    with db.write() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        if volunteer is None:
            raise NotFound(f"volunteer {volunteer_id!r} does not exist")
        tz = timezone_of(session, volunteer)
        tomorrow = dt.datetime.combine(now.astimezone(tz).date() + dt.timedelta(days=1), dt.time(), tz)
        volunteer.off_until = tomorrow
        result = Revision()
        for plan in _confirmed_plans(session, volunteer.hub_id, now):
            if any(r.volunteer_id == volunteer_id for r in plan.routes):
                note = Phrase("courier %(code)s %(name)s called off", {"code": volunteer.code,
                                                                         "name": volunteer.name}).stored()
                result.merge(_revise(session, plan, now, settings, note=note, drop_vehicles={volunteer_id}))
        count = len(result.bring_back)
        notify.text_volunteer(session, volunteer, "courier_released", {"count": count}, now=now,
                              dedupe_key=f"courier_released:{volunteer.id}:{now.astimezone(tz).date()}")
        log.info("courier %s called off by %s: %d moved, %d queued, %d to bring back", volunteer.code,
                 actor, len(result.moved), len(result.queued), count)
        return result


def courier_returns(db: Database, volunteer_id: str, now: dt.datetime, actor: str) -> str:
    """Undo a call-off: the courier is on shift again for the rest of the day (planned from the
    next batch and any re-plan). The stops that went to other couriers stay with them: those
    couriers and residents were told, and moving them back would text everyone twice. Returns the
    courier's code."""
    with db.write() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        if volunteer is None:
            raise NotFound(f"volunteer {volunteer_id!r} does not exist")
        if volunteer.off_until is None or volunteer.off_until <= now:
            raise DomainError("courier %(code)s is not called off", code=volunteer.code)
        volunteer.off_until = None
        log.info("courier %s back on shift by %s", volunteer.code, actor)
        return volunteer.code


def order_cancelled(session: Session, order: Order, now: dt.datetime, settings: Settings) -> Revision:
    """Take a just-cancelled order off the plan it was on (inside the caller's transaction).

    On a confirmed plan its stop goes and the courier is told; on a proposed plan a new proposed
    version without it is stored (so the operator can still confirm).
    """
    if order.batch_id is None:
        return Revision()
    plan = _current_plan(session, order.batch_id)
    if plan is None or order.id not in {o["id"] for o in plan.problem["orders"]}:
        return Revision()
    if plan.state == PlanState.PROPOSED:
        _store(session, plan, *_without(plan, {order.id}), note=_cancelled(order.number),
               gone={order.id})
        return Revision(removed=[order.id])
    return _revise(session, plan, now, settings, note=_cancelled(order.number),
                   remove_orders={order.id})


def set_weather_hold(db: Database, hub_id: str, on: bool, now: dt.datetime, actor: str,
                     settings: Settings) -> Revision:
    """Ground (or release) every drone of a hub. Grounding moves the sorties not yet flown to ground
    couriers; proposed plans go back to the solver (which plans no drone while the hold lasts)."""
    with db.write() as session:
        hub = session.get(Hub, hub_id)
        if hub is None:
            raise NotFound(f"hub {hub_id!r} does not exist")
        hub.weather_hold = on
        log.info("hub %s weather hold %s by %s", hub.code, "on" if on else "off", actor)
        if not on:
            return Revision()
        return _ground(session, hub_id, None, now, settings, Phrase("weather hold").stored())


def ground_drone(db: Database, drone_id: str, now: dt.datetime, actor: str, settings: Settings,
                 status: str = "grounded") -> Revision:
    """Take one drone out of service (``grounded`` or ``maintenance``); its pending sorties go to
    ground couriers. ``status="available"`` puts it back (nothing is re-planned then)."""
    if status not in ("available", "grounded", "maintenance"):
        raise DomainError("drone status must be available, grounded or maintenance, not '%(status)s'",
                          status=status)
    with db.write() as session:
        drone = session.get(Drone, drone_id)
        if drone is None:
            raise NotFound(f"drone {drone_id!r} does not exist")
        drone.status = status
        log.info("drone %s %s by %s", drone.code, status, actor)
        if status == "available":
            return Revision()
        return _ground(session, drone.hub_id, drone.id, now, settings,
                       Phrase("drone %(code)s %(status)s", {"code": drone.code, "status": status}).stored())


def set_zone(db: Database, zone_id: str, active: bool | None, now: dt.datetime, actor: str,
             settings: Settings) -> Revision:
    """Switch a zone on or off by hand (``None``: back to its schedule). Sorties not yet flown whose
    path crosses a zone active now are moved to ground; the validator, given today's zones, says
    which drones fly those (all their sorties not yet taken off go to ground). A sortie already in
    the air is the pilot's to divert; the revised version keeps the zones it was planned with, and
    the next batches are planned with the new ones."""
    with db.write() as session:
        zone = session.get(Zone, zone_id)
        if zone is None:
            raise NotFound(f"zone {zone_id!r} does not exist")
        zone.active_override = active
        session.flush()
        log.info("zone %s override %s by %s", zone.identifier, active, actor)
        result = Revision()
        for hub in session.scalars(select(Hub).where(Hub.region_id == zone.region_id)).all():
            for plan in _confirmed_plans(session, hub.id, now):
                problem, solution = load_version(plan)
                zones = tuple(active_zones(session, zone.region_id, problem.at(0),
                                           problem.at(problem.horizon)))
                report = routing.validate(replace(problem, zones=zones), solution)
                blocked = {m.group(1) for v in report.violations if (m := _ZONE_VIOLATION.match(v))}
                if blocked:
                    note = Phrase("no-fly zone %(zone)s", {"zone": zone.name or zone.identifier}).stored()
                    result.merge(_revise(session, plan, now, settings, note=note, ground_drones=blocked))
        return result


#: ``routing.validate``'s message for a drone leg through a zone: the drone id is group 1.
_ZONE_VIOLATION = re.compile(r"drone '([^']+)' sortie \d+: leg \d+ flies through (?:no-fly )?zone")


# --- revising a confirmed plan -------------------------------------------------------------------


def _confirmed_plans(session: Session, hub_id: str, now: dt.datetime) -> list[Plan]:
    """The hub's confirmed plans of today (the hub's local day of ``now``) and later: a plan of a
    past day is the record of what happened, never revised."""
    tz = timezone_of(session, session.get_one(Hub, hub_id))
    today = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tz).astimezone(dt.UTC)
    return list(session.scalars(
        select(Plan).join(Batch, Plan.batch_id == Batch.id)
        .where(Batch.hub_id == hub_id, Plan.state == PlanState.CONFIRMED, Batch.cutoff_at >= today)
        .order_by(Batch.cutoff_at)))


def _current_plan(session: Session, batch_id: str) -> Plan | None:
    """The batch's confirmed plan, else its latest proposed version."""
    rows = session.scalars(select(Plan).where(Plan.batch_id == batch_id,
                                              Plan.state.in_((PlanState.CONFIRMED, PlanState.PROPOSED)))
                           .order_by(Plan.version.desc())).all()
    return next((p for p in rows if p.state == PlanState.CONFIRMED), rows[0] if rows else None)


def _without(plan: Plan, order_ids: set[str]) -> tuple[routing.Problem, routing.Solution]:
    """The plan's problem and solution with ``order_ids`` taken out entirely (cancelled orders)."""
    return repair.drop_orders(*load_version(plan), order_ids)


def _store(session: Session, plan: Plan, problem: routing.Problem, solution: routing.Solution,
           note: str, extra: list[dict[str, str]] | None = None, gone: set[str] = frozenset()) -> Plan:
    """Save the next version; unserved entries of orders kept out of the problem carry over,
    except those of ``gone`` orders (cancelled) and those ``extra`` restates."""
    extra = extra or []
    keep_out = {o.id for o in problem.orders} | {u.order_id for u in solution.unserved} | set(gone) | {
        u["order_id"] for u in extra}
    excluded = [u for u in plan.unserved if u["order_id"] not in keep_out]
    batch = session.get(Batch, plan.batch_id)
    assert batch is not None
    return save_version(session, batch, problem, solution, [*excluded, *extra], note=note)


def _revise(session: Session, plan: Plan, now: dt.datetime, settings: Settings, *, note: str,
            drop_vehicles: frozenset[str] | set[str] = frozenset(), remove_orders: set[str] | None = None,
            ground_drones: set[str] | None = None) -> Revision:
    """Store a new confirmed version of ``plan`` with the given vehicles / orders taken off and
    the orphaned stops re-inserted, and queue the SMS of everyone affected."""
    remove_orders = remove_orders or set()
    problem, solution = _without(plan, remove_orders) if remove_orders else load_version(plan)
    ids = [o.id for o in problem.orders]
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids)))}
    result = Revision(removed=sorted(remove_orders))
    legs = repair.RoadLegs(problem)  # one road table for every re-timing and insertion below

    # 1. Routes that lose their vehicle: which of their orders must find another one.
    orphans: list[str] = []
    kept: list[routing.Route] = []
    called_off: list[routing.Route] = []  # what a called-off courier still holds or has done
    t_now = (now - problem.t0).total_seconds()
    # What staff recorded, not what the plan says: a sortie is off the ground only once its take-off
    # is recorded (late or not); one in the air finishes, and its pilot is told to land.
    took_off = {(r.drone_id, r.sortie): r for r in plan.routes
                if r.drone_id is not None and r.state != RouteState.PLANNED}
    for r in solution.routes:
        if r.mode == routing.DRONE and ground_drones is not None:
            flown = took_off.get((r.vehicle_id, r.sortie))
            lost = r.vehicle_id in ground_drones and flown is None
            if r.vehicle_id in ground_drones and flown is not None and flown.state == RouteState.ACTIVE:
                result.in_air.append(flown.id)
        else:
            lost = r.vehicle_id in drop_vehicles
        if not lost:
            kept.append(r)
            continue
        for st in r.stops:
            if st.kind == "delivery" or (r.mode == routing.DRONE and st.kind == "transfer"):
                state = orders[st.order_id].state
                if state in MOVABLE and st.order_id not in orphans:
                    orphans.append(st.order_id)
                elif state in CARRIED and r.mode != routing.DRONE:
                    result.bring_back.append(st.order_id)
        if r.mode != routing.DRONE:
            # The route stays, cancelled, with what is done or still in the courier's hands: the
            # custody record needs it, and the courier returns those parcels from it.
            rest = [st for st in r.stops if st.order_id not in orphans]
            if rest:
                called_off.append(repair.retime(problem, r, rest, legs=legs))
    # A courier route that delivered a shuttled parcel needs no drone any more for it: drop the
    # orphan's stops from every remaining route, then insert it afresh.
    kept = repair.remove_orders(problem, kept, orphans, legs=legs)
    if ground_drones is not None:
        problem = replace(problem, orders=tuple(
            replace(o, modes=o.modes - {routing.DRONE}) if o.id in orphans else o for o in problem.orders))

    # 2. Cheapest feasible insertion of each orphan (most urgent first).
    without_orphans = [*kept, *called_off]  # the fallback if the insertions do not validate
    handled = {o.id for o in orders.values() if o.state in HANDLED}
    insertion = repair.insert_orders(problem, kept, orphans, now=t_now, handled=handled,
                                     excluded=drop_vehicles, legs=legs)
    result.moved.update(insertion.placed)
    result.queued += insertion.left
    changed = set(insertion.placed.values())
    unserved_extra = [{"order_id": order_id, "reason": "replanned",
                       "detail": Phrase("%(note)s: no courier could take it; back to the queue",
                                         {"note": note}).stored()}
                      for order_id in insertion.left]
    routes = repair.in_solver_order([*insertion.routes, *called_off])
    queued = set(result.queued)
    new_problem = replace(problem, orders=tuple(o for o in problem.orders if o.id not in queued))
    new_solution = repair.with_routes(solution, routes,
                                      tuple(u for u in solution.unserved if u.order_id not in queued))
    if not routing.validate(new_problem, new_solution).ok:
        # Never confirm an invalid plan: send every orphan back to the queue instead.
        log.warning("plan %s: revision did not validate; orphans queued", plan.id)
        return _revise_by_queueing(session, plan, now, settings, note, problem, solution, without_orphans,
                                   orphans, result, {r.vehicle_id for r in called_off})
    new = _store(session, plan, new_problem, new_solution, note, unserved_extra, remove_orders)
    _confirm_revision(session, plan, new, now, cancelled={r.vehicle_id for r in called_off})
    result.plans.append(new.id)
    _notify(session, plan, new, orders, result, changed, now, settings)
    return result


def _revise_by_queueing(session: Session, plan: Plan, now: dt.datetime, settings: Settings, note: str,
                        problem: routing.Problem, solution: routing.Solution, kept: list[routing.Route],
                        orphans: list[str], result: Revision, cancelled: set[str]) -> Revision:
    """The revision without any insertion: every orphan back to the queue (``kept`` holds no stop of
    theirs)."""
    result.moved.clear()
    result.queued = list(orphans)
    queued = set(orphans)
    new_problem = replace(problem, orders=tuple(o for o in problem.orders if o.id not in queued))
    back = Phrase("%(note)s: back to the queue", {"note": note}).stored()
    extra = [{"order_id": o, "reason": "replanned", "detail": back} for o in orphans]
    new = _store(session, plan, new_problem, repair.with_routes(solution, repair.in_solver_order(kept)), note,
                 extra, set(result.removed))
    _confirm_revision(session, plan, new, now, cancelled=cancelled)
    result.plans.append(new.id)
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(orphans)))}
    _notify(session, plan, new, orders, result, set(), now, settings)
    return result


def _confirm_revision(session: Session, old: Plan, new: Plan, now: dt.datetime,
                      cancelled: set[str] | frozenset[str] = frozenset()) -> None:
    """``new`` replaces the confirmed ``old``; routes that continue keep their progress state, the
    routes of ``cancelled`` couriers are ``cancelled`` (they only bring parcels back)."""
    transition(old, PlanState.SUPERSEDED)
    transition(new, PlanState.CONFIRMED)
    new.confirmed_at = now
    progress = {r.volunteer_id: r.state for r in old.routes if r.volunteer_id is not None}
    for route in new.routes:
        if route.volunteer_id in cancelled:
            transition(route, RouteState.CANCELLED)
        elif route.volunteer_id in progress:
            route.state = progress[route.volunteer_id]  # a new row carries on the old one: not a move
    session.flush()


def _ground(session: Session, hub_id: str, drone_id: str | None, now: dt.datetime, settings: Settings,
            note: str) -> Revision:
    result = Revision()
    for plan in _confirmed_plans(session, hub_id, now):
        drones = {r.drone_id for r in plan.routes if r.drone_id is not None}
        targets = drones if drone_id is None else drones & {drone_id}
        if targets:
            result.merge(_revise(session, plan, now, settings, note=note, ground_drones=set(targets)))
    # Proposed plans: back to the solver, which sees the hold / the drone's status.
    solved = session.scalars(select(Batch).where(Batch.hub_id == hub_id,
                                                 Batch.state == BatchState.SOLVED)).all()
    for batch in solved:
        current = _current_plan(session, batch.id)
        if current is not None and current.state == PlanState.PROPOSED:
            transition(batch, BatchState.CLOSED)
            batch.reason, batch.replan_reason = "", note
            result.resolve.append(batch.id)
    return result


# --- telling people ------------------------------------------------------------------------------


def _notify(session: Session, old: Plan, new: Plan, orders: dict[str, Order], result: Revision,
            changed: set[str], now: dt.datetime, settings: Settings) -> None:
    batch = session.get(Batch, new.batch_id)
    assert batch is not None
    tz = timezone_of(session, batch.hub)
    old_eta = {st.order_id: st.eta for r in old.routes for st in r.stops if st.kind == "delivery"}
    new_stop = {st.order_id: (r, st) for r in new.routes for st in r.stops if st.kind == "delivery"}
    key = f"{new.id}"
    for order_id in result.moved:
        order = orders[order_id]
        route, stop = new_stop[order_id]
        if stop.eta is None:
            continue
        start, end = eta_window(stop.eta, tz)
        if old_eta.get(order_id) is not None and eta_window(old_eta[order_id], tz) == (start, end):
            continue  # same window: nothing to tell
        params = {"window_start": start.isoformat(), "window_end": end.isoformat()}
        notify.text_resident(session, order, "eta_changed", params, now=now,
                             dedupe_key=f"eta_changed:{key}:{order.id}")
    for order_id in result.queued:
        order = orders[order_id]
        notify.text_resident(session, order, "rescheduled", {}, now=now,
                             dedupe_key=f"rescheduled:{key}:{order.id}")
    removed_from: dict[str, list[int]] = {}
    for route in old.routes:
        for st in route.stops:
            if st.order_id in result.removed and route.volunteer_id and st.kind == "delivery":
                removed_from.setdefault(route.volunteer_id, []).append(
                    session.get(Order, st.order_id).number)  # type: ignore[union-attr]
    for volunteer_id, numbers in removed_from.items():
        volunteer = session.get(Volunteer, volunteer_id)
        if volunteer is not None:
            for number in numbers:
                notify.text_volunteer(session, volunteer, "stop_cancelled", {"number": number}, now=now,
                                      dedupe_key=f"stop_cancelled:{key}:{number}")
    for volunteer_id in changed:
        volunteer = session.get(Volunteer, volunteer_id)
        if volunteer is None:
            continue
        url = courier_link_url(session, volunteer.id, settings, now)
        notify.text_volunteer(session, volunteer, "route_changed", {"url": url}, now=now,
                              dedupe_key=f"route_changed:{key}:{volunteer.id}")


__all__ = ["Revision", "courier_cancels", "courier_returns", "ground_drone", "order_cancelled",
           "set_weather_hold", "set_zone"]
