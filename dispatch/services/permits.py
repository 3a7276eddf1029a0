"""Recording a hub's permits on the console (issue 14, item 1): the same checks as ``permits.csv``
(:mod:`dispatch.region.reader`), in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

import routing
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.models import Drone, Hub, Permit, Zone, utcnow
from dispatch.permits import PERMIT_TYPES


@dataclass(frozen=True)
class PermitInput:
    """What an operator types for a permit (drones by code, zones by identifier)."""

    number: str
    valid_from: dt.date
    valid_until: dt.date
    categories: Sequence[str]
    drones: Sequence[str]
    pilots: Sequence[str]
    zones: Sequence[str]
    holder: str = ""
    notes: str = ""


def save_permit(db: Database, hub_id: str, data: PermitInput, permit_id: str | None = None) -> str:
    """Create (``permit_id`` None) or update the hub's permit; returns its id. :class:`DomainError`
    names the first thing wrong; nothing is stored then."""
    number = data.number.strip()
    if not number or len(number) > 100:
        raise DomainError("a permit number is required (at most 100 characters)")
    if data.valid_until < data.valid_from:
        raise DomainError("the permit ends before it starts")
    unknown = sorted(set(data.categories) - set(routing.CATEGORIES))
    if unknown or not data.categories:
        raise DomainError("choose the categories the permit covers")
    if not data.pilots or not data.drones or not data.zones:
        raise DomainError("a permit names its drones, pilots and zones")
    with db.write() as session:
        hub = session.get(Hub, hub_id)
        if hub is None:
            raise NotFound(f"hub {hub_id!r} does not exist")
        drones = set(session.scalars(select(Drone.code).where(Drone.hub_id == hub_id)))
        zones = set(
            session.scalars(
                select(Zone.identifier).where(Zone.region_id == hub.region_id, Zone.type.in_(PERMIT_TYPES))
            )
        )
        for code in data.drones:
            if code not in drones:
                raise DomainError("drone %(code)s is not a drone of this hub", code=code)
        for identifier in data.zones:
            if identifier not in zones:
                raise DomainError("zone %(zone)s does not need a permit or does not exist", zone=identifier)
        clash = session.scalars(
            select(Permit.id).where(Permit.region_id == hub.region_id, Permit.number == number)
        ).first()
        if clash is not None and clash != permit_id:
            raise DomainError("permit %(number)s is already recorded", number=number)
        if permit_id is None:
            permit = Permit(region_id=hub.region_id, hub_id=hub_id, number=number, source="console")
            session.add(permit)
        else:
            found = session.get(Permit, permit_id)
            if found is None or found.hub_id != hub_id:
                raise NotFound(f"permit {permit_id!r} does not exist")
            permit = found
        permit.number, permit.valid_from, permit.valid_until = number, data.valid_from, data.valid_until
        permit.categories, permit.drones = sorted(set(data.categories)), list(dict.fromkeys(data.drones))
        permit.pilots = [p.strip() for p in data.pilots if p.strip()]
        permit.zones, permit.holder = list(dict.fromkeys(data.zones)), data.holder.strip()
        permit.notes, permit.updated_at = data.notes.strip(), utcnow()
        session.flush()
        return permit.id
