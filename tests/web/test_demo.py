"""The demo day (dispatch.demo): orders through the real intake, batches closed now or at this
morning's cutoff, proposed plans from the real solver, and nothing added on a restart."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.demo import demo_day, seed_demo, seed_demo_day, seed_demo_plans
from dispatch.models import Batch, Order, Plan, User
from dispatch.services.batching import close_batch
from dispatch.services.solving import claim_for_solving
from sms.service import receive_sms
from tests.dispatch.test_planning import MONDAY

pytestmark = pytest.mark.db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = dt.datetime.combine(MONDAY, dt.time(7, 30), TOKYO)  # before the tiny hub's 10:00 cutoff
EVENING = dt.datetime.combine(MONDAY, dt.time(20, 0), TOKYO)  # after it, and after closing time


def _seed(db: Database, now: dt.datetime, lines: list[str] | None = None) -> list[str]:
    seeded = seed_demo_day(db, "tiny", lambda phone, body, at: receive_sms(
        db, "simulator", None, phone, body, at, settings=Settings()), now=now)
    return seeded + seed_demo_plans(db, "tiny", now=now, time_limit_s=1.0,
                                    echo=(lines.append if lines is not None else None))


def _count(db: Database, model: type, *where: object) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_the_demo_day_closes_now_before_the_first_cutoff_and_at_it_afterwards(db: Database,
                                                                             tiny_region: str) -> None:
    early = demo_day(db, "tiny", MORNING)
    assert (early.cutoff_at, early.rewound, early.day) == (MORNING, False, MONDAY)
    late = demo_day(db, "tiny", EVENING)
    assert late.rewound and late.day == MONDAY
    assert late.cutoff_at == dt.datetime.combine(MONDAY, dt.time(10), TOKYO)
    at_cutoff = dt.datetime.combine(MONDAY, dt.time(10), TOKYO)
    assert demo_day(db, "tiny", at_cutoff).rewound  # the cutoff instant itself has passed


def test_morning_demo_has_proposed_plans_and_a_restart_adds_nothing(db: Database, tiny_region: str) -> None:
    progress: list[str] = []
    summary = _seed(db, MORNING, progress)
    assert "before the first cutoff, so the batches close now" in progress[0]
    assert any(line.startswith("planning H1") for line in progress)
    with db.read() as s:
        orders = s.scalars(select(Order)).all()
        batch = s.scalars(select(Batch)).one()
        plan = s.scalars(select(Plan)).one()
        deliveries = [st for r in plan.routes for st in r.stops if st.kind == "delivery"]
        couriers = [r for r in plan.routes if r.volunteer_id and r.stops]
    assert len(orders) == 5  # every tiny resident orders once
    assert batch.cutoff_at == MORNING and batch.state == "solved"
    day_start = dt.datetime.combine(MONDAY, dt.time(0), TOKYO)
    assert all(day_start <= o.created_at <= MORNING for o in orders)
    assert {o.channel for o in orders} >= {"sms", "web"}
    assert plan.state == "proposed" and plan.validation["ok"]
    assert deliveries and couriers  # a courier has a route
    assert any(line.startswith("H1: batch closed at 07:30, ") and "plan v1 proposed" in line
               for line in summary)

    later = MORNING + dt.timedelta(hours=5)  # restarted at 12:30: the day is already set up
    again = _seed(db, later)
    assert again[0].startswith("demo day already has 5 orders")
    assert "(planned earlier)" in again[-1]
    assert (_count(db, Order), _count(db, Batch), _count(db, Plan)) == (5, 1, 1)


def test_evening_demo_plans_this_mornings_batch(db: Database, tiny_region: str) -> None:
    progress: list[str] = []
    _seed(db, EVENING, progress)
    ten = dt.datetime.combine(MONDAY, dt.time(10), TOKYO)
    assert "past the first cutoff, so the batches close at this morning's 10:00 cutoff" in progress[0]
    with db.read() as s:
        orders = s.scalars(select(Order)).all()
        batch = s.scalars(select(Batch)).one()
        plan = s.scalars(select(Plan)).one()
        couriers = [r for r in plan.routes if r.volunteer_id and r.stops]
        etas = [st.eta for r in plan.routes for st in r.stops if st.eta is not None]
    assert batch.cutoff_at == ten and batch.closed_at == EVENING
    assert all(o.created_at < ten for o in orders)
    today = [o for o in orders
             if o.window_start is not None and o.window_start.astimezone(TOKYO).date() == MONDAY]
    later = [o for o in orders if o not in today]
    assert today and all(o.batch_id == batch.id for o in today)
    # Wished for a later day: waiting for that day's batch.
    assert all(o.batch_id is None and o.state == "confirmed" for o in later)
    assert plan.state == "proposed" and couriers  # Monday's courier, from 10:00
    assert etas and min(etas) >= ten


def test_just_after_midnight_the_orders_stay_on_the_new_day(db: Database, tiny_region: str) -> None:
    now = dt.datetime.combine(MONDAY, dt.time(0, 4), TOKYO)
    seed_demo_day(db, "tiny", lambda phone, body, at: receive_sms(
        db, "simulator", None, phone, body, at, settings=Settings()),
                  now=now)
    with db.read() as s:
        created = list(s.scalars(select(Order.created_at)))
    midnight = dt.datetime.combine(MONDAY, dt.time(0), TOKYO)
    assert len(created) == 5 and all(midnight <= at <= now for at in created)


def test_a_solve_interrupted_by_a_stopped_demo_is_finished_on_restart(db: Database, tiny_region: str) -> None:
    seed_demo_day(db, "tiny", lambda phone, body, at: receive_sms(
        db, "simulator", None, phone, body, at, settings=Settings()),
                  now=MORNING)
    with db.read() as s:
        hub_id = s.scalars(select(Order.hub_id)).first()
    closed = close_batch(db, str(hub_id), MORNING, now=MORNING)
    assert claim_for_solving(db, closed.batch_id) == 1  # the demo stopped during this solve
    seed_demo_plans(db, "tiny", now=MORNING, time_limit_s=1.0)
    with db.read() as s:
        assert s.get_one(Batch, closed.batch_id).state == "solved"
        assert s.scalars(select(Plan.state).where(Plan.batch_id == closed.batch_id)).one() == "proposed"


def test_demo_accounts(db: Database, tiny_region: str) -> None:
    assert seed_demo(db, "tiny", "demo-password-1") == ["operator@demo runs hubs: H1"]
    with db.read() as s:
        roles = dict(s.execute(select(User.email, User.role)).all())
    assert roles == {"operator@demo": "operator", "planner@demo": "planner", "admin@demo": "admin"}


def test_yesterday_is_simulated_once_before_the_demo_day(db: Database, tiny_region: str) -> None:
    """The planners' simulated day: yesterday through the real simulator, once; then the demo day as
    before (its plan proposed, yesterday's confirmed ones untouched)."""
    from dispatch.config import Settings
    from dispatch.demo import seed_simulated_day
    from dispatch.simulate import simulated_days
    from tests.conftest import TINY
    from web.simulate_cli import RealSms

    settings = Settings(secret_key="demo-sim-pepper", public_url="http://127.0.0.1:5000")
    tuesday = MORNING + dt.timedelta(days=1)  # yesterday was Monday: the tiny couriers work
    lines = seed_simulated_day(db, "tiny", TINY, RealSms(db, settings), settings, now=tuesday, orders=6)
    assert lines[0].startswith(f"simulated day {MONDAY.isoformat()}: 6 orders"), lines
    assert simulated_days(db, "tiny") == [MONDAY]
    midnight = dt.datetime.combine(MONDAY, dt.time(0), TOKYO)
    with db.read() as s:
        states = list(s.scalars(select(Plan.state).join(Batch, Batch.id == Plan.batch_id).where(
            Batch.cutoff_at >= midnight, Batch.cutoff_at < midnight + dt.timedelta(days=1))))
    assert "confirmed" in states and "proposed" not in states
    before = (_count(db, Order), _count(db, Batch), _count(db, Plan))

    again = seed_simulated_day(db, "tiny", TINY, RealSms(db, settings), settings,
                               now=tuesday + dt.timedelta(hours=3))
    assert again == [f"past day {MONDAY.isoformat()} already has 6 orders: not simulated again"]
    assert (_count(db, Order), _count(db, Batch), _count(db, Plan)) == before

    _seed(db, tuesday)  # the demo day, as `hakobu demo` continues
    with db.read() as s:
        proposed = [p.batch.cutoff_at for p in s.scalars(select(Plan).where(Plan.state == "proposed"))]
        today = s.scalar(select(func.count()).select_from(Order).where(
            Order.created_at >= tuesday.replace(hour=0)))
    assert proposed == [tuesday]  # today's plan only
    assert today == 5  # every tiny resident orders once today
    assert seed_simulated_day(db, "tiny", TINY, RealSms(db, settings), settings, now=tuesday, orders=0) == [
        f"past day {MONDAY.isoformat()} already has 6 orders: not simulated again"]
