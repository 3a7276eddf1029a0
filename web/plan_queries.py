"""Read models of plans and batches for the console (plan review, review queue, batch timeline).

Plain frozen dataclasses out, no ORM objects: templates and the JSON views never touch a session.
Plan versions are immutable once stored (an edit makes a new version), so each route's map line,
which costs a road-network path search, is computed once when the version is stored and read back
here.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

import routing
from dispatch.db import Database
from dispatch.models import (
    Batch,
    CourierPosition,
    Drone,
    Hub,
    Order,
    Plan,
    Region,
    Resident,
    Route,
    Stop,
    Volunteer,
)
from dispatch.planning.store import display_paths
from dispatch.services.batching import cutoff_instants
from web.maps import PointFeature, RouteLine

#: Plan states an operator still acts on (superseded versions stay reachable from their page).
OPEN_STATES = ("proposed", "confirmed")


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


def _scoped(stmt: Any, hub_ids: Iterable[str] | None) -> Any:
    return stmt if hub_ids is None else stmt.where(Batch.hub_id.in_(list(hub_ids)))


def plan_rows(db: Database, hub_ids: Iterable[str] | None, *, limit: int = 100,
              state: str | None = None) -> list[PlanRow]:
    """Batches of the given hubs (None = all), newest cutoff first, each with its latest plan."""
    latest = (select(Plan.batch_id, func.max(Plan.version).label("version"))
              .group_by(Plan.batch_id).subquery())
    stmt = _scoped(
        select(Batch, Hub.name, Plan)
        .join(Hub, Batch.hub_id == Hub.id)
        .outerjoin(latest, latest.c.batch_id == Batch.id)
        .outerjoin(Plan, (Plan.batch_id == Batch.id) & (Plan.version == latest.c.version))
        .order_by(Batch.cutoff_at.desc(), Hub.code).limit(limit), hub_ids)
    if state is not None:
        stmt = stmt.where(Plan.state == state)
    with db.read() as s:
        rows = list(s.execute(stmt))
        plan_ids = [p.id for _b, _n, p in rows if p is not None]
        counts: dict[str, int] = (
            {pid: n for pid, n in s.execute(_delivery_counts(plan_ids))} if plan_ids else {})
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


def waiting_for_review(db: Database, hub_ids: Iterable[str] | None) -> list[PlanRow]:
    """Latest plan versions still ``proposed``: what the operator is notified of on the dashboard."""
    return plan_rows(db, hub_ids, state="proposed", limit=50)


@dataclass(frozen=True)
class HubTimeline:
    """One hub's batch timeline: the next cutoff, the last batch and recent failures."""

    hub_id: str
    hub_name: str
    next_cutoff: dt.datetime | None
    last_cutoff: dt.datetime | None
    last_state: str | None
    last_solved_at: dt.datetime | None
    last_solve_seconds: float | None
    failed: tuple[tuple[dt.datetime, str], ...]  # (cutoff, reason) of failed batches, newest first


def batch_timeline(db: Database, hub_ids: Iterable[str] | None, now: dt.datetime,
                   failed_limit: int = 5) -> list[HubTimeline]:
    """Per hub with cutoffs: next cutoff after ``now``, last batch (state, solve time), and the
    batches still ``failed`` (newest first): they need attention until retried, whatever their age."""
    wanted = None if hub_ids is None else list(hub_ids)
    with db.read() as s:
        stmt = (select(Hub, Region.timezone).join(Region, Hub.region_id == Region.id)
                .order_by(Hub.code))
        if wanted is not None:
            stmt = stmt.where(Hub.id.in_(wanted))
        hubs = [(h.id, h.name, list(h.cutoffs), tz) for h, tz in s.execute(stmt) if h.cutoffs]
        out = []
        for hub_id, name, cutoffs, tz in hubs:
            nexts = cutoff_instants(cutoffs, ZoneInfo(tz), now, now + dt.timedelta(days=2))
            last = s.scalars(select(Batch).where(Batch.hub_id == hub_id)
                             .order_by(Batch.cutoff_at.desc()).limit(1)).first()
            failed = tuple((b.cutoff_at, b.reason) for b in s.scalars(
                select(Batch).where(Batch.hub_id == hub_id, Batch.state == "failed")
                .order_by(Batch.cutoff_at.desc()).limit(failed_limit)))
            out.append(HubTimeline(
                hub_id=hub_id, hub_name=name, next_cutoff=nexts[0] if nexts else None,
                last_cutoff=last.cutoff_at if last else None, last_state=last.state if last else None,
                last_solved_at=last.solved_at if last else None,
                last_solve_seconds=last.solve_seconds if last else None, failed=failed))
        return out


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


