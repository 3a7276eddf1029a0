"""Continuity (issue 13, item 1): an order that misses its day is carried on, never stranded.

Real services on the tiny region (hub H1: open 08:00-18:00, cutoffs 10:00 and 14:00, Tokyo time):
orders placed, batches closed and planned by OR-Tools, the carry-over run as the scheduler's sweep
runs it, the residents' SMS read from the outbox.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Message, OperatorAlert, Order
from dispatch.phrases import english
from dispatch.planning import plan_batch
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services import continuity
from dispatch.services.batching import EMPTY_REASON, close_batch
from dispatch.services.ordering import place_order
from sms.service import render_message
from tests.dispatch.test_planning import FAST, MONDAY, TOKYO, hub_id, resident_id

pytestmark = pytest.mark.db
SETTINGS = Settings(carry_over_max_days=2, max_delivery_attempts=2)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Local Tokyo time on MONDAY + ``day`` days, as an aware instant."""
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour, minute), TOKYO)


def order(db: Database, order_id: str) -> Order:
    with db.read() as s:
        found = s.get(Order, order_id)
        assert found is not None
        return found


def texts(db: Database, order_id: str, template: str) -> list[Message]:
    with db.read() as s:
        return list(s.scalars(select(Message).where(Message.order_id == order_id,
                                                    Message.template == template)
                              .order_by(Message.created_at)))


def close_and_plan(db: Database, when: dt.datetime) -> str:
    result = close_batch(db, hub_id(db), when, now=when)
    if result.order_ids:
        plan_batch(db, result.batch_id, **FAST)
    return result.batch_id


def test_an_order_texted_after_the_last_cutoff_is_for_the_next_delivery_day(
        db: Database, tiny_region: str) -> None:
    close_and_plan(db, at(0, 10))
    close_and_plan(db, at(0, 14))
    placed = place_order(db, resident_id(db, "R1"), [ItemRequest("パン", 1)], channel="web",
                         now=at(0, 15, 30))
    assert placed.window_start is not None and placed.window_end is not None
    assert placed.window_start.astimezone(TOKYO) == at(1, 15, 30)  # same clock times, next day
    assert placed.window_end.astimezone(TOKYO) == at(1, 18)
    assert order(db, placed.id).told_day == (MONDAY + dt.timedelta(days=1))
    [confirmation] = texts(db, placed.id, "order_received")
    body = render_message(confirmation.template, "ja", confirmation.params, "Asia/Tokyo")
    assert f"{(MONDAY + dt.timedelta(days=1)).month}月{(MONDAY + dt.timedelta(days=1)).day}日" in body


def test_an_order_wished_for_tomorrow_waits_for_tomorrows_batch(db: Database, tiny_region: str) -> None:
    placed = place_order(db, resident_id(db, "R2"), [ItemRequest("パン", 1)], channel="web",
                         now=at(0, 9), time_wish=TimeWish(1, "morning"))
    today = close_batch(db, hub_id(db), at(0, 10), now=at(0, 10))
    assert today.order_ids == () and today.state == "solved"  # nothing to plan, nothing to review
    assert EMPTY_REASON
    assert continuity.carry_over_hub(db, hub_id(db), now=at(0, 14, 30), settings=SETTINGS).carried == []
    tomorrow = close_batch(db, hub_id(db), at(1, 10), now=at(1, 10))
    assert tomorrow.order_ids == (placed.id,)


