"""The handoff board: for each parcel of a hub's day, who holds it now and its chain of custody so
far, exceptions on top (welfare note, locked PIN, failed delivery, overdue against the ETA,
returned), and the open operator alerts (welfare notes first).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.lifecycle import OrderState, PlanState
from dispatch.localtime import timezone_of_hubs
from dispatch.models import (
    Batch,
    BusTrip,
    Drone,
    HandoffEvent,
    Hub,
    Order,
    Plan,
    Resident,
    Route,
    Stop,
    Volunteer,
)
from dispatch.read import HubScope, scoped
from dispatch.read.alerts import AlertRow, open_alerts
from dispatch.read.drones import late_sortie_orders

#: A parcel is overdue this long after its planned ETA while not yet delivered.
OVERDUE_AFTER = dt.timedelta(minutes=30)
#: States in which a parcel is somewhere between the hub and the door (shown whatever the day).
MOVING = (OrderState.DISPATCHED, OrderState.IN_TRANSIT, OrderState.FAILED, OrderState.RETURNED)
#: Exception codes, most urgent first (the board's sort order).
EXCEPTIONS = ("welfare", "pin_locked", "failed", "sortie_late", "overdue", "returned")
#: The board lists at most this many open alerts.
ALERTS_SHOWN = 100


@dataclass(frozen=True)
class Hop:
    kind: str
    giver: str
    taker: str
    proof: str
    at: dt.datetime


@dataclass(frozen=True)
class ParcelRow:
    order_id: str
    number: int
    resident_code: str
    hub_id: str
    state: str
    holder: str | None  # display name of who holds it; None: nothing handed yet (at the hub)
    eta: dt.datetime | None
    chain: tuple[Hop, ...]
    exceptions: tuple[str, ...]
    resident_name: str = ""  # for the operator who calls the resident about the parcel
    resident_phone: str = ""
    carrier_id: str = ""  # the volunteer or drone of its confirmed route ("" before one)
    carrier: str = ""  # that courier's code and name, or the drone's code


@dataclass(frozen=True)
class Board:
    day: dt.date
    timezone: str
    generated_at: dt.datetime
    parcels: tuple[ParcelRow, ...]
    alerts: tuple[AlertRow, ...]  # welfare notes first, then newest first


def _timezone(session: Session, hub_ids: HubScope) -> str:
    """The timezone of the hubs' region: the board's day is a local date there."""
    return timezone_of_hubs(session, hub_ids).key


def board(session: Session, hub_ids: HubScope, now: dt.datetime, day: dt.date | None = None,
          sortie_late_after: dt.timedelta | None = None) -> Board:
    """The board of ``day`` (the region's local date; the local today at ``now`` by default).

    With ``sortie_late_after``, the parcels of a drone sortie that has not taken off that long
    after its planned start are flagged ``sortie_late`` (hub staff should fly or abort it).
    """
    tz = _timezone(session, hub_ids)
    zone = ZoneInfo(tz)
    day = day or now.astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(0), zone)
    end = start + dt.timedelta(days=1)
    stmt = scoped(select(Order, Resident).join(Resident, Order.resident_id == Resident.id)
                  .outerjoin(Batch, Order.batch_id == Batch.id)
                  .where(or_((Batch.cutoff_at >= start) & (Batch.cutoff_at < end),
                             Order.state.in_(MOVING), Order.pin_locked.is_(True))), Order.hub_id, hub_ids)
    orders = list(session.execute(stmt))
    ids = [o.id for o, _resident in orders]
    events: dict[str, list[HandoffEvent]] = {}
    for event in session.scalars(select(HandoffEvent).where(HandoffEvent.order_id.in_(ids))
                                 .order_by(HandoffEvent.seq)):
        events.setdefault(event.order_id, []).append(event)
    planned = {row.order_id: row for row in session.execute(
        select(Stop.order_id, Stop.eta, Route.volunteer_id, Route.drone_id, Route.bus_trip_id)
        .join(Route, Stop.route_id == Route.id).join(Plan, Route.plan_id == Plan.id)
        .where(Plan.state == PlanState.CONFIRMED, Stop.kind == "delivery", Stop.order_id.in_(ids)))}
    carriers = {_carrier_ref(r) for r in planned.values()}
    names = _party_names(session, events, carriers)
    alerts = sorted(open_alerts(session, hub_ids, limit=ALERTS_SHOWN),
                    key=lambda a: (a.kind != "welfare", -a.created_at.timestamp()))
    late = set() if sortie_late_after is None else late_sortie_orders(
        session, None if hub_ids is None else set(hub_ids), now, sortie_late_after)
    welfare = {a.order_number for a in alerts if a.kind == "welfare" and a.order_number is not None}
    rows = [_row(o, r, events.get(o.id, []), planned.get(o.id), names, now, welfare, o.id in late)
            for o, r in orders]
    rows.sort(key=_urgency)
    return Board(day=day, timezone=tz, generated_at=now, parcels=tuple(rows), alerts=tuple(alerts))


def _party_names(session: Session, events: dict[str, list[HandoffEvent]],
                 carriers: set[str] = frozenset()) -> dict[str, str]:
    """Display names of the parties in the chains (and of the ``carriers`` of the routes): hub
    names, courier codes and names, drone codes, resident codes (the row names the resident)."""
    refs = {ref for chain in events.values() for e in chain for ref in (e.from_party, e.to_party)} | carriers
    by_type: dict[str, set[str]] = {}
    for ref in refs:
        kind, _sep, ident = ref.partition(":")
        by_type.setdefault(kind, set()).add(ident)
    names: dict[str, str] = {}
    hubs = by_type.get("hub", set()) | by_type.get("supply", set())
    for h in session.scalars(select(Hub).where(Hub.id.in_(hubs))):
        names[f"hub:{h.id}"] = names[f"supply:{h.id}"] = h.name
    for v in session.scalars(select(Volunteer).where(Volunteer.id.in_(by_type.get("volunteer", set())))):
        names[f"volunteer:{v.id}"] = f"{v.code} {v.name}"
    for d in session.scalars(select(Drone).where(Drone.id.in_(by_type.get("drone", set())))):
        names[f"drone:{d.id}"] = f"✈ {d.code}"
    for r in session.scalars(select(Resident).where(Resident.id.in_(by_type.get("resident", set())))):
        names[f"resident:{r.id}"] = r.code
    for b in session.scalars(select(BusTrip).where(BusTrip.id.in_(by_type.get("bus", set())))):
        names[f"bus:{b.id}"] = f"🚌 {b.route_name} {b.code}".strip()  # the driver of that trip
    return names


def _carrier_ref(planned: Any) -> str:
    """The party carrying a planned delivery: its courier, drone, or bus trip (its driver)."""
    if planned.volunteer_id:
        return f"volunteer:{planned.volunteer_id}"
    if planned.bus_trip_id:
        return f"bus:{planned.bus_trip_id}"
    return f"drone:{planned.drone_id}"


def _row(order: Order, resident: Resident, chain: list[HandoffEvent], planned: Any,
         names: dict[str, str], now: dt.datetime, welfare: set[int], sortie_late: bool = False) -> ParcelRow:
    eta = planned.eta if planned is not None else None
    carrier_ref = _carrier_ref(planned) if planned is not None else ""
    carrier_id = carrier_ref.partition(":")[2]
    holder = names.get(chain[-1].to_party, chain[-1].to_party) if chain else None
    exceptions = []
    if order.number in welfare:
        exceptions.append("welfare")
    if order.pin_locked:
        exceptions.append("pin_locked")
    if order.state == OrderState.FAILED:
        exceptions.append("failed")
    if sortie_late:
        exceptions.append("sortie_late")
    if (eta is not None and order.state in (OrderState.PLANNED, OrderState.DISPATCHED, OrderState.IN_TRANSIT)
            and now > eta + OVERDUE_AFTER):
        exceptions.append("overdue")
    if order.state == OrderState.RETURNED:
        exceptions.append("returned")
    hops = tuple(Hop(kind=e.kind, giver=names.get(e.from_party, e.from_party),
                     taker=names.get(e.to_party, e.to_party), proof=e.proof, at=e.occurred_at)
                 for e in chain)
    return ParcelRow(order_id=order.id, number=order.number, resident_code=resident.code, hub_id=order.hub_id,
                     state=order.state, holder=holder, eta=eta, chain=hops, exceptions=tuple(exceptions),
                     resident_name=resident.name, resident_phone=resident.phone, carrier_id=carrier_id,
                     carrier=names.get(carrier_ref, "") if carrier_id else "")


def _urgency(row: ParcelRow) -> tuple[int, int]:
    ranks = [EXCEPTIONS.index(e) for e in row.exceptions]
    return (min(ranks) if ranks else len(EXCEPTIONS), row.number)