@dataclass(frozen=True)
class Kpis:
    """The figures an operator checks before confirming."""

    deliveries: int
    stops: int
    km_by_mode: dict[str, float]
    courier_hours: float
    drone_sorties: int
    unserved: int


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

    @property
    def replanning(self) -> bool:
        """A re-plan of this batch was asked for (force ground, weather hold) and is not done yet."""
        return self.batch_state in ("closed", "solving") and self.batch_reason.startswith("re-plan: ")

    @property
    def editable(self) -> bool:
        return self.state == "proposed" and self.id == self.latest_id and not self.replanning


def plan_hub(db: Database, plan_id: str) -> str | None:
    """The hub of a plan (for the access check before anything else is read), None if unknown."""
    with db.read() as s:
        return s.scalar(select(Batch.hub_id).join(Plan, Plan.batch_id == Batch.id).where(Plan.id == plan_id))


def plan_view(db: Database, plan_id: str) -> PlanView | None:
    """Everything the plan page shows of one version; None when the plan does not exist.

    Columns, not ORM objects: a 1,000-order version has thousands of stops, and plain rows cost a
    fraction of mapped instances to build (and leave the garbage collector less to walk).
    """
    with db.read() as s:
        plan = s.execute(select(Plan.id, Plan.batch_id, Plan.version, Plan.state, Plan.note, Plan.created_at,
                                Plan.confirmed_at, Plan.validation, Plan.unserved, Plan.problem)
                         .where(Plan.id == plan_id)).first()
        if plan is None:
            return None
        place = s.execute(
            select(Batch.cutoff_at, Batch.state.label("batch_state"), Batch.reason.label("batch_reason"),
                   Hub.id.label("hub_id"), Hub.name.label("hub_name"), Hub.lon, Hub.lat,
                   Region.code.label("region_code"), Region.timezone)
            .join(Hub, Hub.id == Batch.hub_id).join(Region, Region.id == Hub.region_id)
            .where(Batch.id == plan.batch_id)).one()
        latest = s.execute(select(Plan.id, Plan.version).where(Plan.batch_id == plan.batch_id)
                           .order_by(Plan.version.desc()).limit(1)).one()
        route_rows = s.execute(
            select(Route.id, Route.position, Route.volunteer_id, Route.drone_id, Route.sortie, Route.mode,
                   Route.depart_at, Route.return_at, Route.distance_m)
            .where(Route.plan_id == plan_id).order_by(Route.position)).all()
        stops: dict[str, list[StopRow]] = {r.id: [] for r in route_rows}
        for st in s.execute(
                select(Stop.route_id, Stop.seq, Stop.order_id, Stop.kind, Stop.eta, Stop.lon, Stop.lat,
                       Order.number, Order.parcels, Order.weight_kg, Resident.code)
                .join(Route, Route.id == Stop.route_id)
                .outerjoin(Order, Order.id == Stop.order_id)
                .outerjoin(Resident, Resident.id == Order.resident_id)
                .where(Route.plan_id == plan_id).order_by(Route.position, Stop.seq)):
            stops[st.route_id].append(StopRow(
                seq=st.seq, order_id=st.order_id, number=st.number or 0, resident_code=st.code or "",
                kind=st.kind, eta=st.eta, lon=st.lon, lat=st.lat, parcels=st.parcels or 0,
                weight_kg=st.weight_kg or 0.0))
        homes: Homes = {o.id: (o.number, o.code, o.lon, o.lat) for o in s.execute(
            select(Order.id, Order.number, Resident.code, Resident.lon, Resident.lat)
            .join(Resident, Order.resident_id == Resident.id)
            .where(Order.id.in_({u["order_id"] for u in plan.unserved})))}
        hub_id = place.hub_id
        volunteers = {v.id: v for v in s.execute(select(Volunteer.id, Volunteer.code, Volunteer.name,
                                                        Volunteer.mode).where(Volunteer.hub_id == hub_id))}
        drones = {d.id: d.code for d in s.execute(select(Drone.id, Drone.code).where(Drone.hub_id == hub_id))}
    routes = tuple(_route_view(r, tuple(stops[r.id]), volunteers, drones) for r in route_rows)
    unserved = tuple(_unserved_row(u, homes) for u in plan.unserved)
    couriers = tuple((v["id"], _courier_label(volunteers.get(v["id"]), v["id"]))
                     for v in plan.problem.get("vehicles", []))
    return PlanView(
        id=plan.id, batch_id=plan.batch_id, hub_id=place.hub_id, hub_name=place.hub_name, hub_lon=place.lon,
        hub_lat=place.lat, region_code=place.region_code, timezone=place.timezone,
        cutoff_at=place.cutoff_at, batch_state=place.batch_state, batch_reason=place.batch_reason,
        version=plan.version, latest_id=latest.id, latest_version=latest.version, state=plan.state,
        note=plan.note,
        created_at=plan.created_at, confirmed_at=plan.confirmed_at,
        ok=bool(plan.validation.get("ok")), violations=tuple(plan.validation.get("violations", [])),
        routes=routes, unserved=unserved, kpis=_kpis(routes, unserved), couriers=couriers,
    )


