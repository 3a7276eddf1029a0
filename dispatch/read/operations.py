"""The operations page: per hub, the couriers on today's confirmed routes, the hub's drones and
weather hold, and the region's no-fly zones; and which hubs an object switched there belongs to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.lifecycle import PlanState, RouteState
from dispatch.models import Batch, Drone, Hub, Plan, Route, Volunteer, Zone
from dispatch.read import HubScope, scoped


@dataclass(frozen=True)
class CourierOnRoute:
    id: str
    code: str
    mode: str
    deliveries: int  # stops still on their routes of confirmed plans


@dataclass(frozen=True)
class DroneRow:
    id: str
    code: str
    model: str
    status: str


@dataclass(frozen=True)
class ZoneSwitch:
    id: str
    identifier: str
    name: str
    active_override: bool | None  # None: by schedule


@dataclass(frozen=True)
class HubOps:
    id: str
    code: str
    name: str
    weather_hold: bool
    couriers: tuple[CourierOnRoute, ...]
    drones: tuple[DroneRow, ...]
    zones: tuple[ZoneSwitch, ...]
    called_off: tuple[CalledOff, ...] = ()  # couriers off for the rest of the day: brought back here


@dataclass(frozen=True)
class CalledOff:
    id: str
    code: str
    name: str
    off_until: dt.datetime


def hub_operations(session: Session, hub_ids: HubScope, now: dt.datetime) -> list[HubOps]:
    """The hubs (not supply points) in scope, by code, with what an operator can switch (and the
    couriers called off at ``now``, to bring back)."""
    out = []
    hubs = scoped(select(Hub).where(Hub.kind == "hub").order_by(Hub.code), Hub.id, hub_ids)
    for hub in session.scalars(hubs):
        rows = session.execute(
            select(Volunteer, Route).join(Route, Route.volunteer_id == Volunteer.id)
            .join(Plan, Plan.id == Route.plan_id).join(Batch, Batch.id == Plan.batch_id)
            .where(Batch.hub_id == hub.id, Plan.state == PlanState.CONFIRMED,
                   Route.state != RouteState.DONE)
            .order_by(Volunteer.code)).all()
        couriers: dict[str, CourierOnRoute] = {}
        for volunteer, route in rows:
            count = sum(1 for st in route.stops if st.kind == "delivery")
            before = couriers.get(volunteer.id)
            couriers[volunteer.id] = CourierOnRoute(volunteer.id, volunteer.code, volunteer.mode,
                                                    (before.deliveries if before else 0) + count)
        drones = tuple(DroneRow(d.id, d.code, d.model, d.status) for d in session.scalars(
            select(Drone).where(Drone.hub_id == hub.id).order_by(Drone.code)))
        zones = tuple(ZoneSwitch(z.id, z.identifier, z.name, z.active_override) for z in session.scalars(
            select(Zone).where(Zone.region_id == hub.region_id).order_by(Zone.identifier)))
        called_off = tuple(CalledOff(v.id, v.code, v.name, v.off_until) for v in session.scalars(
            select(Volunteer).where(Volunteer.hub_id == hub.id, Volunteer.off_until > now)
            .order_by(Volunteer.code)) if v.off_until is not None)
        out.append(HubOps(hub.id, hub.code, hub.name, hub.weather_hold, tuple(couriers.values()), drones,
                          zones, called_off))
    return out


@dataclass(frozen=True)
class SwitchTarget:
    """Something an operator switches: its id, how the flash message names it, and the hubs it
    belongs to (a zone belongs to every hub of its region)."""

    id: str
    label: str
    hub_ids: frozenset[str]


#: What the operations page switches, by the name its view uses.
SWITCHABLE: dict[str, type[Hub] | type[Volunteer] | type[Drone] | type[Zone]] = {
    "hub": Hub, "courier": Volunteer, "drone": Drone, "zone": Zone}


def switch_target(session: Session, kind: str, object_id: str) -> SwitchTarget | None:
    """The hub, courier, drone or zone ``object_id`` (``kind`` in :data:`SWITCHABLE`), or None."""
    obj = session.get(SWITCHABLE[kind], object_id)
    if obj is None:
        return None
    if isinstance(obj, Hub):
        return SwitchTarget(obj.id, obj.name, frozenset({obj.id}))
    if isinstance(obj, Zone):
        hubs = frozenset(session.scalars(select(Hub.id).where(Hub.region_id == obj.region_id)))
        return SwitchTarget(obj.id, obj.name, hubs)
    return SwitchTarget(obj.id, obj.code, frozenset({obj.hub_id}))
