"""Order events, recorded in the transaction that changes the order: the webhook outbox's input.

Every channel changes orders through its own service (SMS, console, courier page, scheduler, API),
so the events are not emitted by each of them: :func:`record_order_events` runs before every flush
of every session of a :class:`~dispatch.db.Database` and turns each change of an order's state into
an :class:`~dispatch.models.OrderEvent`, plus one queued :class:`~dispatch.models.WebhookDelivery`
per active endpoint whose integration covers the order's hub and wants that event type. The event
commits or rolls back with the change it describes, so a receiver never hears of a change that did
not happen, and never misses one that did.

``batched`` is internal (the claim at a cutoff is one bulk ``UPDATE`` on SQLite) and has no event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from dispatch.ids import new_id
from dispatch.lifecycle import OrderState
from dispatch.models import (
    Hub,
    Integration,
    Order,
    OrderEvent,
    Resident,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from dispatch.models.integrations import integration_hub
from dispatch.read.api import order_doc

CREATED = "order.created"
#: Every event type: the creation, then one per state an order can move to (``batched`` excepted).
EVENT_TYPES: tuple[str, ...] = (CREATED, *(f"order.{s.value}" for s in OrderState
                                         if s not in (OrderState.RECEIVED, OrderState.BATCHED)))
#: The order's delivery, as opposed to its acceptance and planning.
DELIVERY_EVENTS = frozenset({"order.dispatched", "order.in_transit", "order.delivered",
                             "order.failed", "order.returned"})


def _changed_state(order: Order, new: bool) -> tuple[str, str | None] | None:
    """(event type, previous state) when this flush creates ``order`` or moves its state."""
    history = inspect(order).attrs.state.history
    if new:
        return CREATED, None
    if not history.added:
        return None
    state = OrderState(history.added[0])
    previous = history.deleted[0] if history.deleted else None
    if state == OrderState.BATCHED or (previous is not None and OrderState(previous) == state):
        return None
    return f"order.{state.value}", None if previous is None else str(previous)


def _occurred_at(order: Order, new: bool) -> dt.datetime:
    """The service's clock as it stamped the order (tests and simulations play their own day)."""
    if new and order.created_at is not None:
        return order.created_at
    stamped = inspect(order).attrs.updated_at.history.added
    return stamped[0] if stamped and stamped[0] is not None else utcnow()


def _endpoints_of(session: Session, hub_id: str) -> list[WebhookEndpoint]:
    return list(session.scalars(
        select(WebhookEndpoint)
        .join(Integration, Integration.id == WebhookEndpoint.integration_id)
        .join(integration_hub, integration_hub.c.integration_id == Integration.id)
        .where(integration_hub.c.hub_id == hub_id, Integration.active.is_(True),
               WebhookEndpoint.active.is_(True))))


def record_order_events(session: Session) -> bool:
    """Record the events of this flush's order changes (a ``before_flush`` step); True when a
    webhook delivery was queued, so the outbox worker is woken after commit."""
    queued = False
    endpoints: dict[str, list[WebhookEndpoint]] = {}
    changes = [(o, True) for o in session.new if isinstance(o, Order)]
    changes += [(o, False) for o in session.dirty if isinstance(o, Order)]
    for order, new in changes:
        change = _changed_state(order, new)
        if change is None:
            continue
        kind, previous = change
        if order.id is None:
            order.id = new_id()
        hub = session.get(Hub, order.hub_id)
        resident = session.get(Resident, order.resident_id)
        occurred_at = _occurred_at(order, new)
        doc = order_doc(order, hub.code if hub else "", resident.code if resident else "")
        event = OrderEvent(id=new_id(), type=kind, order=order, hub_id=order.hub_id,
                           occurred_at=occurred_at, recorded_at=utcnow(),
                           payload={"order": asdict(doc), "previous_state": previous})
        session.add(event)
        if order.hub_id not in endpoints:
            endpoints[order.hub_id] = _endpoints_of(session, order.hub_id)
        for endpoint in endpoints[order.hub_id]:
            if endpoint.events and kind not in endpoint.events:
                continue
            session.add(WebhookDelivery(event=event, endpoint=endpoint,
                                        next_attempt_at=occurred_at, created_at=occurred_at,
                                        updated_at=occurred_at))
            queued = True
    return queued