#: Unserved orders of a plan by id: (order number, resident code, home lon, home lat).
Homes = dict[str, tuple[int | None, str, float | None, float | None]]
_NOBODY: tuple[None, str, None, None] = (None, "", None, None)


def _courier_label(volunteer: Any, fallback: str) -> str:
    """``volunteer`` is a row with code, name and mode, or None (then ``fallback``, the id)."""
    if volunteer is None:
        return fallback
    return f"{volunteer.code} {volunteer.name} ({volunteer.mode})"


def _route_view(route: Any, stops: tuple[StopRow, ...], volunteers: dict[str, Any],
                drones: dict[str, str]) -> RouteView:
    drone = route.drone_id is not None
    if drone:
        label = f"{drones.get(route.drone_id, route.drone_id)} #{route.sortie}"
    else:
        label = _courier_label(volunteers.get(route.volunteer_id or ""), route.volunteer_id or "")
    return RouteView(id=route.id, position=route.position,
                     vehicle_id=(route.drone_id if drone else route.volunteer_id) or "", label=label,
                     mode=route.mode, drone=drone, sortie=route.sortie, depart_at=route.depart_at,
                     return_at=route.return_at, distance_m=route.distance_m, stops=stops)


def _unserved_row(entry: dict[str, str], homes: Homes) -> UnservedRow:
    number, code, lon, lat = homes.get(entry["order_id"], _NOBODY)
    return UnservedRow(order_id=entry["order_id"], number=number, resident_code=code,
                       reason=entry.get("reason", ""), detail=entry.get("detail", ""), lon=lon, lat=lat)


def _kpis(routes: tuple[RouteView, ...], unserved: tuple[UnservedRow, ...]) -> Kpis:
    km: dict[str, float] = {}
    for r in routes:
        km[r.mode] = km.get(r.mode, 0.0) + r.distance_m / 1000
    seconds = sum((r.return_at - r.depart_at).total_seconds() for r in routes
                  if not r.drone and r.depart_at is not None and r.return_at is not None)
    return Kpis(
        deliveries=sum(len(r.deliveries) for r in routes), stops=sum(len(r.stops) for r in routes),
        km_by_mode={m: round(v, 1) for m, v in sorted(km.items())}, courier_hours=round(seconds / 3600, 2),
        drone_sorties=sum(1 for r in routes if r.drone), unserved=len(unserved),
    )


# --- route geometry (stored with each version) ----------------------------------------------------

#: Display lines computed here for versions stored without one (cached: versions never change).
_GEOMETRY: OrderedDict[str, tuple[list[list[float]] | None, ...]] = OrderedDict()
_GEOMETRY_LOCK = threading.Lock()
GEOMETRY_CACHE_SIZE = 64


