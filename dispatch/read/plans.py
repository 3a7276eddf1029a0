"""The plan review pages: the list of batches with their latest plan, and one plan version
(routes, stops, unserved orders, KPIs) as the plan page shows it.

Plain frozen dataclasses out, no ORM objects: templates and the JSON views never touch a session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.lifecycle import BATCH_PENDING, PlanState
from dispatch.models import Batch, BusTrip, Drone, Hub, Order, Plan, Region, Resident, Route, Stop, Volunteer
from dispatch.read import HubScope, scoped
from dispatch.read.lines import MapLine, plan_lines
from dispatch.read.region import MapFrame, map_frame

# --- the plan list and the review queue ----------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    """The latest version of one batch's plan (or a batch without one: failed, solving...)."""

    batch_id: str
    hub_id: str
    hub_name: str
    cutoff_at: dt.datetime
    batch_state: str
    batch_reason: str
    solved_at: dt.datetime | None
    plan_id: str | None
    version: int | None
    state: str | None  # proposed | confirmed | superseded, None without a plan
    ok: bool | None
    deliveries: int
    unserved: int



def plan_rows(session: Session, hub_ids: HubScope, *, limit: int = 100,
              state: str | None = None) -> list[PlanRow]:
    """Batches of the given hubs (None = all), newest cutoff first, each with its latest plan."""
    latest = (select(Plan.batch_id, func.max(Plan.version).label("version"))
              .group_by(Plan.batch_id).subquery())
    stmt = scoped(
        select(Batch, Hub.name, Plan)
        .join(Hub, Batch.hub_id == Hub.id)
        .outerjoin(latest, latest.c.batch_id == Batch.id)
        .outerjoin(Plan, (Plan.batch_id == Batch.id) & (Plan.version == latest.c.version))
        .order_by(Batch.cutoff_at.desc(), Hub.code).limit(limit), Batch.hub_id, hub_ids)
    if state is not None:
        stmt = stmt.where(Plan.state == state)
    rows = list(session.execute(stmt))
    plan_ids = [p.id for _b, _n, p in rows if p is not None]
    counts: dict[str, int] = (
        {pid: n for pid, n in session.execute(_delivery_counts(plan_ids))} if plan_ids else {})
    return [
        PlanRow(batch_id=b.id, hub_id=b.hub_id, hub_name=name, cutoff_at=b.cutoff_at,
                batch_state=b.state, batch_reason=b.reason, solved_at=b.solved_at,
                plan_id=p.id if p else None, version=p.version if p else None,
                state=p.state if p else None, ok=bool(p.validation.get("ok")) if p else None,
                deliveries=counts.get(p.id, 0) if p else 0,
                unserved=len(p.unserved) if p else 0)
        for b, name, p in rows
    ]


def _delivery_counts(plan_ids: list[str]) -> Any:
    return (select(Route.plan_id, func.count(Stop.id)).join(Stop, Stop.route_id == Route.id)
            .where(Route.plan_id.in_(plan_ids), Stop.kind == "delivery").group_by(Route.plan_id))


def waiting_for_review(session: Session, hub_ids: HubScope) -> list[PlanRow]:
    """Latest plan versions still ``proposed``: what the operator is notified of on the dashboard."""
    return plan_rows(session, hub_ids, state=PlanState.PROPOSED, limit=50)



# --- one plan version ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StopRow:
    seq: int
    order_id: str
    number: int
    resident_code: str
    kind: str  # pickup | delivery | load | transfer
    eta: dt.datetime | None
    lon: float
    lat: float
    parcels: int
    weight_kg: float
    resident_name: str = ""  # whom the operator calls about the stop
    resident_phone: str = ""


@dataclass(frozen=True)
class RouteView:
    id: str
    position: int
    vehicle_id: str  # volunteer id or drone id (the routing problem's vehicle id)
    label: str  # courier code and name, or drone code and sortie
    mode: str
    drone: bool
    sortie: int | None
    depart_at: dt.datetime | None
    return_at: dt.datetime | None
    distance_m: float
    stops: tuple[StopRow, ...]
    phone: str = ""  # the courier's ("" for a drone)
    #: The vehicle's place among the hub's couriers and drones (by code): its colour on every
    #: version of every plan of the hub, whoever else is on shift.
    colour: int = 0
    permits: tuple[str, ...] = ()  # a sortie's: the permit numbers it relies on

    @property
    def deliveries(self) -> tuple[StopRow, ...]:
        return tuple(st for st in self.stops if st.kind == "delivery")


