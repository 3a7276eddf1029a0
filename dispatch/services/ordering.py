"""Placing, cancelling and looking up orders, for every channel (SMS, web, proxy, phone, import).

Two kinds of function, as everywhere in :mod:`dispatch.services`: steps that take the caller's
``session`` (:func:`create_order`, :func:`cancel`, ...) so that an inbound SMS, its order and its
reply commit together, and the use cases :func:`place_order` and :func:`cancel_order` for the web
and phone channels, which open their own transaction and text the resident.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.catalogue import parcels_for, training_needed, unit_weight_kg
from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import CANCELLABLE_BY_RESIDENT, TERMINAL, OrderState, transition
from dispatch.localtime import timezone_of
from dispatch.models import TRAINING, Hub, Order, OrderItem, Region, Resident
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services import notify
from dispatch.services.continuity import MIN_WINDOW, next_delivery_day, window_on

CHANNELS = ("sms", "web", "proxy", "phone", "import", "api", "standing")
MAX_ITEMS = 20
MAX_QUANTITY = 20
#: Markup and control characters: refused in item names (found by a red-team pass, issue 17).
UNSAFE_IN_NAMES = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

PARTS = {  # local clock ranges of the parts of a day; clipped to the hub's opening hours
    "morning": (dt.time(0, 0), dt.time(12, 0)),
    "afternoon": (dt.time(12, 0), dt.time(23, 59)),
    "evening": (dt.time(16, 0), dt.time(23, 59)),
    "any": (dt.time(0, 0), dt.time(23, 59)),
}


@dataclass(frozen=True)
class OrderSummary:
    id: str
    number: int
    state: str
    items: tuple[tuple[str, int, str | None], ...]
    weight_kg: float
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    channel: str
    created_at: dt.datetime


def summarize(order: Order) -> OrderSummary:
    return OrderSummary(
        id=order.id, number=order.number, state=order.state,
        items=tuple((i.name, i.quantity, i.unit) for i in order.items),
        weight_kg=order.weight_kg, window_start=order.window_start, window_end=order.window_end,
        channel=order.channel, created_at=order.created_at,
    )


def delivery_window(hub: Hub, tz: ZoneInfo, wish: TimeWish | None,
                    now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The window [start, end] (aware, UTC) for a wish, within the hub's opening hours.

    A wish for a part of today that has (nearly) passed moves to the same part of the next day.
    """
    wish = wish or TimeWish()
    local_now = now.astimezone(tz)
    for extra in range(0, 8):
        day = local_now.date() + dt.timedelta(days=wish.day_offset + extra)
        part_start, part_end = PARTS.get(wish.part, PARTS["any"])
        start = dt.datetime.combine(day, max(part_start, hub.opens), tz)
        end = dt.datetime.combine(day, min(part_end, hub.closes), tz)
        start = max(start, local_now)
        if end - start >= MIN_WINDOW:
            return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    raise DomainError("hub %(code)s has no opening hours for a %(part)s delivery",
                      code=hub.code, part=wish.part)


