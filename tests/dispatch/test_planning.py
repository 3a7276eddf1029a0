"""From batch to plan on the tiny region: problem building, solving, storing versions, order states."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Batch, Drone, Hub, Order, Plan, Resident, Route, Volunteer
from dispatch.planning import build_problem, plan_batch
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services.batching import close_batch
from dispatch.services.ordering import place_order

pytestmark = pytest.mark.db

TOKYO = ZoneInfo("Asia/Tokyo")
#: Monday 2 March 2026: both tiny volunteers work on Mondays.
MONDAY = dt.date(2026, 3, 2)
CUTOFF = dt.datetime.combine(MONDAY, dt.time(10), TOKYO)
#: Small search budgets keep the suite fast; solution_limit makes runs deterministic.
FAST = {"time_limit_s": 2.0, "solution_limit": 20}


def resident_id(db: Database, code: str) -> str:
    with db.read() as s:
        return s.scalars(select(Resident.id).where(Resident.code == code)).one()


def hub_id(db: Database, code: str = "H1") -> str:
    with db.read() as s:
        return s.scalars(select(Hub.id).where(Hub.code == code)).one()


def order_batch(db: Database, items: dict[str, list[ItemRequest]], cutoff: dt.datetime = CUTOFF,
                wish: TimeWish | None = None) -> tuple[str, dict[str, str]]:
    """Place one order per resident code (at 09:00 on the cutoff's day) and close the batch.

    Returns the batch id and {resident code: order id}."""
    placed = cutoff - dt.timedelta(hours=1)
    ids = {}
    for code, lines in items.items():
        ids[code] = place_order(db, resident_id(db, code), lines, channel="web", now=placed,
                                time_wish=wish).id
    result = close_batch(db, hub_id(db), cutoff, now=cutoff)
    assert set(result.order_ids) == set(ids.values())
    return result.batch_id, ids


def five_orders(db: Database) -> tuple[str, dict[str, str]]:
    """One light order (bread, 0.4 kg) for each of the five tiny residents."""
    return order_batch(db, {f"R{i}": [ItemRequest("パン", 1)] for i in range(1, 6)})


def latest_plan(db: Database, batch_id: str) -> Plan:
    with db.read() as s:
        plan = s.scalars(select(Plan).where(Plan.batch_id == batch_id).order_by(Plan.version.desc())).first()
        assert plan is not None
        for route in plan.routes:
            route.stops  # noqa: B018 - load before the session closes
        return plan


def states(db: Database, order_ids: list[str] | set[str]) -> dict[str, str]:
    with db.read() as s:
        return {o.id: o.state for o in s.scalars(select(Order).where(Order.id.in_(list(order_ids))))}


def test_problem_takes_volunteers_on_shift_drones_and_no_fly_zones(db: Database, tiny_region: str) -> None:
    batch_id, ids = five_orders(db)
    with db.read() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None
        built = build_problem(s, batch)
        codes = {v.id: v.code for v in s.scalars(select(Volunteer))}
    p = built.problem
    assert p.t0 == CUTOFF
    assert sorted(codes[v.id] for v in p.vehicles) == ["V1", "V2"]
    v1 = next(v for v in p.vehicles if codes[v.id] == "V1")
    assert (v1.shift_start, v1.shift_end) == (0, 2 * 3600)  # 10:00 (the cutoff) to 12:00
    assert len(p.drones) == 1 and p.drones[0].range_m == 20_000
    assert len(p.zones) == 1 and p.zones[0].buffer_m == 30
    assert {o.id for o in p.orders} == set(ids.values())
    assert all(o.window == (0, 8 * 3600) for o in p.orders)  # 10:00-18:00, the hub closes at 18
    assert built.excluded == []


def test_saturday_leaves_the_walker_home_and_weather_hold_grounds_drones(db: Database,
                                                                          tiny_region: str) -> None:
    saturday = dt.datetime.combine(MONDAY + dt.timedelta(days=5), dt.time(10), TOKYO)
    with db.write() as s:
        s.scalars(select(Hub)).one().weather_hold = True
    batch_id, _ = order_batch(db, {"R1": [ItemRequest("パン", 1)]}, cutoff=saturday)
    with db.read() as s:
        built = build_problem(s, s.get(Batch, batch_id))  # type: ignore[arg-type]
        modes = [v.mode for v in built.problem.vehicles]
    assert modes == ["bicycle"]
    assert built.problem.drones == ()


def test_plan_batch_serves_every_order_once_and_moves_states(db: Database, tiny_region: str) -> None:
    batch_id, ids = five_orders(db)
    plan_id = plan_batch(db, batch_id, **FAST)
    plan = latest_plan(db, batch_id)
    assert plan.id == plan_id and plan.version == 1 and plan.state == "proposed"
    assert plan.validation == {"ok": True, "violations": []}
    delivered = Counter(st.order_id for r in plan.routes for st in r.stops if st.kind == "delivery")
    unserved = {u["order_id"] for u in plan.unserved}
    assert all(n == 1 for n in delivered.values())
    assert set(delivered) | unserved == set(ids.values()) and not set(delivered) & unserved
    assert all(u["reason"] for u in plan.unserved)
    now = states(db, ids.values())
    assert {now[o] for o in delivered} == {"planned"}
    assert {now[o] for o in unserved} <= {"confirmed"}
    for route in plan.routes:
        assert (route.volunteer_id is None) != (route.drone_id is None)
        assert route.depart_at is not None and route.return_at is not None
        assert CUTOFF <= route.depart_at < route.return_at
        assert [st.seq for st in route.stops] == list(range(1, len(route.stops) + 1))
        assert all(st.eta is not None and st.eta >= route.depart_at for st in route.stops)


def test_replanning_creates_version_two_and_supersedes_one(db: Database, tiny_region: str) -> None:
    batch_id, _ = five_orders(db)
    first = plan_batch(db, batch_id, **FAST)
    second = plan_batch(db, batch_id, **FAST)
    with db.read() as s:
        rows = {p.id: (p.version, p.state) for p in s.scalars(select(Plan).where(Plan.batch_id == batch_id))}
        routes = s.scalars(select(Route).where(Route.plan_id == second)).all()
    assert rows == {first: (1, "superseded"), second: (2, "proposed")}
    assert routes  # the new version has its own routes


def test_order_for_tomorrow_waits_for_tomorrows_batch_which_plans_it(db: Database, tiny_region: str) -> None:
    """Issue 13: today's batch does not take an order wished for tomorrow (it used to, only to
    report it unserved with ``time_window`` and offer an empty plan for review)."""
    placed = place_order(db, resident_id(db, "R3"), [ItemRequest("パン", 1)], channel="web",
                         now=CUTOFF - dt.timedelta(hours=1), time_wish=TimeWish(day_offset=1))
    today = close_batch(db, hub_id(db), CUTOFF, now=CUTOFF)
    assert today.order_ids == () and today.state == "solved"
    tomorrow = CUTOFF + dt.timedelta(days=1)
    batch = close_batch(db, hub_id(db), tomorrow, now=tomorrow)
    assert batch.order_ids == (placed.id,)
    plan_batch(db, batch.batch_id, **FAST)
    plan = latest_plan(db, batch.batch_id)
    assert plan.unserved == [] and plan.validation["ok"] is True
    assert states(db, [placed.id]) == {placed.id: "planned"}


def test_heavy_order_over_every_capacity_is_unserved_not_a_crash(db: Database, tiny_region: str) -> None:
    batch_id, ids = order_batch(db, {"R1": [ItemRequest("パン", 1)], "R2": [ItemRequest("灯油", 1)]})
    plan_batch(db, batch_id, **FAST)
    plan = latest_plan(db, batch_id)
    reasons = {u["order_id"]: u for u in plan.unserved}
    assert set(reasons) == {ids["R2"]}
    assert "heavier than every vehicle" in reasons[ids["R2"]]["detail"]
    assert states(db, ids.values()) == {ids["R1"]: "planned", ids["R2"]: "confirmed"}


def test_drone_in_maintenance_is_not_planned(db: Database, tiny_region: str) -> None:
    with db.write() as s:
        s.scalars(select(Drone)).one().status = "maintenance"
    batch_id, _ = five_orders(db)
    plan_batch(db, batch_id, **FAST)
    assert all(r.drone_id is None for r in latest_plan(db, batch_id).routes)


@pytest.mark.slow
def test_tajima_smoke_forty_orders_at_kannabe(db: Database) -> None:
    """A realistic batch: 40 residents of one tajima hub, a short solve, a valid stored plan."""
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region
    from tests.conftest import TAJIMA

    load_region(db, read_region(TAJIMA))
    kannabe = hub_id(db, "KANNABE")
    with db.read() as s:
        residents = s.scalars(select(Resident.id).where(Resident.hub_id == kannabe)
                              .order_by(Resident.code).limit(40)).all()
    placed = CUTOFF - dt.timedelta(hours=1)
    ids = {place_order(db, r, [ItemRequest("牛乳", 1)], channel="web", now=placed).id for r in residents}
    batch = close_batch(db, kannabe, CUTOFF, now=CUTOFF)
    assert set(batch.order_ids) == ids
    plan_batch(db, batch.batch_id, time_limit_s=5.0, solution_limit=50)
    plan = latest_plan(db, batch.batch_id)
    assert plan.validation["ok"], plan.validation["violations"][:3]
    delivered = [st.order_id for r in plan.routes for st in r.stops if st.kind == "delivery"]
    assert len(delivered) == len(set(delivered))
    assert set(delivered) | {u["order_id"] for u in plan.unserved} == ids
    assert len(delivered) >= 20  # most of a milk round fits the Monday couriers and drones
