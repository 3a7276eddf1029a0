"""The permits page's rows and the dashboard's expiry warning (issue 14, item 1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Drone, Hub, Permit, Zone
from dispatch.permits import EXPIRY_WARNING_DAYS, PERMIT_TYPES, expiring


@dataclass(frozen=True)
class PermitRow:
    id: str
    hub_id: str
    hub_name: str
    number: str
    valid_from: dt.date
    valid_until: dt.date
    categories: tuple[str, ...]
    drones: tuple[str, ...]
    pilots: tuple[str, ...]
    zones: tuple[str, ...]
    holder: str
    notes: str
    status: str  # valid | expiring | expired | future


@dataclass(frozen=True)
class HubChoices:
    """What a permit of the hub may name: its drones and the region's zones needing a permit."""

    hub_id: str
    hub_name: str
    drones: tuple[str, ...]
    zones: tuple[tuple[str, str], ...]  # (identifier, name)


def _status(p: Permit, today: dt.date) -> str:
    if p.valid_until < today:
        return "expired"
    if p.valid_from > today:
        return "future"
    return "expiring" if p.valid_until <= today + dt.timedelta(days=EXPIRY_WARNING_DAYS) else "valid"


def permit_rows(session: Session, hub_ids: Iterable[str] | None, today: dt.date) -> list[PermitRow]:
    query = select(Permit, Hub.name).join(Hub, Hub.id == Permit.hub_id).order_by(Hub.code, Permit.number)
    if hub_ids is not None:
        query = query.where(Permit.hub_id.in_(list(hub_ids)))
    return [
        PermitRow(
            p.id,
            p.hub_id,
            name,
            p.number,
            p.valid_from,
            p.valid_until,
            tuple(p.categories),
            tuple(p.drones),
            tuple(p.pilots),
            tuple(p.zones),
            p.holder,
            p.notes,
            _status(p, today),
        )
        for p, name in session.execute(query)
    ]


def hub_choices(session: Session, hub_ids: Iterable[str] | None) -> list[HubChoices]:
    """Hubs with a drone port in scope, with their drones and zones."""
    query = select(Hub).where(Hub.drone_port.is_(True)).order_by(Hub.code)
    if hub_ids is not None:
        query = query.where(Hub.id.in_(list(hub_ids)))
    out = []
    for hub in session.scalars(query):
        drones = tuple(session.scalars(select(Drone.code).where(Drone.hub_id == hub.id).order_by(Drone.code)))
        zones = tuple(
            (z.identifier, z.name)
            for z in session.scalars(
                select(Zone)
                .where(Zone.region_id == hub.region_id, Zone.type.in_(PERMIT_TYPES))
                .order_by(Zone.identifier)
            )
        )
        out.append(HubChoices(hub.id, hub.name, drones, zones))
    return out


def expiring_rows(session: Session, hub_ids: Iterable[str] | None, today: dt.date) -> list[PermitRow]:
    """The dashboard's warning: permits whose last day is within the warning days."""
    ids = {p.id for p in expiring(session, hub_ids, today)}
    return [r for r in permit_rows(session, hub_ids, today) if r.id in ids]
