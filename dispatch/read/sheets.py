"""The printed route sheet (issue 16, item 7): one courier route on paper, for a courier without
a smartphone (or a phone without battery): stop by stop the resident's name, where the home is
(the region's notes and the coordinates: regions carry no postal address), the phone, the parcels
and items, the ETA, what the resident agreed to for a hand-over, and a box for the PIN or a
signature. The hub's operators print it from the plan page; a courier can print their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch.models import Batch, Hub, Order, Plan, Resident, Route, Volunteer


@dataclass(frozen=True)
class SheetStop:
    seq: int
    number: int
    state: str
    eta: dt.datetime | None
    resident_code: str
    resident_name: str
    resident_phone: str
    notes: str  # where the home is, how to find it (the region's notes of the resident)
    lat: float
    lon: float
    parcels: int
    weight_kg: float
    items: str
    consent: str  # none | neighbour | hall | either: where the parcel may be left


@dataclass(frozen=True)
class RouteSheet:
    route_id: str
    plan_id: str
    plan_version: int
    plan_state: str
    hub_id: str
    hub_name: str
    courier: str  # code and name
    courier_phone: str
    mode: str
    depart_at: dt.datetime | None
    return_at: dt.datetime | None
    distance_m: float
    stops: tuple[SheetStop, ...]

    @property
    def parcels(self) -> int:
        return sum(s.parcels for s in self.stops)


def route_sheet(session: Session, route_id: str, volunteer_id: str | None = None) -> RouteSheet | None:
    """The sheet of a courier route (None for a drone sortie, an unknown route, or, with
    ``volunteer_id``, a route that is not that volunteer's)."""
    found = session.execute(select(Route, Plan, Batch).join(Plan, Plan.id == Route.plan_id)
                            .join(Batch, Batch.id == Plan.batch_id).where(Route.id == route_id)).first()
    if found is None:
        return None
    route, plan, batch = found
    if route.volunteer_id is None or (volunteer_id is not None and route.volunteer_id != volunteer_id):
        return None
    volunteer = session.get_one(Volunteer, route.volunteer_id)
    hub = session.get_one(Hub, batch.hub_id)
    ids = [st.order_id for st in route.stops if st.kind == "delivery"]
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids))
                                               .options(selectinload(Order.items)))}
    residents = {r.id: r for r in session.scalars(select(Resident).where(
        Resident.id.in_([o.resident_id for o in orders.values()])))}
    stops = []
    for st in route.stops:
        if st.kind != "delivery" or st.order_id not in orders:
            continue
        order = orders[st.order_id]
        resident = residents[order.resident_id]
        stops.append(SheetStop(
            seq=len(stops) + 1, number=order.number, state=order.state, eta=st.eta,
            resident_code=resident.code, resident_name=resident.name, resident_phone=resident.phone,
            notes=resident.notes, lat=resident.lat, lon=resident.lon, parcels=max(order.parcels, 1),
            weight_kg=order.weight_kg, items="、".join(f"{i.name}×{i.quantity}" for i in order.items),
            consent=resident.handover_consent))
    return RouteSheet(route_id=route.id, plan_id=plan.id, plan_version=plan.version, plan_state=plan.state,
                      hub_id=hub.id, hub_name=hub.name, courier=f"{volunteer.code} {volunteer.name}",
                      courier_phone=volunteer.phone, mode=route.mode, depart_at=route.depart_at,
                      return_at=route.return_at, distance_m=route.distance_m, stops=tuple(stops))
