"""A batch short of couriers calls out available volunteers (issue 15, item 3): fewest recent hours
first, only as many as the short parcels need; a decline or no answer goes to the next person; the
first acceptances join the re-planned batch. Real SQLite/PostgreSQL, real OR-Tools solves, the
volunteers' texts through the SMS service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.lifecycle import BatchState, PlanState
from dispatch.models import Availability, Batch, CallOut, Hub, Message, Plan, Resident, Route, Volunteer
from dispatch.planning import plan_batch
from dispatch.requests import ItemRequest
from dispatch.services import callouts
from dispatch.services.batching import close_batch
from dispatch.services.ordering import place_order
from dispatch.services.solving import solve_batch
from sms.service import receive_sms
from tests.dispatch.test_planning import FAST
from tests.dispatch.volunteer_region import (
    SATURDAY_EVENING,
    SUNDAY,
    SUNDAY_CUTOFF,
    TOKYO,
    load_volunteer_region,
    volunteers,
)

pytestmark = pytest.mark.db

SETTINGS = Settings(secret_key="callout-secret", public_url="https://hub.example.jp", callout_answer_min=30)


def text(db: Database, phone: str, body: str, at: dt.datetime) -> str:
    """A text from ``phone`` through the SMS service; returns the reply's template."""
    return receive_sms(db, "simulator", None, phone, body, at, settings=SETTINGS).template


def callout_texts(db: Database) -> list[tuple[str, str]]:
    """(phone, url) of every call-out text queued, in order."""
    with db.read() as s:
        rows = s.scalars(select(Message).where(Message.template == "callout")
                         .order_by(Message.created_at, Message.id)).all()
        return [(m.phone, m.params["url"]) for m in rows]


