"""Operator exports: plain rows with no names or phone numbers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.db import Database
from dispatch.models import Hub, Order, Resident


def order_rows(db: Database) -> list[dict[str, Any]]:
    """One row per order, oldest first."""
    with db.read() as s:
        query = (
            select(Order, Hub.code, Resident.code)
            .join(Hub, Order.hub_id == Hub.id)
            .join(Resident, Order.resident_id == Resident.id)
            .options(selectinload(Order.items))
            .order_by(Order.created_at, Order.number)
        )
        return [
            {
                "number": order.number,
                "id": order.id,
                "state": order.state,
                "channel": order.channel,
                "hub": hub_code,
                "resident": resident_code,
                "items": [[i.name, i.quantity, i.unit] for i in order.items],
                "weight_kg": round(order.weight_kg, 3),
                "parcels": order.parcels,
                "window_start": order.window_start.isoformat() if order.window_start else None,
                "window_end": order.window_end.isoformat() if order.window_end else None,
                "created_at": order.created_at.isoformat(),
            }
            for order, hub_code, resident_code in s.execute(query)
        ]