def _on_a_delivery_day(session: Session, hub: Hub, tz: ZoneInfo, start: dt.datetime,
                       end: dt.datetime, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A wish no batch can serve any more (texted after the day's last cutoff) moves to the hub's
    next delivery day, the same clock times where they fit, so the confirmation names that day."""


    target = next_delivery_day(session, hub, tz, now)
    if target is None or end >= target.start + MIN_WINDOW:
        return start, end
    return window_on(target, start, end, tz)


def _next_number(session: Session, region_id: str) -> int:
    """Atomically take the region's next short order number (row-locked UPDATE ... RETURNING)."""
    number = session.execute(
        update(Region).where(Region.id == region_id)
        .values(order_seq=Region.order_seq + 1).returning(Region.order_seq)
    ).scalar_one()
    return int(number)


def create_order(
    session: Session, resident: Resident, items: Sequence[ItemRequest], *, channel: str,
    now: dt.datetime, time_wish: TimeWish | None = None, entered_by_user_id: str | None = None,
    proxy_id: str | None = None, priority: int = 2, origin_hub_id: str | None = None,
    request_text: str = "", integration_id: str | None = None, external_ref: str | None = None,
    needs_training: str = "",
) -> Order:
    """Create a confirmed order for ``resident`` inside ``session``'s transaction.

    ``needs_training``: the training its courier must have (``TRAINING``: medicine, a welfare
    visit), enforced when planning; "" for any courier unless an item needs one
    (:func:`~dispatch.catalogue.training_needed`: medicine).

    ``integration_id`` and ``external_ref``: the system that placed it through the API, and its
    own reference for it (unique per integration)."""
    if channel not in CHANNELS:
        raise DomainError("unknown channel '%(channel)s'", channel=channel)
    if not resident.active:
        raise DomainError("resident %(code)s is not active", code=resident.code)
    if not items:
        raise DomainError("an order needs at least one item")
    if len(items) > MAX_ITEMS:
        raise DomainError("an order has at most %(most)s items, got %(count)s",
                          most=MAX_ITEMS, count=len(items))
    for item in items:
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise DomainError("quantity of '%(name)s' must be 1-%(most)s, got %(quantity)s",
                              name=item.name, most=MAX_QUANTITY, quantity=item.quantity)
        if not item.name.strip():
            raise DomainError("an item needs a name")
        if UNSAFE_IN_NAMES.search(item.name):  # item names reach maps, sheets and exports
            raise DomainError("an item name cannot contain < > or control characters")
    if priority not in (1, 2, 3):
        raise DomainError("priority must be 1, 2 or 3, got %(priority)s", priority=priority)
    if needs_training and needs_training not in TRAINING:
        raise DomainError("unknown training '%(training)s'", training=needs_training)
    # Medicine needs a trained courier on every channel, not only when the phone operator says so.
    needs_training = needs_training or next(
        (course for item in items if (course := training_needed(item.name))), "")
    hub = session.get(Hub, resident.hub_id)
    region = session.get(Region, resident.region_id)
    assert hub is not None and region is not None
    tz = timezone_of(session, region)
    start, end = delivery_window(hub, tz, time_wish, now)
    start, end = _on_a_delivery_day(session, hub, tz, start, end, now)
    order = Order(
        region_id=region.id, number=_next_number(session, region.id), hub_id=hub.id,
        resident_id=resident.id, state=OrderState.RECEIVED.value, channel=channel,
        entered_by_user_id=entered_by_user_id, proxy_id=proxy_id, origin_hub_id=origin_hub_id,
        priority=priority, window_start=start, window_end=end, request_text=request_text[:2000],
        integration_id=integration_id, external_ref=external_ref, needs_training=needs_training,
        told_day=start.astimezone(tz).date(), created_at=now, updated_at=now,
    )
    weight = 0.0
    for position, item in enumerate(items):
        line_kg = round(unit_weight_kg(item.name) * item.quantity, 3)
        weight += line_kg
        order.items.append(OrderItem(position=position, name=item.name.strip()[:200],
                                     quantity=item.quantity, unit=item.unit, weight_kg=line_kg))
    order.weight_kg = round(weight, 3)
    order.parcels = parcels_for(weight)
    session.add(order)
    transition(order, OrderState.CONFIRMED)  # a known, active resident's order is accepted as is
    session.flush()
    return order


def place_order(
    db: Database, resident_id: str, items: Sequence[ItemRequest], *, channel: str,
    now: dt.datetime, time_wish: TimeWish | None = None,
    entered_by_user_id: str | None = None, proxy_id: str | None = None, priority: int = 2,
    integration_id: str | None = None, external_ref: str | None = None, needs_training: str = "",
) -> OrderSummary:
    """Web, phone, proxy and API entry: create the order and queue the resident's confirmation
    SMS (the API's ``integration_id`` and ``external_ref`` as :func:`create_order` takes them)."""
    with db.write() as session:
        resident = session.get(Resident, resident_id)
        if resident is None:
            raise NotFound(f"resident {resident_id} not found")
        order = create_order(session, resident, items, channel=channel, now=now,
                             time_wish=time_wish, entered_by_user_id=entered_by_user_id,
                             proxy_id=proxy_id, priority=priority, integration_id=integration_id,
                             external_ref=external_ref, needs_training=needs_training)
        notify.text_resident(session, order, "order_received", order_params(order), now=now,
                             dedupe_key=f"order_received:{order.id}")
        return summarize(order)


def order_params(order: Order) -> dict[str, object]:
    """Template parameters describing an order (no personal data beyond what the resident sent)."""
    return {
        "number": order.number,
        "items": [[i.name, i.quantity, i.unit] for i in order.items],
        "window_start": order.window_start.isoformat() if order.window_start else None,
        "window_end": order.window_end.isoformat() if order.window_end else None,
        "state": order.state,
    }


def open_orders(session: Session, resident_id: str) -> list[Order]:
    """The resident's orders that are not finished, newest first."""
    return list(session.scalars(
        select(Order).where(Order.resident_id == resident_id,
                            Order.state.not_in([s.value for s in TERMINAL]))
        .order_by(Order.created_at.desc(), Order.number.desc())
    ))


def find_cancellable(session: Session, resident_id: str, number: int | None) -> Order | None:
    """The order the resident means by ``number`` (or their latest open one)."""
    orders = open_orders(session, resident_id)
    if number is not None:
        orders = [o for o in orders if o.number == number]
    return orders[0] if orders else None


def cancel(session: Session, order: Order, reason: str, now: dt.datetime, settings: Settings) -> bool:
    """Cancel ``order`` if a resident may still cancel it; False when it is too late.

    A planned order is also taken off its plan (``settings``: the courier gets a new route link).
    """
    if OrderState(order.state) not in CANCELLABLE_BY_RESIDENT:
        return False
    was_planned = order.state == OrderState.PLANNED.value
    transition(order, OrderState.CANCELLED)
    order.note = reason[:500]
    order.updated_at = now
    if was_planned:  # take it off its plan and tell the courier (never leave a stop for nothing)
        from dispatch.services.disruptions import order_cancelled

        session.flush()
        order_cancelled(session, order, now, settings)
    return True


def cancel_order(db: Database, order_id: str, reason: str, settings: Settings, *, now: dt.datetime,
                 resident_id: str | None = None) -> bool:
    """Stand-alone cancel (web, console). ``resident_id`` limits it to that resident's orders."""
    with db.write() as session:
        order = session.get(Order, order_id)
        if order is None or (resident_id is not None and order.resident_id != resident_id):
            raise NotFound(f"order {order_id} not found")
        done = cancel(session, order, reason, now, settings)
        if done:
            notify.text_resident(session, order, "cancelled", {}, now=now,
                                 dedupe_key=f"cancelled:{order.id}")
        return done


def orders_of(db: Database, resident_id: str, limit: int = 20) -> list[OrderSummary]:
    with db.read() as session:
        rows = session.scalars(
            select(Order).where(Order.resident_id == resident_id)
            .order_by(Order.created_at.desc()).limit(limit)
        )
        return [summarize(o) for o in rows]
