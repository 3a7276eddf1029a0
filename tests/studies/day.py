"""A small recorded day on the tiny region, made through the real services (no mocks).

Orders are placed at 09:00 (Monday 2 March 2026, Asia/Tokyo), the 10:00 batch is closed, planned
with a deterministic solve and confirmed; then every route is "driven": hub → courier (or drone)
hand-over, the lifecycle's dispatched → in_transit, and delivery at the door by the resident's PIN
(couriers, :func:`check_pin`) or a drone drop (``drone_to_resident``), each ``delay`` minutes after
its planned ETA. Courier positions are recorded at the hub and at each stop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.lifecycle import OrderState, transition
from dispatch.models import CourierPosition, Hub, Order, Plan, Resident, Route
from dispatch.planning import plan_batch
from dispatch.requests import ItemRequest
from dispatch.services.batching import close_batch
from dispatch.services.handoffs import append_event, record_handoff
from dispatch.services.ordering import cancel_order, place_order
from dispatch.services.pins import check_pin
from dispatch.services.plans import confirm_plan, pin_for_notification
from tests.dispatch.factories import advance
from tests.dispatch.test_planning import CUTOFF, FAST, MONDAY, TOKYO

SETTINGS = Settings(secret_key="test-pepper", public_url="https://hakobu.example")
PLACED = CUTOFF - dt.timedelta(hours=1)  # 09:00 local
DAY = MONDAY


@dataclass
class Day:
    batch_id: str
    plan_id: str
    orders: dict[str, str]  # resident code -> order id (the served ones)
    cancelled: str
    delivered_at: dict[str, dt.datetime] = field(default_factory=dict)
    etas: dict[str, dt.datetime] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)


def two_more_drones(name: str, *, time_limit_s: int, solution_limit: int) -> str:
    """A scenario file (TOML) on the recorded day: hub H1 with two more drones, solved with the
    given limits (a fixed solution limit keeps runs comparable)."""
    return f"""
name = "{name}"
[base]
date = {DAY.isoformat()}
hub = "H1"
[solve]
time_limit_s = {time_limit_s}
solution_limit = {solution_limit}
[[drones.add]]
hub = "H1"
count = 2
"""


def resident_id(db: Database, code: str) -> str:
    with db.read() as s:
        return s.scalars(select(Resident.id).where(Resident.code == code)).one()


def record_day(db: Database, delays: dict[str, int] | None = None,
               codes: tuple[str, ...] = ("R1", "R2", "R3", "R4")) -> Day:
    """Record the day; ``delays`` gives minutes after the ETA per resident code (default 0)."""
    delays = delays or {}
    ids = {c: place_order(db, resident_id(db, c), [ItemRequest("パン", 1)], channel="web", now=PLACED).id
           for c in codes}
    extra = place_order(db, resident_id(db, codes[0]), [ItemRequest("卵", 1)], channel="web",
                        now=PLACED + dt.timedelta(minutes=5)).id
    assert cancel_order(db, extra, "changed my mind", SETTINGS, now=PLACED + dt.timedelta(minutes=10))
    with db.read() as s:
        hub = s.scalars(select(Hub)).one()
    batch = close_batch(db, hub.id, CUTOFF, now=CUTOFF)
    plan_id = plan_batch(db, batch.batch_id, **FAST)
    confirm_plan(db, plan_id, None, CUTOFF + dt.timedelta(minutes=5), SETTINGS)
    day = Day(batch.batch_id, plan_id, ids, extra)
    code_of = {v: k for k, v in ids.items()}
    with db.read() as s:
        routes = list(s.scalars(select(Route).where(Route.plan_id == plan_id).order_by(Route.position)))
        plan_routes = [(r.id, r.mode, r.volunteer_id, r.drone_id, r.depart_at,
                        [(st.order_id, st.kind, st.eta, st.lon, st.lat) for st in r.stops]) for r in routes]
    for route_id, mode, volunteer, drone, depart, stops in plan_routes:
        carrier = f"volunteer:{volunteer}" if volunteer else f"drone:{drone}"
        if volunteer:
            record_position(db, volunteer, route_id, hub.lon, hub.lat, depart)
        for order_id, kind, eta, lon, lat in stops:
            if kind != "delivery":
                continue
            kind_out = "hub_to_courier" if volunteer else "hub_to_drone"
            record_handoff(db, order_id, kind_out, f"hub:{hub.id}", carrier, "system:fixture",
                           "operator_confirm", depart, lon=hub.lon, lat=hub.lat)
            advance(db, order_id, OrderState.DISPATCHED, OrderState.IN_TRANSIT)
            at = eta + dt.timedelta(minutes=delays.get(code_of[order_id], 0))
            if volunteer:
                record_position(db, volunteer, route_id, lon, lat, at)
                pin = pin_for_notification(db, order_id)
                with db.write() as s:
                    result = check_pin(s, order_id, pin, carrier, at=at, lon=lon, lat=lat)
                assert result.ok
            else:
                with db.write() as s:
                    order = s.get(Order, order_id)
                    assert order is not None
                    transition(order, OrderState.DELIVERED)
                    append_event(s, order_id, "drone_to_resident", carrier, f"resident:{order.resident_id}",
                                 "system:fixture", "drone_log", at, lon=lon, lat=lat)
            day.delivered_at[order_id], day.etas[order_id], day.modes[order_id] = at, eta, mode
    return day


def record_position(db: Database, volunteer: str, route_id: str, lon: float, lat: float,
                    at: dt.datetime | None) -> None:
    with db.write() as s:
        s.add(CourierPosition(volunteer_id=volunteer, route_id=route_id, lon=lon, lat=lat, accuracy_m=10,
                              recorded_at=at))


def confirmed_plan(db: Database, plan_id: str) -> Plan:
    with db.read() as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        for r in plan.routes:
            r.stops  # noqa: B018 - load before the session closes
        return plan


__all__ = ["DAY", "PLACED", "TOKYO", "Day", "confirmed_plan", "record_day", "resident_id"]