@dataclass(frozen=True)
class UnservedRow:
    order_id: str
    number: int | None
    resident_code: str
    reason: str
    detail: str
    lon: float | None
    lat: float | None
    resident_name: str = ""
    resident_phone: str = ""


@dataclass(frozen=True)
class Kpis:
    """The figures an operator checks before confirming."""

    deliveries: int
    stops: int
    km_by_mode: dict[str, float]
    courier_hours: float
    drone_sorties: int
    unserved: int
    late: int = 0  # deliveries planned after their window closes
    bus_legs: int = 0  # parcels riding a community bus (貨客混載)
    km: float = 0.0  # every mode, rounded once

    @property
    def figures(self) -> Figures:
        return Figures(km=self.km, courier_hours=self.courier_hours,
                       unserved=self.unserved, late=self.late)


@dataclass(frozen=True)
class Figures:
    """What an operator compares between two versions of a plan."""

    km: float
    courier_hours: float
    unserved: int
    late: int


@dataclass(frozen=True)
class PlanView:
    id: str
    batch_id: str
    hub_id: str
    hub_name: str
    hub_lon: float
    hub_lat: float
    region_code: str
    timezone: str
    cutoff_at: dt.datetime
    batch_state: str  # closed / solving: a re-plan is on its way (the scheduler's worker solves it)
    batch_reason: str
    replan_reason: str | None  # why the re-plan was asked for; None: none asked
    version: int
    latest_id: str
    latest_version: int
    state: str
    note: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    ok: bool
    violations: tuple[str, ...]
    routes: tuple[RouteView, ...]
    unserved: tuple[UnservedRow, ...]
    kpis: Kpis
    couriers: tuple[tuple[str, str], ...]  # (volunteer id, label) on shift: targets of a move
    flight_notes: tuple[str, ...] = ()  # stored phrases: permits relied on, zones left no-fly, weather

    @property
    def replanning(self) -> bool:
        """A re-plan of this batch was asked for (force ground, weather hold) and is not done yet."""
        return self.batch_state in BATCH_PENDING and self.replan_reason is not None

    @property
    def editable(self) -> bool:
        return self.state == PlanState.PROPOSED and self.id == self.latest_id and not self.replanning


def plan_hub(session: Session, plan_id: str) -> str | None:
    """The hub of a plan (for the access check before anything else is read), None if unknown."""
    return session.scalar(select(Batch.hub_id).join(Plan, Plan.batch_id == Batch.id)
                          .where(Plan.id == plan_id))


def first_eta(session: Session, plan_id: str) -> dt.datetime | None:
    """The earliest ETA at any stop of the plan version (None: no stop): confirming after it, the
    plan is re-timed from now (:func:`dispatch.services.plans.confirm_plan`)."""
    return session.scalar(select(func.min(Stop.eta)).join(Route, Route.id == Stop.route_id)
                          .where(Route.plan_id == plan_id))


