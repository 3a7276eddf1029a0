"""The operators' dashboard: open orders, the batch timeline per hub, the plans whose routes the
region map draws, and the couriers' last shared positions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dispatch.lifecycle import TERMINAL, BatchState, PlanState
from dispatch.models import (
    Batch,
    CourierPosition,
    Hub,
    Integration,
    Order,
    Plan,
    Region,
    Resident,
    Route,
    Stop,
    Volunteer,
)
from dispatch.read import HubScope, scoped
from dispatch.read.lines import MapLine, plan_lines
from dispatch.read.plans import PlanRow, plan_rows, waiting_for_review
from dispatch.read.region import HubSummary, RegionOverview, ResidentPoint, region_overview
from dispatch.services.batching import cutoff_instants
from dispatch.tasks.stats import SolveQueue, solve_queue


@dataclass(frozen=True)
class OrderRow:
    id: str
    number: int
    state: str
    channel: str
    hub_id: str
    resident_code: str
    items: str
    weight_kg: float
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    created_at: dt.datetime
    lon: float
    lat: float
    integration: str = ""  # the system that placed it through the API (channel "api")
    resident_name: str = ""  # whom the operator calls about the order
    resident_phone: str = ""
    carrier_id: str = ""  # the volunteer or drone of the route it is planned on ("" before)


def order_queue(session: Session, hub_ids: HubScope, limit: int = 200) -> list[OrderRow]:
    """Orders not finished yet (newest first), for the operator's hubs (None = all hubs)."""
    stmt = (select(Order, Resident, Integration.name).join(Resident, Order.resident_id == Resident.id)
            .outerjoin(Integration, Integration.id == Order.integration_id)
            .where(Order.state.not_in(TERMINAL))
            .options(selectinload(Order.items))
            .order_by(Order.created_at.desc()).limit(limit))
    stmt = scoped(stmt, Order.hub_id, hub_ids)
    rows = list(session.execute(stmt))
    carriers = planned_carriers(session, [o.id for o, _r, _i in rows])
    return [
        OrderRow(o.id, o.number, o.state, o.channel, o.hub_id, r.code,
                 "、".join(f"{i.name}×{i.quantity}" for i in o.items), o.weight_kg,
                 o.window_start, o.window_end, o.created_at, r.lon, r.lat, integration or "", r.name,
                 r.phone, carriers.get(o.id, ""))
        for o, r, integration in rows
    ]


def planned_carriers(session: Session, order_ids: list[str]) -> dict[str, str]:
    """Order id -> the volunteer or drone id of the route it is on in a proposed or confirmed plan
    (the search by route of the queue)."""
    if not order_ids:
        return {}
    return {oid: vid or did or "" for oid, vid, did in session.execute(
        select(Stop.order_id, Route.volunteer_id, Route.drone_id).join(Route, Route.id == Stop.route_id)
        .join(Plan, Plan.id == Route.plan_id)
        .where(Stop.order_id.in_(order_ids), Stop.kind == "delivery",
               Plan.state.in_((PlanState.PROPOSED, PlanState.CONFIRMED))))}


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


def batch_timeline(session: Session, hub_ids: HubScope, now: dt.datetime,
                   failed_limit: int = 5) -> list[HubTimeline]:
    """Per hub with cutoffs: next cutoff after ``now``, last batch (state, solve time), and the
    batches still ``failed`` (newest first): they need attention until retried, whatever their age."""
    stmt = scoped(select(Hub, Region.timezone).join(Region, Hub.region_id == Region.id)
                  .order_by(Hub.code), Hub.id, hub_ids)
    hubs = [(h.id, h.name, list(h.cutoffs), tz) for h, tz in session.execute(stmt) if h.cutoffs]
    out = []
    for hub_id, name, cutoffs, tz in hubs:
        nexts = cutoff_instants(cutoffs, ZoneInfo(tz), now, now + dt.timedelta(days=2))
        last = session.scalars(select(Batch).where(Batch.hub_id == hub_id)
                               .order_by(Batch.cutoff_at.desc()).limit(1)).first()
        failed = tuple((b.cutoff_at, b.reason) for b in session.scalars(
            select(Batch).where(Batch.hub_id == hub_id, Batch.state == BatchState.FAILED)
            .order_by(Batch.cutoff_at.desc()).limit(failed_limit)))
        out.append(HubTimeline(
            hub_id=hub_id, hub_name=name, next_cutoff=nexts[0] if nexts else None,
            last_cutoff=last.cutoff_at if last else None, last_state=last.state if last else None,
            last_solved_at=last.solved_at if last else None,
            last_solve_seconds=last.solve_seconds if last else None, failed=failed))
    return out