def test_an_undeliverable_order_is_carried_each_day_told_once_per_day_then_parked(
        db: Database, tiny_region: str) -> None:
    """20 kg of rice: heavier than every tiny courier (8 and 15 kg) and the drone (4.5 kg), so each
    day's plans leave it unserved. It is carried to Tuesday, then Wednesday (priority rising, the
    resident told each new day once), and parked on Wednesday evening after two days carried."""
    hub = hub_id(db)
    placed = place_order(db, resident_id(db, "R3"), [ItemRequest("米", 4)], channel="web", now=at(0, 9))
    assert order(db, placed.id).priority == 2
    for day in (0, 1):
        close_and_plan(db, at(day, 10))
        close_and_plan(db, at(day, 14))
        assert order(db, placed.id).state == "confirmed"  # unserved: back in the queue
        result = continuity.carry_over_hub(db, hub, now=at(day, 14, 30), settings=SETTINGS)
        assert result.carried == [placed.number] and result.told == [placed.number]
        again = continuity.carry_over_hub(db, hub, now=at(day, 14, 31), settings=SETTINGS)
        assert again.carried == [] and again.told == []  # nothing moves twice, nobody texted twice
        carried = order(db, placed.id)
        assert carried.carried_over == day + 1 and carried.priority == max(1, 1 - day)
        assert carried.told_day == MONDAY + dt.timedelta(days=day + 1)
        assert carried.window_start is not None
        assert carried.window_start.astimezone(TOKYO) == at(day + 1, 10)
    told = texts(db, placed.id, "carried_over")
    assert [m.params["date"] for m in told] == [(MONDAY + dt.timedelta(days=d)).isoformat() for d in (1, 2)]
    assert "3月3日" in render_message("carried_over", "ja", told[0].params, "Asia/Tokyo")
    close_and_plan(db, at(2, 10))
    close_and_plan(db, at(2, 14))
    result = continuity.carry_over_hub(db, hub, now=at(2, 14, 30), settings=SETTINGS)
    assert result.parked == {placed.number: "not delivered after 2 days carried over"}
    parked = order(db, placed.id)
    assert parked.state == "parked" and english(parked.parked_reason).startswith("not delivered after 2 days")
    assert len(texts(db, placed.id, "order_parked")) == 1
    with db.read() as s:
        [alert] = s.scalars(select(OperatorAlert).where(OperatorAlert.order_id == placed.id)).all()
    assert alert.kind == "order_parked" and alert.hub_id == hub
    # Parked orders are not claimed again.
    assert close_batch(db, hub, at(3, 10), now=at(3, 10)).order_ids == ()


def test_an_operator_requeues_or_cancels_a_parked_order(db: Database, tiny_region: str) -> None:
    hub = hub_id(db)
    heavy = place_order(db, resident_id(db, "R4"), [ItemRequest("米", 4)], channel="web", now=at(0, 9))
    other = place_order(db, resident_id(db, "R5"), [ItemRequest("米", 4)], channel="web", now=at(0, 9))
    strict = Settings(carry_over_max_days=0)
    close_and_plan(db, at(0, 10))
    close_and_plan(db, at(0, 14))
    result = continuity.carry_over_hub(db, hub, now=at(0, 14, 30), settings=strict)
    assert set(result.parked) == {heavy.number, other.number}
    with pytest.raises(continuity.NotFound):
        continuity.requeue_parked(db, heavy.id, hub_ids=frozenset({"another-hub"}), now=at(0, 15),
                                  settings=strict)
    number = continuity.requeue_parked(db, heavy.id, hub_ids=frozenset({hub}), now=at(0, 15),
                                       settings=strict)
    back = order(db, heavy.id)
    assert number == heavy.number and back.state == "confirmed" and back.carried_over == 0
    assert back.window_start is not None and back.window_start.astimezone(TOKYO) == at(1, 10)
    assert [m.params["date"] for m in texts(db, heavy.id, "carried_over")] == [
        (MONDAY + dt.timedelta(days=1)).isoformat()]
    with pytest.raises(continuity.DomainError):
        continuity.cancel_parked(db, other.id, "  ", hub_ids=None, now=at(0, 15))
    continuity.cancel_parked(db, other.id, "resident moved to a care home", hub_ids=None, now=at(0, 15))
    cancelled = order(db, other.id)
    assert cancelled.state == "cancelled" and cancelled.note == "resident moved to a care home"
    assert len(texts(db, other.id, "cancelled")) == 1
    with pytest.raises(continuity.DomainError):  # no longer parked
        continuity.requeue_parked(db, other.id, hub_ids=None, now=at(0, 16), settings=strict)


def test_a_plan_nobody_confirmed_on_its_day_is_superseded_and_its_orders_carried_on(
        db: Database, tiny_region: str) -> None:
    from dispatch.models import Plan

    placed = place_order(db, resident_id(db, "R1"), [ItemRequest("パン", 1)], channel="web", now=at(0, 9))
    batch_id = close_and_plan(db, at(0, 10))
    assert order(db, placed.id).state == "planned"  # proposed, never confirmed
    close_batch(db, hub_id(db), at(0, 14), now=at(0, 14))  # nothing new: an empty batch
    evening = continuity.carry_over_hub(db, hub_id(db), now=at(0, 20), settings=SETTINGS)
    assert evening.released == []  # today's plan may still be confirmed until midnight
    result = continuity.carry_over_hub(db, hub_id(db), now=at(1, 0, 30), settings=SETTINGS)
    assert result.released == [placed.number] and result.carried == [placed.number]
    carried = order(db, placed.id)
    assert carried.state == "confirmed" and carried.told_day == MONDAY + dt.timedelta(days=1)
    with db.read() as s:
        plans = s.scalars(select(Plan).where(Plan.batch_id == batch_id)).all()
    assert [p.state for p in plans] == ["superseded"]
    assert "not confirmed before its day ended" in plans[0].note
    assert len(texts(db, placed.id, "carried_over")) == 1
