"""The courier's phone: their routes in confirmed plans, one route with its stops (and the
personal data a courier needs at the door, for their own stops only), and the route's line.

Anything that is not the courier's raises :class:`~dispatch.errors.NotFound` (the page answers 404),
by the same rule as the courier's actions (:func:`dispatch.services.delivery.own_route`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.errors import NotFound
from dispatch.lifecycle import OrderState, PlanState, RouteState
from dispatch.models import Hub, Order, Plan, Resident, Route, Volunteer
from dispatch.read.lines import Path, route_path
from dispatch.services.delivery import OPEN_ON_ROUTE, WORKING, holder, own_route


def _volunteer(session: Session, volunteer_id: str) -> Volunteer:
    """The active volunteer, else NotFound (a courier signed in before being deactivated)."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or not volunteer.active:
        raise NotFound(f"volunteer {volunteer_id!r} does not exist")
    return volunteer


@dataclass(frozen=True)
class RouteSummary:
    id: str
    mode: str
    state: str
    depart_at: dt.datetime | None
    return_at: dt.datetime | None
    deliveries: int
    open_deliveries: int
    hub_name: str


@dataclass(frozen=True)
class StopView:
    """One stop as the courier sees it. Personal data (name, phone, notes) is for this courier's
    own stops only, and only on their page."""

    seq: int
    kind: str  # pickup | delivery
    order_id: str
    number: int
    state: str
    eta: dt.datetime | None
    lon: float
    lat: float
    resident_id: str
    resident_name: str
    resident_phone: str
    notes: str
    parcels: int
    weight_kg: float
    consent: str  # Resident.handover_consent
    pin_locked: bool
    held: bool  # this courier holds the parcel now
    pickup_from: str  # pickup stops: "hub", "supply" or "drone" (still flying in)


@dataclass(frozen=True)
class RouteView:
    id: str
    plan_id: str
    mode: str
    state: str
    depart_at: dt.datetime | None
    return_at: dt.datetime | None
    distance_m: float
    hub_name: str
    hub_lon: float
    hub_lat: float
    stops: tuple[StopView, ...]

    @property
    def to_pick_up(self) -> int:
        return sum(1 for s in self.stops if s.kind == "delivery" and s.state == OrderState.PLANNED)

    @property
    def active(self) -> bool:
        """Under way: picked up and not finished (see :func:`active_route`)."""
        return self.state == RouteState.ACTIVE or any(
            s.kind == "delivery" and s.state in (OrderState.DISPATCHED, OrderState.IN_TRANSIT,
                                                 OrderState.FAILED) for s in self.stops)


def courier_routes(session: Session, volunteer_id: str) -> list[RouteSummary]:
    """The volunteer's routes in confirmed plans, the ones still to drive first, newest first."""
    _volunteer(session, volunteer_id)
    routes = session.scalars(select(Route).join(Plan, Plan.id == Route.plan_id).where(
        Route.volunteer_id == volunteer_id, Plan.state == PlanState.CONFIRMED)
        .order_by(Route.depart_at.desc()).limit(20)).all()
    out = []
    for route in routes:
        ids = [st.order_id for st in route.stops if st.kind == "delivery"]
        states = session.scalars(select(Order.state).where(Order.id.in_(ids))).all()
        hub = session.get(Hub, session.get_one(Volunteer, volunteer_id).hub_id)
        out.append(RouteSummary(route.id, route.mode, route.state, route.depart_at, route.return_at,
                                len(ids), sum(OrderState(s) in OPEN_ON_ROUTE for s in states),
                                hub.name if hub is not None else ""))
    return sorted(out, key=lambda r: (r.state not in WORKING,))


def route_view(session: Session, volunteer_id: str, route_id: str) -> RouteView:
    """One of the volunteer's routes with its stops in order; :class:`NotFound` for anyone else's."""
    route = own_route(session, volunteer_id, route_id)
    volunteer = _volunteer(session, volunteer_id)
    hub = session.get_one(Hub, volunteer.hub_id)
    actor = f"volunteer:{volunteer_id}"
    ids = list({st.order_id for st in route.stops})
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids)))}
    residents = {r.id: r for r in session.scalars(select(Resident).where(
        Resident.id.in_([o.resident_id for o in orders.values()])))}
    stops = []
    for st in route.stops:
        order = orders[st.order_id]
        resident = residents[order.resident_id]
        held_by = holder(session, order)
        stops.append(StopView(
            seq=st.seq, kind=st.kind, order_id=order.id, number=order.number, state=order.state,
            eta=st.eta, lon=st.lon, lat=st.lat, resident_id=resident.id, resident_name=resident.name,
            resident_phone=resident.phone, notes=resident.notes, parcels=order.parcels,
            weight_kg=order.weight_kg, consent=resident.handover_consent, pin_locked=order.pin_locked,
            held=held_by == actor, pickup_from=held_by.split(":", 1)[0]))
    return RouteView(route.id, route.plan_id, route.mode, route.state, route.depart_at, route.return_at,
                     route.distance_m, hub.name, hub.lon, hub.lat, tuple(stops))


def route_line(session: Session, volunteer_id: str, route_id: str) -> Path:
    """The line of one of the volunteer's routes (WGS84 [lon, lat] points), the one stored with the
    plan version like every plan map's; :class:`NotFound` for anyone else's route."""
    route = own_route(session, volunteer_id, route_id)
    return route_path(session, route.id)