def route_lines(db: Database, plan_id: str) -> tuple[RouteLine, ...]:
    """One :class:`RouteLine` per route of the version, in route order: along the roads for
    couriers, through the detour waypoints around no-fly zones for drones.

    The lines are the ones :func:`dispatch.planning.store.display_paths` stored with the version,
    so a page reads them instead of searching road paths; only a version stored without them has
    them computed here (once, then cached).
    """
    with db.read() as s:
        rows = s.execute(select(Route.volunteer_id, Route.drone_id, Route.sortie, Route.mode, Route.path)
                         .where(Route.plan_id == plan_id).order_by(Route.position)).all()
        labels = _vehicle_labels(s, {r.volunteer_id for r in rows if r.volunteer_id},
                                 {r.drone_id for r in rows if r.drone_id})
    paths: tuple[list[list[float]] | None, ...] = tuple(r.path for r in rows)
    if any(p is None for p in paths):
        paths = _computed_paths(db, plan_id, len(rows))
    lines = []
    for row, path in zip(rows, paths, strict=True):
        vehicle = row.drone_id or row.volunteer_id or ""
        label = labels.get(vehicle, vehicle) + (f" #{row.sortie}" if row.sortie else "")
        lines.append(RouteLine(vehicle=label, mode=row.mode, legs=(path or [],)))
    return tuple(lines)


def _computed_paths(db: Database, plan_id: str, n_routes: int) -> tuple[list[list[float]] | None, ...]:
    """Display lines of a version stored without them (computed from its problem and solution)."""
    with _GEOMETRY_LOCK:
        if plan_id in _GEOMETRY:
            _GEOMETRY.move_to_end(plan_id)
            return _GEOMETRY[plan_id]
    with db.read() as s:
        row = s.execute(select(Plan.problem, Plan.solution, Plan.batch_id).where(Plan.id == plan_id)).first()
    if row is None:
        return (None,) * n_routes
    paths = tuple(display_paths(routing.problem_from_json(row.problem),
                                routing.solution_from_json(row.solution), row.batch_id))
    with _GEOMETRY_LOCK:
        _GEOMETRY[plan_id] = paths
        while len(_GEOMETRY) > GEOMETRY_CACHE_SIZE:
            _GEOMETRY.popitem(last=False)
    return paths


def _vehicle_labels(s: Any, volunteer_ids: set[str], drone_ids: set[str]) -> dict[str, str]:
    """Short, non-personal labels for the map: courier and drone codes."""
    rows = [*s.execute(select(Volunteer.id, Volunteer.code).where(Volunteer.id.in_(volunteer_ids))),
            *s.execute(select(Drone.id, Drone.code).where(Drone.id.in_(drone_ids)))]
    return {vehicle_id: code for vehicle_id, code in rows}


def current_plan_ids(db: Database, hub_ids: Iterable[str] | None, since: dt.datetime) -> list[str]:
    """Plans for the dashboard map: every version waiting for review (whatever its age) and the
    confirmed ones of batches cut off since ``since``."""
    return [r.plan_id for r in plan_rows(db, hub_ids, limit=40)
            if r.plan_id and (r.state == "proposed" or (r.state == "confirmed" and r.cutoff_at >= since))]


def courier_positions(db: Database, hub_ids: Iterable[str] | None, since: dt.datetime) -> list[PointFeature]:
    """Each courier's last shared position since ``since`` (labelled with the courier's code only)."""
    newest = (select(CourierPosition.volunteer_id, func.max(CourierPosition.recorded_at).label("at"))
              .where(CourierPosition.recorded_at >= since).group_by(CourierPosition.volunteer_id).subquery())
    stmt = (select(CourierPosition, Volunteer.code)
            .join(newest, (newest.c.volunteer_id == CourierPosition.volunteer_id)
                  & (newest.c.at == CourierPosition.recorded_at))
            .join(Volunteer, Volunteer.id == CourierPosition.volunteer_id))
    if hub_ids is not None:
        stmt = stmt.where(Volunteer.hub_id.in_(list(hub_ids)))
    with db.read() as s:
        return [PointFeature(p.lon, p.lat, code, "in_transit") for p, code in s.execute(stmt)]
