"""One read of the database → plain facts about a date range (orders, routes, residents).

KPIs, the replay, scenarios and the study pack all start from :class:`Facts`, so they agree on
what an order's day is, which plan counts and when a parcel was delivered:

- an order belongs to the **local day of its creation** (region timezone);
- a route belongs to the local day of its **batch's cutoff**;
- the plan that counts for a batch is its **confirmed** version (what was dispatched), or, for a
  re-planned scenario copy where nothing is confirmed, its **latest** version (``plans="latest"``);
- an order is **delivered** at its last hand-over to the resident (``courier_to_resident``,
  ``drone_to_resident``, or, with consent, to a neighbour or the community hall). On a planned-only
  basis (scenarios) "delivered" means "served by the plan" and the time is the planned ETA.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.lifecycle import OrderState, PlanState, RouteState
from dispatch.models import Batch, HandoffEvent, Hub, Order, Plan, Region, Resident, Route
from dispatch.services.plans import eta_window

#: Hand-overs that complete a delivery.
DELIVERY_KINDS = frozenset({"courier_to_resident", "drone_to_resident", "courier_to_neighbour",
                            "courier_to_hall", "bus_to_resident"})
#: Plan selection: what was dispatched, or the newest version (scratch copies of scenarios).
PLAN_CHOICES = ("confirmed", "latest")


@dataclass(frozen=True)
class HubFact:
    id: str
    code: str
    name: str
    kind: str  # hub | supply
    lon: float
    lat: float


@dataclass(frozen=True)
class ResidentFact:
    id: str
    hub_id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class OrderFact:
    """One order of the range. ``delivered_at`` is None unless delivered; ``eta_window`` is the
    window told to the resident (from the counted plan's stop), None when never planned."""

    id: str
    number: int
    hub_id: str
    resident_id: str
    day: dt.date
    created_at: dt.datetime
    state: str
    channel: str
    parcels: int
    weight_kg: float
    delivered_at: dt.datetime | None = None
    delivered_by: str | None = None  # volunteer | drone | bus
    eta: dt.datetime | None = None
    eta_window: tuple[dt.datetime, dt.datetime] | None = None
    unserved_reason: str | None = None  # for orders neither delivered nor cancelled


@dataclass(frozen=True)
class RouteFact:
    """One courier route or drone sortie of a counted plan."""

    id: str
    plan_id: str
    batch_id: str
    hub_id: str
    day: dt.date
    mode: str
    vehicle_id: str  # volunteer or drone id
    sortie: int | None
    depart_at: dt.datetime | None
    return_at: dt.datetime | None
    distance_m: float
    deliveries: int

    @property
    def hours(self) -> float:
        if self.depart_at is None or self.return_at is None:
            return 0.0
        return max((self.return_at - self.depart_at).total_seconds(), 0.0) / 3600


@dataclass
class Facts:
    """What KPIs and exports read. ``basis`` is ``recorded`` (deliveries from handoff events) or
    ``planned`` (deliveries = served by the latest plan; a scenario copy)."""

    region_code: str
    region_name: str
    crs: str
    tz: ZoneInfo
    start: dt.date
    end: dt.date
    basis: str
    hubs: dict[str, HubFact]
    residents: dict[str, ResidentFact]
    orders: list[OrderFact] = field(default_factory=list)
    routes: list[RouteFact] = field(default_factory=list)
    plan_ids: list[str] = field(default_factory=list)
    locale: str = "ja_JP"  # the region's (the study pack speaks its language by default)

    def days(self) -> list[dt.date]:
        n = (self.end - self.start).days
        return [self.start + dt.timedelta(days=k) for k in range(n + 1)]

    def hub_by_code(self, code: str) -> HubFact:
        for hub in self.hubs.values():
            if hub.code == code:
                return hub
        raise NotFound(f"hub {code!r} is not in region {self.region_code}")


def local_bounds(tz: ZoneInfo, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) local, as aware datetimes."""
    return (dt.datetime.combine(start, dt.time(0), tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz))


def region_of(session: Session, region_code: str | None) -> Region:
    """The named region, or the only one; a clear error otherwise."""
    if region_code:
        region = session.scalars(select(Region).where(Region.code == region_code)).one_or_none()
        if region is None:
            raise NotFound(f"region {region_code!r} is not loaded")
        return region
    regions = list(session.scalars(select(Region).order_by(Region.code)))
    if not regions:
        raise NotFound("no region is loaded (hakobu region load PATH)")
    if len(regions) > 1:
        raise NotFound(f"several regions are loaded ({', '.join(r.code for r in regions)}): name one")
    return regions[0]


def load_facts(db: Database, start: dt.date, end: dt.date, *, region_code: str | None = None,
               hub_codes: list[str] | None = None, plans: str = "confirmed") -> Facts:
    """Facts of ``start..end`` (local dates, inclusive), for some hubs (codes) or all."""
    if plans not in PLAN_CHOICES:
        raise ValueError(f"plans must be one of {PLAN_CHOICES}, got {plans!r}")
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    with db.read() as s:
        region = region_of(s, region_code)
        tz = ZoneInfo(region.timezone)
        all_hubs = {h.id: HubFact(h.id, h.code, h.name, h.kind, h.lon, h.lat)
                    for h in s.scalars(select(Hub).where(Hub.region_id == region.id).order_by(Hub.code))}
        if hub_codes:
            unknown = sorted(set(hub_codes) - {h.code for h in all_hubs.values()})
            if unknown:
                raise NotFound(f"hub(s) {', '.join(unknown)} not in region {region.code}")
            wanted = {h.id for h in all_hubs.values() if h.code in hub_codes}
        else:
            wanted = set(all_hubs)
        residents = {r.id: ResidentFact(r.id, r.hub_id, r.lon, r.lat) for r in s.scalars(
            select(Resident).where(Resident.region_id == region.id, Resident.active.is_(True),
                                   Resident.hub_id.in_(wanted)))}
        lo, hi = local_bounds(tz, start, end)
        counted = _counted_plans(s, wanted, lo, hi, plans)
        routes, stop_eta, unserved = _routes(s, counted, tz)
        orders = list(s.scalars(select(Order).where(
            Order.region_id == region.id, Order.hub_id.in_(wanted), Order.created_at >= lo,
            Order.created_at < hi).order_by(Order.number)))
        deliveries = _deliveries(s, [o.id for o in orders])
    basis = "recorded" if plans == "confirmed" else "planned"
    facts = []
    for o in orders:
        eta, carrier = stop_eta.get(o.id, (None, None))
        window = eta_window(eta, tz) if eta is not None else None
        if basis == "recorded":
            at, by = deliveries.get(o.id, (None, None))
            done = o.state == OrderState.DELIVERED and at is not None
        else:
            at, by = eta, carrier
            done = eta is not None
        reason = None
        if not done and o.state != OrderState.CANCELLED:
            came_back = o.state in (OrderState.FAILED, OrderState.RETURNED)
            reason = unserved.get(o.id) or (str(o.state) if came_back else "not planned")
            if basis == "recorded" and reason == "not planned" and eta is not None:
                reason = "not delivered"
        facts.append(OrderFact(
            id=o.id, number=o.number, hub_id=o.hub_id, resident_id=o.resident_id,
            day=o.created_at.astimezone(tz).date(), created_at=o.created_at, state=o.state,
            channel=o.channel, parcels=max(o.parcels, 1), weight_kg=o.weight_kg,
            delivered_at=at if done else None, delivered_by=by if done else None, eta=eta,
            eta_window=window, unserved_reason=reason,
        ))
    return Facts(region_code=region.code, region_name=region.name, crs=region.crs, tz=tz, start=start,
                 end=end, basis=basis, hubs={k: v for k, v in all_hubs.items()}, residents=residents,
                 orders=facts, routes=routes, plan_ids=[p.id for p in counted], locale=region.locale)


def _counted_plans(s: Session, hub_ids: set[str], lo: dt.datetime, hi: dt.datetime,
                   plans: str) -> list[Plan]:
    """The plan that counts for each batch of the hubs with a cutoff in [lo, hi), by cutoff."""
    batches = list(s.scalars(select(Batch).where(Batch.hub_id.in_(hub_ids), Batch.cutoff_at >= lo,
                                                 Batch.cutoff_at < hi).order_by(Batch.cutoff_at)))
    out = []
    for batch in batches:
        # Not the problem and solution: the facts need neither, and they are most of a row to decode.
        query = (select(Plan).options(defer(Plan.problem), defer(Plan.solution))
                 .where(Plan.batch_id == batch.id))
        if plans == "confirmed":
            query = query.where(Plan.state == PlanState.CONFIRMED)
        else:
            newest = s.scalar(select(func.max(Plan.version)).where(Plan.batch_id == batch.id))
            query = query.where(Plan.version == newest)
        plan = s.scalars(query.order_by(Plan.version.desc())).first()
        if plan is not None:
            out.append(plan)
    return out


def _routes(s: Session, plans: list[Plan], tz: ZoneInfo
            ) -> tuple[list[RouteFact], dict[str, tuple[dt.datetime, str]], dict[str, str]]:
    """Route facts, the ETA and carrier of each served order (later plans win), unserved reasons."""
    routes: list[RouteFact] = []
    eta: dict[str, tuple[dt.datetime, str]] = {}
    unserved: dict[str, str] = {}
    for plan in plans:
        batch = s.get(Batch, plan.batch_id)
        assert batch is not None
        day = batch.cutoff_at.astimezone(tz).date()
        for entry in plan.unserved:
            unserved[entry["order_id"]] = entry.get("reason") or "unserved"
        for r in s.scalars(select(Route).where(Route.plan_id == plan.id).order_by(Route.position)):
            if r.state == RouteState.CANCELLED:
                continue
            served = [st for st in r.stops if st.kind == "delivery"]
            for st in served:
                if st.eta is not None:
                    eta[st.order_id] = (st.eta, "drone" if r.mode == "drone" else "volunteer")
                unserved.pop(st.order_id, None)
            routes.append(RouteFact(
                id=r.id, plan_id=plan.id, batch_id=batch.id, hub_id=batch.hub_id, day=day, mode=r.mode,
                vehicle_id=r.drone_id or r.volunteer_id or "", sortie=r.sortie, depart_at=r.depart_at,
                return_at=r.return_at, distance_m=r.distance_m, deliveries=len(served),
            ))
    return routes, eta, unserved


def _deliveries(s: Session, order_ids: list[str]) -> dict[str, tuple[dt.datetime, str]]:
    """The last delivering hand-over of each order: (time, "volunteer" | "drone" | "bus")."""
    out: dict[str, tuple[dt.datetime, str]] = {}
    by_order: dict[str, list[HandoffEvent]] = defaultdict(list)
    for chunk in range(0, len(order_ids), 500):
        ids = order_ids[chunk:chunk + 500]
        for e in s.scalars(select(HandoffEvent).where(HandoffEvent.order_id.in_(ids),
                                                      HandoffEvent.kind.in_(DELIVERY_KINDS))
                           .order_by(HandoffEvent.seq)):
            by_order[e.order_id].append(e)
    for order_id, events in by_order.items():
        last = events[-1]
        out[order_id] = (last.occurred_at, last.from_party.split(":", 1)[0])
    return out


def recent_days(db: Database, *, region_code: str | None = None, limit: int = 8,
                scan: int = 5000) -> list[tuple[dt.date, int]]:
    """The latest local days with orders (newest first) and their order counts, from the newest
    ``scan`` orders: what a planner picks a day from. Empty when no region is loaded."""
    with db.read() as s:
        try:
            region = region_of(s, region_code)
        except NotFound:
            return []
        tz = ZoneInfo(region.timezone)
        created = s.scalars(select(Order.created_at).where(Order.region_id == region.id)
                            .order_by(Order.created_at.desc()).limit(scan))
        counts: dict[dt.date, int] = defaultdict(int)
        for at in created:
            counts[at.astimezone(tz).date()] += 1
    return sorted(counts.items(), reverse=True)[:limit]