def plan_view(session: Session, plan_id: str) -> PlanView | None:
    """Everything the plan page shows of one version; None when the plan does not exist.

    Columns, not ORM objects: a 1,000-order version has thousands of stops, and plain rows cost a
    fraction of mapped instances to build (and leave the garbage collector less to walk).
    """
    plan = session.execute(select(Plan.id, Plan.batch_id, Plan.version, Plan.state, Plan.note,
                                  Plan.created_at, Plan.confirmed_at, Plan.validation, Plan.unserved,
                                  Plan.problem, Plan.flight_notes)
                           .where(Plan.id == plan_id)).first()
    if plan is None:
        return None
    place = session.execute(
        select(Batch.cutoff_at, Batch.state.label("batch_state"), Batch.reason.label("batch_reason"),
               Batch.replan_reason,
               Hub.id.label("hub_id"), Hub.name.label("hub_name"), Hub.lon, Hub.lat,
               Region.code.label("region_code"), Region.timezone)
        .join(Hub, Hub.id == Batch.hub_id).join(Region, Region.id == Hub.region_id)
        .where(Batch.id == plan.batch_id)).one()
    latest = session.execute(select(Plan.id, Plan.version).where(Plan.batch_id == plan.batch_id)
                             .order_by(Plan.version.desc()).limit(1)).one()
    route_rows = session.execute(
        select(Route.id, Route.position, Route.volunteer_id, Route.drone_id, Route.sortie, Route.mode,
               Route.depart_at, Route.return_at, Route.distance_m, Route.permits, Route.bus_trip_id,
               BusTrip.code.label("bus_code"), BusTrip.route_name.label("bus_route"))
        .outerjoin(BusTrip, BusTrip.id == Route.bus_trip_id)
        .where(Route.plan_id == plan_id).order_by(Route.position)).all()
    stops: dict[str, list[StopRow]] = {r.id: [] for r in route_rows}
    for st in session.execute(
            select(Stop.route_id, Stop.seq, Stop.order_id, Stop.kind, Stop.eta, Stop.lon, Stop.lat,
                   Order.number, Order.parcels, Order.weight_kg, Resident.code,
                   Resident.name.label("resident_name"), Resident.phone.label("resident_phone"))
            .join(Route, Route.id == Stop.route_id)
            .outerjoin(Order, Order.id == Stop.order_id)
            .outerjoin(Resident, Resident.id == Order.resident_id)
            .where(Route.plan_id == plan_id).order_by(Route.position, Stop.seq)):
        stops[st.route_id].append(StopRow(
            seq=st.seq, order_id=st.order_id, number=st.number or 0, resident_code=st.code or "",
            kind=st.kind, eta=st.eta, lon=st.lon, lat=st.lat, parcels=st.parcels or 0,
            weight_kg=st.weight_kg or 0.0, resident_name=st.resident_name or "",
            resident_phone=st.resident_phone or ""))
    homes: Homes = {o.id: (o.number, o.code, o.lon, o.lat, o.name, o.phone) for o in session.execute(
        select(Order.id, Order.number, Resident.code, Resident.lon, Resident.lat, Resident.name,
               Resident.phone)
        .join(Resident, Order.resident_id == Resident.id)
        .where(Order.id.in_({u["order_id"] for u in plan.unserved})))}
    hub_id = place.hub_id
    volunteers = {v.id: v for v in session.execute(select(Volunteer.id, Volunteer.code, Volunteer.name,
                                                          Volunteer.mode, Volunteer.phone)
                                                  .where(Volunteer.hub_id == hub_id))}
    drones = {d.id: d.code for d in session.execute(select(Drone.id, Drone.code)
                                                    .where(Drone.hub_id == hub_id))}
    colours = {vid: i for i, vid in enumerate([*sorted(volunteers, key=lambda v: volunteers[v].code),
                                               *sorted(drones, key=drones.__getitem__)])}
    routes = tuple(_route_view(r, tuple(stops[r.id]), volunteers, drones, colours) for r in route_rows)
    unserved = tuple(_unserved_row(u, homes) for u in plan.unserved)
    couriers = tuple((v["id"], _courier_label(volunteers.get(v["id"]), v["id"]))
                     for v in plan.problem.get("vehicles", []))
    return PlanView(
        id=plan.id, batch_id=plan.batch_id, hub_id=place.hub_id, hub_name=place.hub_name, hub_lon=place.lon,
        hub_lat=place.lat, region_code=place.region_code, timezone=place.timezone,
        cutoff_at=place.cutoff_at, batch_state=place.batch_state, batch_reason=place.batch_reason,
        replan_reason=place.replan_reason,
        version=plan.version, latest_id=latest.id, latest_version=latest.version, state=plan.state,
        note=plan.note,
        created_at=plan.created_at, confirmed_at=plan.confirmed_at,
        ok=bool(plan.validation.get("ok")), violations=tuple(plan.validation.get("violations", [])),
        routes=routes, unserved=unserved, kpis=_kpis(routes, unserved), couriers=couriers,
        flight_notes=tuple(plan.flight_notes or ()),
    )


#: Unserved orders of a plan by id: (order number, resident code, home lon, home lat, name, phone).
Homes = dict[str, tuple[int | None, str, float | None, float | None, str, str]]
_NOBODY: tuple[None, str, None, None, str, str] = (None, "", None, None, "", "")


def _courier_label(volunteer: Any, fallback: str) -> str:
    """``volunteer`` is a row with code and name, or None (then ``fallback``, the id); the mode is
    shown beside it, in the viewer's words."""
    if volunteer is None:
        return fallback
    return f"{volunteer.code} {volunteer.name}"


def _courier_phone(volunteer: Any) -> str:
    return str(volunteer.phone) if volunteer is not None else ""


