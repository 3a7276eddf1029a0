"""The drone operations page's read model: the sorties of today's confirmed plans, in order.

Hub staff fly from this list (``web/drones.py``); the handoff board uses :func:`late_sortie_orders`
to flag the parcels of a sortie that did not take off in time. Each function takes the caller's
(read) session first and returns plain frozen dataclasses: no ORM object leaves, nothing is
written, and ``now`` is an argument, never the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.errors import NotFound
from dispatch.lifecycle import OrderState, PlanState, RouteState
from dispatch.models import Batch, Drone, Hub, Order, Plan, Region, Resident, Route, SortieLog
from dispatch.services.delivery import holder
from dispatch.services.sorties import permit_zones, planned_payload, sortie_kind, sortie_orders

#: Sortie statuses as the page shows them, in the order a sortie goes through them.
STATUSES = ("waiting", "late", "in_air", "landed", "aborted")


@dataclass(frozen=True)
class ParcelLine:
    order_id: str
    number: int
    role: str  # delivery (dropped at the drop point) | shuttle (flown to the hub)
    weight_kg: float
    parcels: int
    state: str
    eta: dt.datetime | None  # at the drop point (direct) or landing at the hub (shuttle)
    destination: str  # the resident's code (drop point) or the hub's name
    drop_lon: float | None
    drop_lat: float | None
    on_board: bool
    pin_locked: bool


@dataclass(frozen=True)
class SortieRow:
    route_id: str
    hub_id: str
    hub_name: str
    drone_code: str
    drone_model: str
    drone_status: str
    payload_limit_kg: float
    payload_kg: float  # planned: every parcel of the sortie
    kind: str  # shuttle | direct
    depart_at: dt.datetime | None
    return_at: dt.datetime | None
    status: str  # one of STATUSES
    parcels: tuple[ParcelLine, ...]
    permit_zones: tuple[str, ...]  # names of the zones on the path that need a permit now
    weather_hold: bool
    taken_off_at: dt.datetime | None
    landed_at: dt.datetime | None
    permit_ref: str
    abort_reason: str
    planned_permits: tuple[str, ...] = ()  # the permit numbers the plan relies on
    pilot: str = ""  # who flew it (recorded at take-off)
    pilot_licence: str = ""  # 技能証明書番号 typed at take-off
    safety_notes: str = ""  # flight-log entries recorded at the landing
    defects: str = ""

    @property
    def over_limit(self) -> bool:
        return self.payload_kg > self.payload_limit_kg


def _status(route: Route, now: dt.datetime, late_after: dt.timedelta) -> str:
    if route.state == RouteState.ACTIVE:
        return "in_air"
    if route.state == RouteState.DONE:
        return "landed"
    if route.state == RouteState.CANCELLED:
        return "aborted"
    if route.depart_at is not None and now > route.depart_at + late_after:
        return "late"
    return "waiting"


def _today(session: Session, hub_ids: set[str] | None, now: dt.datetime) -> list[Route]:
    """Drone routes of confirmed plans whose batch closed on the hub's local today, and every
    sortie still in the air whatever its day or plan version, in planned take-off order."""
    query = (select(Route, Batch.cutoff_at, Region.timezone)
             .join(Plan, Plan.id == Route.plan_id).join(Batch, Batch.id == Plan.batch_id)
             .join(Hub, Hub.id == Batch.hub_id).join(Region, Region.id == Hub.region_id)
             .where(or_(Plan.state == PlanState.CONFIRMED, Route.state == RouteState.ACTIVE),
                    Route.drone_id.is_not(None))
             .order_by(Route.depart_at, Route.position))
    if hub_ids is not None:
        query = query.where(Batch.hub_id.in_(hub_ids))
    since = now - dt.timedelta(days=2)  # a generous bound; the local date decides below
    query = query.where(or_(Batch.cutoff_at >= since, Route.state == RouteState.ACTIVE))
    out = []
    for route, cutoff, timezone in session.execute(query):
        zone = ZoneInfo(timezone)
        if route.state == RouteState.ACTIVE or cutoff.astimezone(zone).date() == now.astimezone(zone).date():
            out.append(route)
    return out


def _row(session: Session, route: Route, now: dt.datetime, late_after: dt.timedelta) -> SortieRow:
    plan = session.get_one(Plan, route.plan_id)
    hub = session.get_one(Hub, session.get_one(Batch, plan.batch_id).hub_id)
    drone = session.get_one(Drone, route.drone_id)
    log = session.scalars(select(SortieLog).where(SortieLog.route_id == route.id)).one_or_none()
    party = f"drone:{drone.id}"
    etas: dict[str, dt.datetime | None] = {}
    for stop in route.stops:
        if stop.kind in ("delivery", "transfer"):
            etas[stop.order_id] = stop.eta
    lines = []
    for order, role in sortie_orders(session, route):
        resident = session.get_one(Resident, order.resident_id)
        lines.append(ParcelLine(
            order_id=order.id, number=order.number, role=role, weight_kg=order.weight_kg,
            parcels=order.parcels, state=order.state, eta=etas.get(order.id),
            destination=resident.code if role == "delivery" else hub.name,
            drop_lon=resident.drop_lon if role == "delivery" else None,
            drop_lat=resident.drop_lat if role == "delivery" else None,
            on_board=holder(session, order) == party, pin_locked=order.pin_locked))
    zones = permit_zones(session, route, now) if route.state == RouteState.PLANNED else []
    return SortieRow(
        route_id=route.id, hub_id=hub.id, hub_name=hub.name, drone_code=drone.code,
        drone_model=drone.model, drone_status=drone.status, payload_limit_kg=drone.payload_kg,
        payload_kg=planned_payload(session, route), kind=sortie_kind(route), depart_at=route.depart_at,
        return_at=route.return_at, status=_status(route, now, late_after), parcels=tuple(lines),
        permit_zones=tuple(z.name for z in zones) or tuple(log.permit_zones if log else ()),
        weather_hold=hub.weather_hold, taken_off_at=log.taken_off_at if log else None,
        landed_at=log.landed_at if log else None, permit_ref=log.permit_ref if log else "",
        abort_reason=log.abort_reason if log else "", planned_permits=tuple(route.permits or ()),
        pilot=log.pilot if log else "", pilot_licence=log.pilot_licence if log else "",
        safety_notes=log.safety_notes if log else "",
        defects=log.defects if log else "")


def todays_sorties(session: Session, hub_ids: Iterable[str] | None, now: dt.datetime,
                   late_after: dt.timedelta) -> list[SortieRow]:
    """The sorties of today's confirmed plans for ``hub_ids`` (None: every hub), in take-off order.

    A sortie that has not taken off ``late_after`` past its planned start is ``late``."""
    scope = None if hub_ids is None else set(hub_ids)
    return [_row(session, route, now, late_after) for route in _today(session, scope, now)]


def sortie_row(session: Session, route_id: str, hub_ids: Iterable[str] | None, now: dt.datetime,
               late_after: dt.timedelta) -> SortieRow:
    """One sortie of a confirmed plan of ``hub_ids``; :class:`NotFound` for any other."""
    scope = None if hub_ids is None else set(hub_ids)
    found = session.execute(
        select(Route, Plan.state, Batch.hub_id).join(Plan, Plan.id == Route.plan_id)
        .join(Batch, Batch.id == Plan.batch_id).where(Route.id == route_id)).first()
    if found is None:
        raise NotFound(f"drone sortie {route_id!r} does not exist")
    route, plan_state, hub_id = found
    flyable = plan_state == PlanState.CONFIRMED or route.state == RouteState.ACTIVE  # see sorties.sortie_in
    if route.drone_id is None or not flyable or (scope is not None and hub_id not in scope):
        raise NotFound(f"drone sortie {route_id!r} does not exist")
    return _row(session, route, now, late_after)


def late_sortie_orders(session: Session, hub_ids: set[str] | None, now: dt.datetime,
                       late_after: dt.timedelta) -> set[str]:
    """Ids of the orders on a sortie of a confirmed plan that has not taken off ``late_after``
    past its planned start (the board flags them ``sortie_late``)."""
    query = (select(Route).join(Plan, Plan.id == Route.plan_id).join(Batch, Batch.id == Plan.batch_id)
             .where(Plan.state == PlanState.CONFIRMED, Route.drone_id.is_not(None),
                    Route.state == RouteState.PLANNED,
                    Route.depart_at.is_not(None), Route.depart_at < now - late_after))
    if hub_ids is not None:
        query = query.where(Batch.hub_id.in_(hub_ids))
    late: set[str] = set()
    for route in session.scalars(query):
        ids = {st.order_id for st in route.stops}
        open_ids = session.scalars(select(Order.id).where(Order.id.in_(ids),
                                                          Order.state == OrderState.PLANNED))
        late.update(open_ids)
    return late
