"""The parked-orders page's read model: what Hakobu could not deliver, for an operator to call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.lifecycle import OrderState
from dispatch.models import Hub, Order, Resident
from dispatch.read import HubScope, scoped


@dataclass(frozen=True)
class ParkedOrder:
    order_id: str
    number: int
    hub_name: str
    resident_name: str
    resident_phone: str  # to call them: shown in the console, never logged or exported
    items: tuple[tuple[str, int], ...]
    reason: str
    parked_at: dt.datetime


def parked_orders(session: Session, hub_ids: HubScope) -> list[ParkedOrder]:
    """Parked orders of the hubs in scope, longest waiting first."""
    query = scoped(select(Order, Resident.name, Resident.phone, Hub.name)
                   .join(Resident, Resident.id == Order.resident_id).join(Hub, Hub.id == Order.hub_id)
                   .where(Order.state == OrderState.PARKED.value).order_by(Order.updated_at),
                   Order.hub_id, hub_ids)
    return [ParkedOrder(order.id, order.number, hub, name, phone,
                        tuple((i.name, i.quantity) for i in order.items), order.parked_reason,
                        order.updated_at)
            for order, name, phone, hub in session.execute(query)]
