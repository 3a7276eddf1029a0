"""Drone sorties as hub staff record them: take-off and landing (issue 5, items 6-7).

A sortie is a drone Route row of a confirmed plan. Hub staff (or the simulator) record when it took
off and when it came back; each records the custody of every parcel on board, proven by the drone's
flight log (``drone_log``), with the staff member as the actor:

* **shuttle** sortie (supply point → hub): take-off ``supply_to_drone``, landing ``drone_to_hub``.
  The order stays ``planned``: it is not yet out for delivery, a courier picks it up at the hub
  (which :mod:`dispatch.services.delivery` allows only once the landing is recorded);
* **direct** sortie (hub → the resident's drop point → hub): take-off ``hub_to_drone`` (order
  ``dispatched → in_transit``, the resident told it is on its way), and at the drop
  ``drone_to_resident`` (order ``delivered``, the receipt SMS queued).

Recording twice is harmless: a parcel whose custody already moved is skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import OrderState, transition
from dispatch.models import Batch, Order, Plan, Resident, Route
from dispatch.services import outbox
from dispatch.services.delivery import holder
from dispatch.services.handoffs import append_event


@dataclass
class SortieRecord:
    """Which parcels moved (``moved``) and which were left alone, with why (``skipped``)."""

    route_id: str
    moved: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def _sortie(session: Session, route_id: str) -> Route:
    route = session.get(Route, route_id)
    if route is None or route.drone_id is None:
        raise NotFound(f"drone sortie {route_id!r} does not exist")
    plan = session.get(Plan, route.plan_id)
    if plan is None or plan.state != "confirmed":
        raise DomainError(f"sortie {route_id} is not on a confirmed plan")
    return route


def _orders(session: Session, route: Route) -> list[tuple[Order, str]]:
    """(order, stop kind) of every parcel of the sortie, in stop order."""
    out = []
    for stop in sorted(route.stops, key=lambda s: s.seq):
        order = session.get(Order, stop.order_id)
        assert order is not None
        out.append((order, stop.kind))
    return out


def take_off(db: Database, route_id: str, actor: str, now: dt.datetime) -> SortieRecord:
    """Record the sortie's take-off: the drone takes custody of every parcel on board."""
    with db.write() as session:
        route = _sortie(session, route_id)
        drone = f"drone:{route.drone_id}"
        record = SortieRecord(route.id)
        for order, kind in _orders(session, route):
            held_by = holder(session, order)
            if order.state != OrderState.PLANNED.value or held_by.split(":", 1)[0] not in ("hub", "supply"):
                record.skipped[order.number] = f"{order.state}, held by {held_by.split(':', 1)[0]}"
                continue
            event = "supply_to_drone" if held_by.startswith("supply:") else "hub_to_drone"
            append_event(session, order.id, event, held_by, drone, actor, "drone_log", now)
            if kind == "delivery":  # a direct sortie: the parcel is now out for delivery
                transition(order, OrderState.DISPATCHED)
                transition(order, OrderState.IN_TRANSIT)
                _tell(session, order, "out_for_delivery", {}, now)
            order.updated_at = now
            record.moved.append(order.number)
        route.state = "active"
        return record


def land(db: Database, route_id: str, actor: str, now: dt.datetime) -> SortieRecord:
    """Record the sortie's drops and landing: parcels go to the resident's drop point (direct) or to
    the hub (shuttle)."""
    with db.write() as session:
        route = _sortie(session, route_id)
        drone = f"drone:{route.drone_id}"
        plan = session.get(Plan, route.plan_id)
        assert plan is not None
        record = SortieRecord(route.id)
        for order, kind in _orders(session, route):
            if holder(session, order) != drone:
                record.skipped[order.number] = "not on board"
                continue
            if kind == "delivery":
                append_event(session, order.id, "drone_to_resident", drone, f"resident:{order.resident_id}",
                             actor, "drone_log", now)
                transition(order, OrderState.DELIVERED)
                local = now.astimezone(ZoneInfo(plan.problem["timezone"]))
                _tell(session, order, "delivered", {"time": local.strftime("%H:%M")}, now)
            else:
                append_event(session, order.id, "drone_to_hub", drone, f"hub:{order.hub_id}", actor,
                             "drone_log", now)
            order.updated_at = now
            record.moved.append(order.number)
        route.state = "done"
        return record


def pending_sorties(db: Database, hub_id: str) -> list[str]:
    """Route ids of the hub's sorties on confirmed plans not yet landed, in take-off order."""
    with db.read() as session:
        return list(session.scalars(
            select(Route.id).join(Plan, Plan.id == Route.plan_id).join(Batch, Batch.id == Plan.batch_id)
            .where(Batch.hub_id == hub_id, Plan.state == "confirmed", Route.drone_id.is_not(None),
                   Route.state != "done")
            .order_by(Route.depart_at)))


def _tell(session: Session, order: Order, template: str, params: dict[str, object],
          now: dt.datetime) -> None:
    resident = session.get(Resident, order.resident_id)
    if resident is not None:
        outbox.queue(session, resident.phone, template, {"number": order.number, **params},
                     resident.language, resident_id=resident.id, order_id=order.id,
                     dedupe_key=f"{template}:{order.id}:drone", now=now)
