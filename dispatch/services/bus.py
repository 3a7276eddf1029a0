"""The custody of a parcel on a community-bus leg (貨客混載, issue 20, item 3).

A confirmed plan's ``bus`` route says which trip carries which parcel. Two handovers are recorded
by the hub's operator, on the plan page:

- :func:`hand_to_driver`: at the stop by the hub, the parcel goes to the trip's driver
  (``hub_to_bus``, from ``hub:<id>`` to ``bus:<trip id>``, proven by the operator); the order is
  then in transit;
- :func:`collected_from_driver`: at the stop by the home, the resident collects it from the driver
  and tells the PIN of their "delivery time and PIN" text, which the driver passes on (by phone
  or the trip's sheet) to the operator (``bus_to_resident``, proven by ``resident_pin``); the
  order is delivered and the resident gets the receipt.

So the chain reads hub → the driver of trip X → resident.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import OrderState, PlanState, transition
from dispatch.localtime import timezone_of
from dispatch.models import Order, Plan, Route, Stop
from dispatch.services import notify
from dispatch.services.handoffs import append_event
from dispatch.services.pins import normalise_pin, pin_matches


def _leg(session: Session, order_id: str, hub_ids: frozenset[str] | None) -> tuple[Order, Route, Stop, Stop]:
    """The order, its bus route in the confirmed plan, and its boarding and alighting stops."""
    order = session.scalars(select(Order).where(Order.id == order_id).with_for_update()).one_or_none()
    if order is None or (hub_ids is not None and order.hub_id not in hub_ids):
        raise NotFound(f"order {order_id!r} does not exist")
    found = session.execute(
        select(Route, Stop)
        .join(Stop, Stop.route_id == Route.id)
        .join(Plan, Plan.id == Route.plan_id)
        .where(Stop.order_id == order_id, Route.mode == "bus", Plan.state == PlanState.CONFIRMED)
        .order_by(Stop.seq)
    ).all()
    if len(found) != 2:
        raise DomainError("order #%(number)s does not ride a bus in a confirmed plan", number=order.number)
    (route, board), (_, alight) = found
    return order, route, board, alight


def hand_to_driver(
    db: Database, order_id: str, user_id: str, now: dt.datetime, hub_ids: frozenset[str] | None = None
) -> str:
    """The operator handed the parcel to the bus driver at the stop near the hub; the event id."""
    with db.write() as session:
        order, route, board, _ = _leg(session, order_id, hub_ids)
        if order.state != OrderState.PLANNED:
            raise DomainError(
                "order #%(number)s is %(state)s, not waiting at the hub for the bus",
                number=order.number,
                state=order.state,
            )
        transition(order, OrderState.DISPATCHED)
        transition(order, OrderState.IN_TRANSIT)
        event = append_event(
            session,
            order.id,
            "hub_to_bus",
            f"hub:{order.hub_id}",
            f"bus:{route.bus_trip_id}",
            f"user:{user_id}",
            "operator_confirm",
            now,
            lon=board.lon,
            lat=board.lat,
        )
        return event.id


def collected_from_driver(
    db: Database,
    order_id: str,
    pin: str,
    user_id: str,
    now: dt.datetime,
    hub_ids: frozenset[str] | None = None,
) -> str:
    """The resident collected the parcel from the driver at the stop, with their PIN; the event id."""
    typed = normalise_pin(pin)
    with db.write() as session:
        order, route, _, alight = _leg(session, order_id, hub_ids)
        if order.state != OrderState.IN_TRANSIT:
            raise DomainError(
                "order #%(number)s is %(state)s, not on the bus", number=order.number, state=order.state
            )
        if order.pin_hash is None or not pin_matches(order.id, typed, order.pin_hash):
            raise DomainError("the PIN does not match order #%(number)s", number=order.number)
        transition(order, OrderState.DELIVERED)
        event = append_event(
            session,
            order.id,
            "bus_to_resident",
            f"bus:{route.bus_trip_id}",
            f"resident:{order.resident_id}",
            f"user:{user_id}",
            "resident_pin",
            now,
            lon=alight.lon,
            lat=alight.lat,
        )
        local = now.astimezone(timezone_of(session, order))
        notify.text_resident(
            session,
            order,
            "delivered",
            {"time": local.strftime("%H:%M")},
            now=now,
            dedupe_key=f"delivered:{order.id}",
        )
        return event.id