def current_plan_ids(session: Session, hub_ids: HubScope, since: dt.datetime) -> list[str]:
    """Plans for the dashboard map: every version waiting for review (whatever its age) and the
    confirmed ones of batches cut off since ``since``."""
    return [r.plan_id for r in plan_rows(session, hub_ids, limit=40)
            if r.plan_id and (r.state == PlanState.PROPOSED
                              or (r.state == PlanState.CONFIRMED and r.cutoff_at >= since))]


@dataclass(frozen=True)
class CourierPoint:
    """A courier's last shared position, labelled with the courier's code only (no name)."""

    code: str
    lon: float
    lat: float


def courier_positions(session: Session, hub_ids: HubScope, since: dt.datetime) -> list[CourierPoint]:
    """Each courier's last shared position since ``since``."""
    newest = (select(CourierPosition.volunteer_id, func.max(CourierPosition.recorded_at).label("at"))
              .where(CourierPosition.recorded_at >= since).group_by(CourierPosition.volunteer_id).subquery())
    stmt = (select(CourierPosition, Volunteer.code)
            .join(newest, (newest.c.volunteer_id == CourierPosition.volunteer_id)
                  & (newest.c.at == CourierPosition.recorded_at))
            .join(Volunteer, Volunteer.id == CourierPosition.volunteer_id))
    stmt = scoped(stmt, Volunteer.hub_id, hub_ids)
    return [CourierPoint(code, p.lon, p.lat) for p, code in session.execute(stmt)]


#: How far back the dashboard map looks for plans (routes) and courier positions.
PLANS_SINCE = dt.timedelta(hours=18)
POSITIONS_SINCE = dt.timedelta(hours=2)


@dataclass(frozen=True)
class Dashboard:
    """Everything the operators' dashboard shows of the hubs in scope."""

    overview: RegionOverview
    hubs: tuple[HubSummary, ...]  # the overview's hubs in scope (the map shows every hub)
    residents: tuple[ResidentPoint, ...]  # the overview's residents in scope
    orders: list[OrderRow]
    lines: tuple[MapLine, ...]  # routes of the plans waiting for review and of today's confirmed ones
    couriers: list[CourierPoint]
    waiting: list[PlanRow]
    timeline: list[HubTimeline]
    solve_queue: SolveQueue  # the batches of the hubs in scope waiting, solving, failed


def regions_in_scope(session: Session, hub_ids: HubScope) -> list[tuple[str, str]]:
    """(code, name) of the regions with a hub in scope, by code: the municipalities a user may
    switch between when several share the deployment."""
    stmt = scoped(select(Region.code, Region.name).join(Hub, Hub.region_id == Region.id), Hub.id, hub_ids)
    return [(code, name) for code, name in session.execute(stmt.distinct().order_by(Region.code))]


def region_hub_scope(session: Session, hub_ids: HubScope, region_code: str | None) -> HubScope:
    """``hub_ids`` limited to the hubs of region ``region_code`` (unchanged when none is named):
    a page showing one municipality polls for that one only."""
    if not region_code:
        return hub_ids
    in_region = set(session.scalars(select(Hub.id).join(Region, Region.id == Hub.region_id)
                                    .where(Region.code == region_code)))
    return in_region if hub_ids is None else set(hub_ids) & in_region


def dashboard(session: Session, hub_ids: HubScope, now: dt.datetime,
              region_code: str | None = None) -> Dashboard | None:
    """The dashboard of one region at ``now`` (``region_code``, else the first region in scope),
    limited to that region's hubs; None when no region is loaded yet (or none is in scope)."""
    codes = [code for code, _name in regions_in_scope(session, hub_ids)]
    if not codes:
        return None
    overview = region_overview(session, now, region_code if region_code in codes else codes[0])
    if overview is None:
        return None
    in_region = {h.id for h in overview.hubs}
    hub_ids = in_region if hub_ids is None else set(hub_ids) & in_region
    lines = tuple(line for plan_id in current_plan_ids(session, hub_ids, now - PLANS_SINCE)
                  for line in plan_lines(session, plan_id))
    return Dashboard(
        overview=overview,
        hubs=tuple(h for h in overview.hubs if hub_ids is None or h.id in hub_ids),
        residents=tuple(r for r in overview.residents if hub_ids is None or r.hub_id in hub_ids),
        orders=order_queue(session, hub_ids), lines=lines,
        couriers=courier_positions(session, hub_ids, now - POSITIONS_SINCE),
        waiting=waiting_for_review(session, hub_ids), timeline=batch_timeline(session, hub_ids, now),
        solve_queue=solve_queue(session, hub_ids, now))