def _route_view(route: Any, stops: tuple[StopRow, ...], volunteers: dict[str, Any],
                drones: dict[str, str], colours: dict[str, int]) -> RouteView:
    drone = route.drone_id is not None
    if drone:
        label = f"{drones.get(route.drone_id, route.drone_id)} #{route.sortie}"
    elif route.bus_trip_id is not None:  # a bus leg: the timetable's route name and trip
        label = f"{route.bus_route} {route.bus_code}".strip()
    else:
        label = _courier_label(volunteers.get(route.volunteer_id or ""), route.volunteer_id or "")
    return RouteView(id=route.id, position=route.position,
                     vehicle_id=(route.drone_id if drone else route.volunteer_id) or "", label=label,
                     mode=route.mode, drone=drone, sortie=route.sortie, depart_at=route.depart_at,
                     return_at=route.return_at, distance_m=route.distance_m, stops=stops,
                     phone=_courier_phone(volunteers.get(route.volunteer_id or "")) if not drone else "",
                     colour=colours.get((route.drone_id if drone else route.volunteer_id) or "", 0),
                     permits=tuple(route.permits or ()))


def _unserved_row(entry: dict[str, str], homes: Homes) -> UnservedRow:
    number, code, lon, lat, name, phone = homes.get(entry["order_id"], _NOBODY)
    return UnservedRow(order_id=entry["order_id"], number=number, resident_code=code,
                       reason=entry.get("reason", ""), detail=entry.get("detail", ""), lon=lon, lat=lat,
                       resident_name=name, resident_phone=phone)


def _late(problem: dict[str, Any], etas: Any) -> int:
    """How many of the (order id, ETA) deliveries start after their order's window closes (the
    windows are in the stored problem, seconds from its ``t0``)."""
    t0 = dt.datetime.fromisoformat(problem["t0"])
    closes = {o["id"]: t0 + dt.timedelta(seconds=o["window"][1]) for o in problem.get("orders", [])}
    return sum(1 for order_id, eta in etas
               if eta is not None and order_id in closes and eta > closes[order_id])


def version_figures(session: Session, plan_id: str) -> Figures | None:
    """The figures of one version (km, courier hours, unserved, late) without the rest of its page:
    the plan page compares a version with the one before it."""
    plan = session.execute(select(Plan.problem, Plan.unserved).where(Plan.id == plan_id)).first()
    if plan is None:
        return None
    routes = session.execute(select(Route.id, Route.drone_id, Route.depart_at, Route.return_at,
                                    Route.distance_m).where(Route.plan_id == plan_id)).all()
    etas = session.execute(select(Stop.order_id, Stop.eta).join(Route, Route.id == Stop.route_id)
                           .where(Route.plan_id == plan_id, Stop.kind == "delivery")).all()
    seconds = sum((r.return_at - r.depart_at).total_seconds() for r in routes
                  if r.drone_id is None and r.depart_at is not None and r.return_at is not None)
    return Figures(km=round(sum(r.distance_m for r in routes) / 1000, 1),
                   courier_hours=round(seconds / 3600, 2), unserved=len(plan.unserved),
                   late=_late(plan.problem, etas))


def _kpis(routes: tuple[RouteView, ...], unserved: tuple[UnservedRow, ...], late: int = 0) -> Kpis:
    km: dict[str, float] = {}
    for r in routes:
        km[r.mode] = km.get(r.mode, 0.0) + r.distance_m / 1000
    seconds = sum((r.return_at - r.depart_at).total_seconds() for r in routes
                  if not r.drone and r.mode != "bus" and r.depart_at is not None and r.return_at is not None)
    return Kpis(
        deliveries=sum(len(r.deliveries) for r in routes), stops=sum(len(r.stops) for r in routes),
        km_by_mode={m: round(v, 1) for m, v in sorted(km.items())}, courier_hours=round(seconds / 3600, 2),
        drone_sorties=sum(1 for r in routes if r.drone), unserved=len(unserved), late=late,
        km=round(sum(km.values()), 1),
        bus_legs=sum(len(r.deliveries) for r in routes if r.mode == "bus"),
    )


@dataclass(frozen=True)
class PlanPage:
    """One version's page: the version, and what its map draws around the routes."""

    plan: PlanView
    frame: MapFrame | None  # the region's hubs and zones
    lines: tuple[MapLine, ...]  # one per route, in route order
    previous: tuple[int, Figures] | None = None  # the version before this one and its figures


def plan_page(session: Session, plan_id: str, now: dt.datetime) -> PlanPage | None:
    """Everything the plan page shows (zones as they are at ``now``); None for an unknown plan."""
    view = plan_view(session, plan_id)
    if view is None:
        return None
    before = session.execute(select(Plan.id, Plan.version)
                             .where(Plan.batch_id == view.batch_id, Plan.version < view.version)
                             .order_by(Plan.version.desc()).limit(1)).first()
    figures = version_figures(session, before.id) if before is not None else None
    return PlanPage(plan=view, frame=map_frame(session, view.region_code, now),
                    lines=plan_lines(session, plan_id),
                    previous=(before.version, figures) if before is not None and figures else None)
