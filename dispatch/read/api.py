"""What the JSON API (``/api/v1``) and the webhooks show of orders, plans and events.

Frozen dataclasses of JSON-ready values (ISO 8601 UTC strings for times), so the API answers
``dataclasses.asdict`` of them and an order in a webhook body is the order of ``GET /orders/{id}``.
Nothing personal leaves: a resident appears by the code the integration itself quotes, never by
name, phone or position; couriers and drones by the route's mode only.

``hub_ids`` is the calling integration's hubs (never ``None``: an integration sees its hubs only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, selectinload

from dispatch.models import Batch, Hub, Order, OrderEvent, Plan, Resident, Route
from dispatch.read import scoped


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


@dataclass(frozen=True)
class ItemDoc:
    name: str
    quantity: int
    unit: str | None


@dataclass(frozen=True)
class OrderDoc:
    id: str
    number: int
    hub: str
    resident: str
    state: str
    channel: str
    external_ref: str | None
    items: tuple[ItemDoc, ...]
    weight_kg: float
    parcels: int
    window_start: str | None
    window_end: str | None
    created_at: str | None
    updated_at: str | None


def order_doc(order: Order, hub_code: str, resident_code: str) -> OrderDoc:
    return OrderDoc(
        id=order.id, number=order.number, hub=hub_code, resident=resident_code, state=str(order.state),
        channel=order.channel, external_ref=order.external_ref,
        items=tuple(ItemDoc(i.name, i.quantity, i.unit) for i in order.items),
        weight_kg=order.weight_kg, parcels=order.parcels, window_start=iso(order.window_start),
        window_end=iso(order.window_end), created_at=iso(order.created_at),
        updated_at=iso(order.updated_at))


def order_by_id(session: Session, order_id: str, hub_ids: Collection[str]) -> OrderDoc | None:
    """One order of the integration's hubs, or None (missing and another hub's look the same)."""
    row = session.execute(
        scoped(select(Order, Hub.code, Resident.code).join(Hub, Hub.id == Order.hub_id)
               .join(Resident, Resident.id == Order.resident_id).where(Order.id == order_id)
               .options(selectinload(Order.items)), Order.hub_id, hub_ids)).first()
    return None if row is None else order_doc(*row)


def order_by_ref(session: Session, integration_id: str, external_ref: str) -> OrderDoc | None:
    row = session.execute(
        select(Order, Hub.code, Resident.code).join(Hub, Hub.id == Order.hub_id)
        .join(Resident, Resident.id == Order.resident_id)
        .where(Order.integration_id == integration_id, Order.external_ref == external_ref)
        .options(selectinload(Order.items))).first()
    return None if row is None else order_doc(*row)


def resident_in_hubs(session: Session, code: str, hub_ids: Collection[str]) -> str | None:
    """The id of the active resident with ``code`` served by one of the hubs (None: none such)."""
    ids = list(session.scalars(scoped(select(Resident.id).where(Resident.code == code,
                                                                Resident.active.is_(True)),
                                      Resident.hub_id, hub_ids).limit(2)))
    return ids[0] if len(ids) == 1 else None


# --- plans -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopDoc:
    seq: int
    kind: str
    order_id: str
    order_number: int
    eta: str | None


@dataclass(frozen=True)
class RouteDoc:
    id: str
    mode: str
    state: str
    depart_at: str | None
    return_at: str | None
    distance_m: float
    stops: tuple[StopDoc, ...]


@dataclass(frozen=True)
class PlanDoc:
    id: str
    hub: str
    batch_id: str
    cutoff_at: str | None
    version: int
    state: str
    created_at: str | None
    confirmed_at: str | None
    unserved: tuple[str, ...]  # order ids the plan could not serve
    routes: tuple[RouteDoc, ...] | None  # None in lists (GET /plans/{id} has them)


def _plan_doc(plan: Plan, batch: Batch, hub_code: str, numbers: dict[str, int] | None) -> PlanDoc:
    routes = None
    if numbers is not None:
        routes = tuple(
            RouteDoc(r.id, r.mode, str(r.state), iso(r.depart_at), iso(r.return_at), round(r.distance_m, 1),
                     tuple(StopDoc(s.seq, s.kind, s.order_id, numbers.get(s.order_id, 0), iso(s.eta))
                           for s in r.stops))
            for r in plan.routes)
    return PlanDoc(plan.id, hub_code, batch.id, iso(batch.cutoff_at), plan.version, str(plan.state),
                   iso(plan.created_at), iso(plan.confirmed_at),
                   tuple(str(u.get("order_id", "")) for u in plan.unserved or ()), routes)


def plans_of(session: Session, hub_ids: Collection[str], *, state: str | None = None,
             limit: int = 50) -> list[PlanDoc]:
    """Plan versions of the hubs, newest first (without their routes)."""
    stmt = scoped(select(Plan, Batch, Hub.code).join(Batch, Batch.id == Plan.batch_id)
                  .join(Hub, Hub.id == Batch.hub_id)
                  .order_by(Plan.created_at.desc(), Plan.id).limit(limit), Batch.hub_id, hub_ids)
    if state is not None:
        stmt = stmt.where(Plan.state == state)
    return [_plan_doc(p, b, code, None) for p, b, code in session.execute(stmt)]


def plan_by_id(session: Session, plan_id: str, hub_ids: Collection[str]) -> PlanDoc | None:
    row = session.execute(
        scoped(select(Plan, Batch, Hub.code).join(Batch, Batch.id == Plan.batch_id)
               .join(Hub, Hub.id == Batch.hub_id).where(Plan.id == plan_id)
               .options(selectinload(Plan.routes).selectinload(Route.stops)), Batch.hub_id, hub_ids)
    ).first()
    if row is None:
        return None
    plan, batch, code = row
    order_ids = {s.order_id for r in plan.routes for s in r.stops}
    numbers = {order_id: number for order_id, number in session.execute(
        select(Order.id, Order.number).where(Order.id.in_(order_ids)))} if order_ids else {}
    return _plan_doc(plan, batch, code, numbers)


# --- events ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventPage:
    events: tuple[OrderEvent, ...]
    next_after: str | None  # the cursor for the next page (the last event's id), None when empty


class UnknownCursor(LookupError):
    """``after`` names no event the integration can see."""


def events_after(session: Session, hub_ids: Collection[str], after: str | None,
                 limit: int = 100) -> EventPage:
    """The hubs' order events in the order they were recorded, after the event ``after`` (exclusive).

    Two transactions committing at the same moment may commit in the other order than they
    recorded; a poller that must not miss one reads a little behind (webhooks have no such gap)."""
    stmt = scoped(select(OrderEvent), OrderEvent.hub_id, hub_ids)
    if after is not None:
        cursor = session.execute(scoped(select(OrderEvent.recorded_at, OrderEvent.id)
                                        .where(OrderEvent.id == after), OrderEvent.hub_id, hub_ids)).first()
        if cursor is None:
            raise UnknownCursor(after)
        stmt = stmt.where(tuple_(OrderEvent.recorded_at, OrderEvent.id) > tuple_(*cursor))
    events = tuple(session.scalars(stmt.order_by(OrderEvent.recorded_at, OrderEvent.id).limit(limit)))
    return EventPage(events, events[-1].id if events else after)
