"""Database rows -> ``routing.Problem`` for one batch (issue 5, item 5).

Routing ids are database ids (order, volunteer, drone, hub, zone and road ids), so a solution maps
back to rows without a lookup table. Times are integer seconds since ``t0`` = the batch's cutoff.

The planning horizon is the delivery day of the batch (the cutoff's local date in the region's
timezone), from ``max(cutoff, hub opens)`` to ``hub closes``. Everything is clipped to it:
volunteers' shifts (local clock times on that day), drones' availability and order windows. An order
whose window does not meet the horizon (a wish for tomorrow, say) cannot enter the problem; it is
reported unserved (``time_window``) and goes back to the queue for a later batch.

Zones: ``PROHIBITED``, ``REQ_AUTHORIZATION`` and ``CONDITIONAL`` are all no-fly for planning, but
the last two carry their 特定飛行 category and the problem carries the hub's permits
(:mod:`dispatch.permits`): routing lets the drones through a zone that a valid permit covers for
each of them (and its validator checks each sortie against the permits); ``NO_RESTRICTION`` is
ignored. A zone counts when it is active at any moment of the horizon
(:func:`dispatch.zones.zone_active_during`). ``Built.notes`` says, for the plan, which permit each
drone flies a zone under or why the zone stays no-fly (an expired permit, say).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import shapely.geometry
from sqlalchemy import select
from sqlalchemy.orm import Session

import routing
from dispatch.lifecycle import OrderState
from dispatch.models import Batch, Drone, Hub, Order, Region, Resident, Road, Volunteer, Zone
from dispatch.permits import flight_notes, routing_permits, zone_category
from dispatch.phrases import Phrase
from dispatch.weather.readings import local_hhmm, no_go
from dispatch.zones import zone_active_during

#: Zone types treated as no-fly while planning (see the module docstring).
NO_FLY_TYPES = frozenset({"PROHIBITED", "REQ_AUTHORIZATION", "CONDITIONAL"})
#: Sorties offered to the solver per drone and batch (bounded: each sortie is a model vehicle).
MAX_SORTIES = 8
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: States of a batch's orders that a (re-)plan covers; ``confirmed`` ones went back to the queue.
PLANNABLE_STATES = (OrderState.BATCHED.value, OrderState.PLANNED.value)

_ORDER_REF = re.compile(r"order '([^']+)'")


@dataclass(frozen=True)
class Horizon:
    """The planning window of a batch: aware instants and the region's timezone."""

    t0: dt.datetime
    start: dt.datetime
    end: dt.datetime
    tz: ZoneInfo

    def seconds(self, at: dt.datetime) -> int:
        """Whole seconds from ``t0`` to ``at`` (rounded down)."""
        return int((at - self.t0).total_seconds() // 1)


@dataclass
class Built:
    """A problem plus the orders that could not enter it (``[{order_id, reason, detail}]``)."""

    problem: routing.Problem
    excluded: list[dict[str, str]] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # stored phrases about flying (permits, weather)
    weather: set[str] = field(default_factory=set)  # orders kept off the drones by the weather


def horizon_of(batch: Batch, hub: Hub, region: Region) -> Horizon:
    """The delivery day's window after the cutoff (may be empty when the cutoff is after closing)."""
    tz = ZoneInfo(region.timezone)
    local = batch.cutoff_at.astimezone(tz)
    opens = dt.datetime.combine(local.date(), hub.opens, tz)
    closes = dt.datetime.combine(local.date(), hub.closes, tz)
    start = max(batch.cutoff_at, opens)
    return Horizon(t0=batch.cutoff_at, start=start, end=max(closes, start), tz=tz)


def batch_orders(session: Session, batch_id: str) -> list[Order]:
    """The orders a plan of the batch covers, in order number order."""
    return list(session.scalars(
        select(Order).where(Order.batch_id == batch_id, Order.state.in_(PLANNABLE_STATES))
        .order_by(Order.number)
    ))


def build_problem(session: Session, batch: Batch, orders: list[Order] | None = None,
                  force_ground: frozenset[str] = frozenset()) -> Built:
    """Build the routing problem of ``batch``; orders that cannot enter it are in ``excluded``.

    ``force_ground`` names orders to plan without drones in addition to ``order.force_ground``.
    """
    hub = session.get(Hub, batch.hub_id)
    assert hub is not None
    region = session.get(Region, hub.region_id)
    assert region is not None
    hz = horizon_of(batch, hub, region)
    orders = batch_orders(session, batch.id) if orders is None else orders
    excluded: list[dict[str, str]] = []
    routing_orders: list[routing.Order] = []
    supply: dict[str, routing.Place] = {}
    for order in orders:
        item = _order(session, order, hub, hz, force_ground)
        if isinstance(item, dict):
            excluded.append(item)
            continue
        routing_orders.append(item)
        if order.origin_hub_id and order.origin_hub_id != hub.id:
            origin = session.get(Hub, order.origin_hub_id)
            assert origin is not None
            supply[origin.id] = routing.Place(origin.id, origin.lon, origin.lat)
    drones, weather_notes = _drones(session, hub, hz, len(routing_orders))
    routing_orders, grounded = _weather_ground(routing_orders, drones, orders, hz)
    parts: dict[str, Any] = {
        "crs": region.crs, "timezone": region.timezone, "t0": hz.t0,
        "hub": routing.Place(hub.id, hub.lon, hub.lat),
        "vehicles": _with_called_out(_vehicles(session, hub, hz), session, batch, hub, hz),
        "drones": drones,
        "orders": routing_orders, "supply_points": tuple(supply.values()),
        "zones": _zones(session, region.id, hz), "roads": _roads(session, region.id),
        "permits": routing_permits(session, hub, hz.t0, hz.tz) if drones else [],
        "name": f"batch {batch.id} hub {hub.code}",
    }
    built = _construct(parts, excluded)
    if built.problem.drones:
        zone_rows = [session.get_one(Zone, z.id) for z in built.problem.zones]
        drone_rows = [session.get_one(Drone, d.id) for d in built.problem.drones]
        built.notes = flight_notes(session, hub, zone_rows, drone_rows, hz.start, hz.end, hz.tz)
    built.notes += [*weather_notes, *grounded.values()]
    built.weather = set(grounded)
    return built


def _construct(parts: dict[str, Any], excluded: list[dict[str, str]]) -> Built:
    """Make the Problem; orders named by a ProblemError are excluded one round at a time.

    When the only complaint is a no-fly zone over the hub, the drones are grounded (planned without
    drones and zones): the zone stops the drones, not the couriers.
    """
    for _ in range(len(parts["orders"]) + 2):
        try:
            problem = routing.Problem(**parts)
        except routing.ProblemError as error:
            bad = named_orders(error.problems)
            if bad:
                excluded += [{"order_id": oid, "reason": "invalid", "detail": msg}
                             for oid, msg in bad.items()]
                parts = {**parts, "orders": [o for o in parts["orders"] if o.id not in bad]}
                continue
            if parts["zones"] and all("no-fly zone" in p for p in error.problems):
                parts = {**parts, "drones": (), "zones": ()}  # zones only matter to drones
                continue
            raise
        return Built(problem, excluded, [o.id for o in problem.orders])
    raise AssertionError("unreachable: every round removes an order or the drones")


def named_orders(problems: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for message in problems:
        match = _ORDER_REF.match(message)
        if match:
            out.setdefault(match.group(1), message)
    return out


def without_orders(built: Built, bad: dict[str, str], reason: str = "invalid") -> Built:
    """The same problem without the orders in ``bad`` (id -> message), which become excluded."""
    problem = replace(built.problem, orders=tuple(o for o in built.problem.orders if o.id not in bad))
    excluded = [*built.excluded, *({"order_id": k, "reason": reason, "detail": v} for k, v in bad.items())]
    return Built(problem, excluded, [o.id for o in problem.orders])


def _order(session: Session, order: Order, hub: Hub, hz: Horizon,
           force_ground: frozenset[str]) -> routing.Order | dict[str, str]:
    resident = session.get(Resident, order.resident_id)
    assert resident is not None
    start = max(order.window_start or hz.start, hz.start)
    end = min(order.window_end or hz.end, hz.end)
    if end <= start:
        outside = Phrase("its window (from %(wanted)s) is outside this batch's delivery day "
                         "(%(start)s–%(end)s)",
                         {"wanted": order.window_start or hz.start, "start": hz.start, "end": hz.end})
        return {"order_id": order.id, "reason": "time_window", "detail": outside.stored()}
    drop = None
    if resident.drop_lon is not None and resident.drop_lat is not None:
        drop = (resident.drop_lon, resident.drop_lat)
    # A medicine or welfare-visit order is handed over by a trained courier, never by a drone.
    needs = frozenset({order.needs_training}) if order.needs_training else frozenset()
    ground = order.force_ground or order.id in force_ground or bool(needs)
    return routing.Order(
        id=order.id, weight_kg=order.weight_kg, parcels=max(order.parcels, 1),
        home=(resident.lon, resident.lat), window=(hz.seconds(start), hz.seconds(end)),
        origin=order.origin_hub_id or hub.id, priority=order.priority, drop=drop,
        modes=frozenset(routing.GROUND_MODES) if ground else frozenset(routing.ALL_MODES), needs=needs,
    )


def _vehicles(session: Session, hub: Hub, hz: Horizon) -> list[routing.Vehicle]:
    """Active volunteers of the hub working on the delivery day, their shift clipped to the horizon."""
    day = hz.start.astimezone(hz.tz).date()
    weekday = WEEKDAYS[day.weekday()]
    out = []
    rows = session.scalars(select(Volunteer).where(Volunteer.hub_id == hub.id, Volunteer.active.is_(True))
                           .order_by(Volunteer.code))
    for v in rows:
        if weekday not in [str(d).lower()[:3] for d in (v.days or [])]:
            continue
        begin = max(dt.datetime.combine(day, v.shift_start, hz.tz), hz.start)
        finish = min(dt.datetime.combine(day, v.shift_end, hz.tz), hz.end)
        if v.off_until is not None:
            begin = max(begin, v.off_until.astimezone(hz.tz))
        if finish <= begin:
            continue
        out.append(_vehicle(v, hub, hz, begin, finish))
    return out


def _vehicle(v: Volunteer, hub: Hub, hz: Horizon, begin: dt.datetime, finish: dt.datetime) -> routing.Vehicle:
    return routing.Vehicle(
        id=v.id, mode=v.mode, capacity_kg=v.capacity_kg, max_parcels=v.max_parcels,
        shift_start=hz.seconds(begin), shift_end=hz.seconds(finish), start=hub.id, end=hub.id,
        skills=frozenset(str(t) for t in (v.training or ())),
    )


def _with_called_out(out: list[routing.Vehicle], session: Session, batch: Batch, hub: Hub,
                     hz: Horizon) -> list[routing.Vehicle]:
    """``out`` plus the volunteers who accepted a call-out for this batch, for the range they
    declared (:mod:`dispatch.services.callouts`); someone also on shift is planned once."""
    from dispatch.services.callouts import joined

    on_shift = {v.id for v in out}
    for callout in joined(session, batch.id):
        v = callout.volunteer
        begin, finish = max(callout.shift_start, hz.start), min(callout.shift_end, hz.end)
        if v.active and finish > begin and v.id not in on_shift:
            # Already woken and on their way: no fixed cost, so the plan uses whom it called.
            out.append(replace(_vehicle(v, hub, hz, begin, finish), fixed_cost=0))
    return out


def _drones(session: Session, hub: Hub, hz: Horizon, n_orders: int) -> tuple[list[routing.Drone], list[str]]:
    """The hub's available drones (none when the hub has no port or is on weather hold), each
    available in the first stretch of the horizon that the weather allows it
    (:func:`dispatch.weather.readings.no_go`), and a note per period it stays on the ground."""
    if not hub.drone_port or hub.weather_hold or hz.end <= hz.start or n_orders == 0:
        return [], []
    rows = session.scalars(select(Drone).where(Drone.hub_id == hub.id, Drone.status == "available")
                           .order_by(Drone.code))
    out, notes = [], []
    for d in rows:
        begin, finish = hz.start, hz.end
        for period in no_go(session, d, hz.start, hz.end):
            notes.append(Phrase(
                "drone %(drone)s stays on the ground %(start)s–%(end)s: %(what)s %(value)s beyond its limit "
                "%(limit)s", {"drone": d.code, "start": local_hhmm(period.start, hz.tz),
                              "end": local_hhmm(period.end, hz.tz), "what": period.quantity,
                              "value": f"{period.value:g}", "limit": f"{period.limit:g}"}).stored())
            if period.start <= begin:
                begin = max(begin, period.end)
            elif period.start < finish:
                finish = period.start
        if finish <= begin:
            continue
        out.append(routing.Drone(
            id=d.id, base=hub.id, payload_kg=d.payload_kg, range_m=d.range_km * 1000,
            cruise_mps=d.cruise_kmh / 3.6, turnaround_s=round(d.turnaround_min * 60),
            max_sorties=min(MAX_SORTIES, n_orders), available_from=hz.seconds(begin),
            available_until=hz.seconds(finish),
        ))
    return out, notes


def _weather_ground(routing_orders: list[routing.Order], drones: list[routing.Drone], rows: list[Order],
                    hz: Horizon) -> tuple[list[routing.Order], dict[str, str]]:
    """Orders a drone could carry whose window lies wholly where no drone may fly for the weather
    go by road: (the orders, {order id: the plan's note})."""
    if not drones or not any(d.available_from > hz.seconds(hz.start) or
                             (d.available_until or 0) < hz.seconds(hz.end) for d in drones):
        return routing_orders, {}
    numbers = {o.id: o.number for o in rows}
    out, grounded = [], {}
    for o in routing_orders:
        flyable = routing.DRONE in o.modes and o.drop is not None
        if flyable and not any(o.window[0] < (d.available_until or 0) and d.available_from < o.window[1]
                               for d in drones):
            o = replace(o, modes=frozenset(routing.GROUND_MODES))
            grounded[o.id] = Phrase("order #%(number)s goes by road: the weather keeps the drones down "
                                    "in its window", {"number": numbers.get(o.id)}).stored()
        out.append(o)
    return out, grounded


def _zones(session: Session, region_id: str, hz: Horizon) -> list[routing.Zone]:
    return active_zones(session, region_id, hz.start, hz.end)


def active_zones(session: Session, region_id: str, start: dt.datetime,
                 end: dt.datetime) -> list[routing.Zone]:
    """The region's no-fly zones active at any moment between ``start`` and ``end``."""
    rows = session.scalars(select(Zone).where(Zone.region_id == region_id).order_by(Zone.identifier))
    return [
        routing.Zone(id=z.id, geometry=shapely.geometry.shape(z.geometry), buffer_m=z.buffer_m or 0.0,
                     category=zone_category(z))
        for z in rows
        if z.type in NO_FLY_TYPES and zone_active_during(z.applicability or [], z.active_override, start, end)
    ]


def _roads(session: Session, region_id: str) -> list[routing.Road]:
    rows = session.scalars(select(Road).where(Road.region_id == region_id).order_by(Road.code))
    return [
        routing.Road(id=r.id, kind=r.kind, coords=tuple((float(x), float(y)) for x, y in r.coords),
                     maxspeed_kmh=r.maxspeed_kmh, oneway=r.oneway, car=r.car)
        for r in rows
    ]
