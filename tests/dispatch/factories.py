"""Confirmed plans on the tiny region, built through the real services (ordering, batch close,
OR-Tools solve, confirmation), for the courier tests of dispatch and web."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.lifecycle import OrderState, transition
from dispatch.models import Hub, Message, Order, Plan, Region, Resident, Volunteer
from dispatch.planning import plan_batch
from dispatch.services.plans import confirm_plan, move_stop, pin_for_notification
from tests.dispatch.test_planning import CUTOFF, FAST, five_orders, latest_plan

SETTINGS = Settings(secret_key="test-pepper", public_url="https://hakobu.example")
#: Confirmation time: five minutes after the 10:00 cutoff on Monday 2 March 2026 (Tokyo).
CONFIRMED_AT = CUTOFF + dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Day:
    """A confirmed plan: who carries what. ``couriers`` maps volunteer code -> id, ``orders``
    resident code -> order id, ``routes`` volunteer id -> route id, ``deliveries`` volunteer id ->
    the order ids of their route in stop order."""

    batch_id: str
    plan: Plan
    couriers: dict[str, str]
    orders: dict[str, str]
    routes: dict[str, str]
    deliveries: dict[str, list[str]]

    def courier_with_orders(self) -> str:
        """A volunteer id whose route has at least one delivery (the first such by code)."""
        for code in sorted(self.couriers):
            if self.deliveries.get(self.couriers[code]):
                return self.couriers[code]
        raise AssertionError("no courier route in the plan")

    def other_courier(self, volunteer_id: str) -> str:
        return next(v for v in self.couriers.values() if v != volunteer_id)


def _give_every_courier_a_stop(db: Database, batch_id: str, plan_id: str) -> str:
    """Move one delivery onto each courier the solver left idle (an operator's edit), so tests
    have two couriers with routes. Returns the plan version to confirm."""
    plan = latest_plan(db, batch_id)
    with db.read() as s:
        volunteers = list(s.scalars(select(Volunteer.id).order_by(Volunteer.code)))
    busy = {r.volunteer_id: [st.order_id for st in r.stops if st.kind == "delivery"]
            for r in plan.routes if r.volunteer_id}
    for volunteer in volunteers:
        if busy.get(volunteer):
            continue
        donor = max(busy, key=lambda v: len(busy[v]))
        plan_id = move_stop(db, plan_id, busy[donor][-1], volunteer, 0)
        busy[volunteer], busy[donor] = [busy[donor][-1]], busy[donor][:-1]
    return plan_id


def confirmed_day(db: Database, settings: Settings = SETTINGS,
                  confirmed_at: dt.datetime = CONFIRMED_AT) -> Day:
    """Five tiny orders, batched at the 10:00 cutoff, planned (each courier with at least one
    delivery), and confirmed: courier links, ETAs and PINs queued as in production.

    Web tests pass ``confirmed_at=now``: the courier links expire 12 h after confirmation and are
    redeemed at the real time."""
    batch_id, ids = five_orders(db)
    plan_id = _give_every_courier_a_stop(db, batch_id, plan_batch(db, batch_id, **FAST))
    confirm_plan(db, plan_id, None, confirmed_at, settings, as_planned=True)  # a past day, as planned
    plan = latest_plan(db, batch_id)
    assert plan.state == "confirmed"
    with db.read() as s:
        couriers = {v.code: v.id for v in s.scalars(select(Volunteer))}
    routes = {r.volunteer_id: r.id for r in plan.routes if r.volunteer_id}
    deliveries = {r.volunteer_id: [st.order_id for st in r.stops if st.kind == "delivery"]
                  for r in plan.routes if r.volunteer_id}
    return Day(batch_id, plan, couriers, ids, routes, deliveries)


def pin_of(db: Database, order_id: str) -> str:
    """The PIN the resident's SMS would carry: the sender issues it at send time, like this."""
    return pin_for_notification(db, order_id)


def courier_link_secret(db: Database, volunteer_id: str, settings: Settings = SETTINGS) -> str:
    """The secret of the single-use link queued for ``volunteer_id`` at confirmation."""
    with db.read() as s:
        message = s.scalars(select(Message).where(Message.template == "courier_route_link",
                                                  Message.volunteer_id == volunteer_id)).one()
    return str(message.params["url"]).rsplit("/", 1)[1]


def resident_order(db: Database, number: int = 1, state: str = "in_transit") -> Order:
    """One order of a test resident, committed; the region, hub and resident are created on first
    use and shared by every later order (for tests of custody and PINs, which need no plan)."""
    with db.write() as s:
        region = s.scalars(select(Region)).one_or_none()
        if region is None:
            region = Region(code="t", name="Test", crs="EPSG:6673", timezone="Asia/Tokyo", locale="ja_JP")
            hub = Hub(region=region, code="h1", name="Hub", kind="hub", opens=dt.time(8),
                      closes=dt.time(18), lon=134.8, lat=35.5)
            s.add_all([region, hub])
            s.flush()
            s.add(Resident(region_id=region.id, hub_id=hub.id, code="r1", name="Resident", phone="+810",
                           lon=134.81, lat=35.51))
            s.flush()
        hub = s.scalars(select(Hub)).one()
        resident = s.scalars(select(Resident)).one()
        order = Order(region_id=region.id, number=number, hub_id=hub.id, resident_id=resident.id,
                      channel="sms", state=state)
        s.add(order)
        s.flush()
        return order


def advance(db: Database, order_id: str, *states: OrderState) -> None:
    """Walk an order through the lifecycle (the courier actions do this in production)."""
    with db.write() as s:
        order = s.get(Order, order_id)
        assert order is not None
        for state in states:
            transition(order, state)