def states(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {c.volunteer.code: c.state for c in s.scalars(select(CallOut))}


def short_sunday(db: Database) -> tuple[str, str]:
    """Three one-parcel orders (R1-R3, no drone drop point) for Sunday, when nobody is on shift;
    the batch closed at 10:00 and planned. Returns (batch id, plan id)."""
    with db.read() as s:
        residents = {r.code: r.id for r in s.scalars(select(Resident))}
        hub_id = s.scalars(select(Hub.id).where(Hub.code == "H1")).one()
    for code in ("R1", "R2", "R3"):
        place_order(db, residents[code], [ItemRequest("パン", 1)], channel="web",
                    now=SUNDAY_CUTOFF - dt.timedelta(hours=1))
    batch_id = close_batch(db, hub_id, SUNDAY_CUTOFF, now=SUNDAY_CUTOFF).batch_id
    return batch_id, solve(db, batch_id)


def solve(db: Database, batch_id: str) -> str:
    """What the scheduler's worker does with a closed batch; returns the new plan's id."""
    assert solve_batch(db.url, batch_id, lambda d, b: plan_batch(d, b, **FAST)) == BatchState.SOLVED
    with db.read() as s:
        return s.scalars(select(Plan.id).where(Plan.batch_id == batch_id)
                         .order_by(Plan.version.desc())).first()


def give_hours(db: Database, volunteer_id: str, hours: float, at: dt.datetime) -> None:
    """A confirmed route of ``hours`` driven by the volunteer a few days before ``at``: their
    recent hours (what call-outs are ordered by)."""
    with db.write() as s:
        hub_id = s.scalars(select(Hub.id).where(Hub.code == "H1")).one()
        depart = at - dt.timedelta(days=3, hours=hours)  # one batch per hub and cutoff
        batch = Batch(hub_id=hub_id, cutoff_at=depart, state=BatchState.SOLVED)
        s.add(batch)
        s.flush()
        plan = Plan(batch_id=batch.id, version=1, state=PlanState.CONFIRMED, problem={}, solution={},
                    validation={"ok": True, "violations": []})
        s.add(plan)
        s.flush()
        s.add(Route(plan_id=plan.id, position=0, volunteer_id=volunteer_id, mode="car",
                    depart_at=depart, return_at=depart + dt.timedelta(hours=hours)))


@pytest.fixture
def region(db: Database, tmp_path: Path) -> dict[str, Volunteer]:
    load_volunteer_region(db, tmp_path)
    people = volunteers(db)
    give_hours(db, people["V5"].id, 6, SUNDAY_CUTOFF)  # V5 drove most lately: asked last
    for code in ("V3", "V4", "V5"):
        assert text(db, people[code].phone, "明日 9時から17時 手伝えます", SATURDAY_EVENING) == \
            "availability_saved"
    return people


def test_a_short_batch_calls_out_only_as_many_as_its_parcels_need_fewest_hours_first(
        db: Database, region: dict[str, Volunteer]) -> None:
    batch_id, plan_id = short_sunday(db)
    with db.read() as s:
        plan = s.get(Plan, plan_id)
        assert callouts.shortage(s, plan).parcels == 3  # no courier on a Sunday
    now = SUNDAY_CUTOFF + dt.timedelta(minutes=2)
    assert callouts.sweep(db, now, SETTINGS) == 2  # V3 and V4 carry 2 + 2 parcels >= 3
    # V5 drove most lately, so V3 and V4 are asked first; nobody beyond what 3 parcels need.
    assert {phone for phone, _ in callout_texts(db)} == {region["V3"].phone, region["V4"].phone}
    assert callouts.sweep(db, now + dt.timedelta(minutes=1), SETTINGS) == 0  # waiting: nobody more

    # V3 declines by SMS: the next (V5, most hours) is asked; V4 accepts by the signed link.
    assert text(db, region["V3"].phone, "いいえ", now + dt.timedelta(minutes=3)) == "callout_declined"
    assert callouts.sweep(db, now + dt.timedelta(minutes=4), SETTINGS) == 1
    assert callout_texts(db)[-1][0] == region["V5"].phone
    v4_url = next(url for phone, url in callout_texts(db) if phone == region["V4"].phone)
    token = v4_url.rsplit("/", 1)[1]
    assert callouts.answer_by_link(db, token + "x", True, SETTINGS.secret_key, now) is None  # forged
    reply = callouts.answer_by_link(db, token, True, SETTINGS.secret_key, now + dt.timedelta(minutes=5))
    assert reply is not None and reply[0] == "callout_accepted"
    with db.read() as s:
        batch = s.get(Batch, batch_id)
        assert batch.state == BatchState.CLOSED and batch.replan_reason  # back to the solver
    assert text(db, region["V5"].phone, "はい", now + dt.timedelta(minutes=6)) == "callout_accepted"
    assert states(db) == {"V3": "declined", "V4": "accepted", "V5": "accepted"}

    # The re-plan uses exactly the volunteers who accepted, and serves every order.
    new_plan = solve(db, batch_id)
    with db.read() as s:
        plan = s.get(Plan, new_plan)
        couriers = {s.get(Volunteer, r.volunteer_id).code for r in plan.routes if r.volunteer_id and r.stops}
        assert couriers == {"V4", "V5"}
        assert plan.unserved == []
        called = s.scalars(select(CallOut).where(CallOut.state.in_(("accepted", "sent")))).all()
        assert len(called) <= len(couriers)
    assert callouts.sweep(db, now + dt.timedelta(minutes=10), SETTINGS) == 0  # no longer short


def test_an_unanswered_call_out_expires_and_goes_to_the_next_person(
        db: Database, region: dict[str, Volunteer]) -> None:
    short_sunday(db)
    now = SUNDAY_CUTOFF + dt.timedelta(minutes=2)
    callouts.sweep(db, now, SETTINGS)
    assert callouts.sweep(db, now + dt.timedelta(minutes=29), SETTINGS) == 0
    assert callouts.sweep(db, now + dt.timedelta(minutes=31), SETTINGS) == 1
    assert states(db) == {"V3": "expired", "V4": "expired", "V5": "sent"}
    # A late yes from V3 is thanked, not taken.
    assert text(db, region["V3"].phone, "YES", now + dt.timedelta(minutes=32)) == "callout_closed"
    assert states(db)["V3"] == "expired"


def test_a_volunteer_who_is_off_or_on_shift_is_not_called_out(
        db: Database, region: dict[str, Volunteer]) -> None:
    assert text(db, region["V3"].phone, "明日 休み", SATURDAY_EVENING) == "availability_off"
    short_sunday(db)
    callouts.sweep(db, SUNDAY_CUTOFF + dt.timedelta(minutes=2), SETTINGS)
    assert {phone for phone, _ in callout_texts(db)} == {region["V4"].phone, region["V5"].phone}
    with db.read() as s:
        row = s.scalars(select(Availability).where(Availability.volunteer_id == region["V3"].id)).one()
        assert row.day == SUNDAY and row.off and row.start is None
    assert SUNDAY_CUTOFF.astimezone(TOKYO).weekday() == 6


def test_candidates_come_fewest_recent_hours_first(db: Database, region: dict[str, Volunteer]) -> None:
    give_hours(db, region["V3"].id, 2, SUNDAY_CUTOFF)
    batch_id, _plan = short_sunday(db)
    with db.read() as s:
        order = [v.code for v, _ in callouts.candidates(s, s.get(Batch, batch_id), SUNDAY_CUTOFF)]
    assert order == ["V4", "V3", "V5"]  # 0 h, 2 h, 6 h
