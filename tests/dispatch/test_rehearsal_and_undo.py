"""Saying what an action will do before it is done (a rehearsal, rolled back), and undoing what is
safe to undo: a plan edit (the version before comes back) and a call-off (the courier is back)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

import routing
from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Message, Plan, Volunteer
from dispatch.phrases import english
from dispatch.planning import plan_batch
from dispatch.services.disruptions import courier_cancels, courier_returns
from dispatch.services.ordering import ItemRequest, cancel_order
from dispatch.services.plans import confirm_plan, drop_order, move_stop, reorder, restore_previous
from dispatch.services.rehearsal import rehearse
from tests.dispatch.test_disruptions import busiest_courier, confirmed
from tests.dispatch.test_plan_edits import NOW, SETTINGS, deliveries, planned, volunteer_id
from tests.dispatch.test_planning import CUTOFF, FAST, latest_plan, order_batch, states

pytestmark = pytest.mark.db


def count_messages(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Message).where(Message.direction == "out")) or 0


def stop_orders(plan: Plan) -> list[tuple[str | None, list[str]]]:
    return [(r.volunteer_id or r.drone_id, [st.order_id for st in r.stops]) for r in plan.routes]


def test_a_rehearsed_confirmation_counts_its_texts_and_leaves_nothing(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    before = count_messages(db)
    preview = rehearse(db, lambda d: confirm_plan(d, plan_id, None, NOW, SETTINGS, as_planned=True))
    assert preview.refusal is None and preview.result is not None
    assert preview.residents == preview.result.resident_messages == 5  # the five tiny residents
    assert preview.couriers == preview.result.courier_messages >= 1
    assert count_messages(db) == before  # nothing queued
    assert latest_plan(db, batch_id).state == "proposed"  # nothing confirmed
    done = confirm_plan(db, plan_id, None, NOW, SETTINGS, as_planned=True)
    assert (done.resident_messages, done.courier_messages) == (preview.residents, preview.couriers)
    assert count_messages(db) == before + preview.residents + preview.couriers


def test_a_rehearsal_of_a_refused_action_says_why(db: Database, tiny_region: str) -> None:
    _, plan_id, ids = planned(db)
    move_stop(db, plan_id, ids["R2"], volunteer_id(db, "V2"), 0)  # plan_id is no longer the latest
    preview = rehearse(db, lambda d: confirm_plan(d, plan_id, None, NOW, SETTINGS))
    assert preview.result is None and preview.refusal is not None and "latest" in str(preview.refusal)


def test_a_rehearsed_call_off_says_who_would_move_and_changes_nothing(db: Database, tiny_region: str) -> None:
    batch_id, before, _ = confirmed(db)
    gone = busiest_courier(before)
    sent = count_messages(db)
    preview = rehearse(db, lambda d: courier_cancels(d, gone, NOW, actor="test", settings=SETTINGS))
    assert preview.result is not None and (preview.result.moved or preview.result.queued)
    assert preview.couriers >= 1  # at least the courier called off is told
    assert latest_plan(db, batch_id).id == before.id and count_messages(db) == sent
    with db.read() as s:
        assert s.get_one(Volunteer, gone).off_until is None
    real = courier_cancels(db, gone, NOW, actor="test", settings=SETTINGS)
    assert (real.moved, real.queued) == (preview.result.moved, preview.result.queued)
    assert count_messages(db) == sent + len(preview.texts)


def test_undo_brings_back_the_version_before_an_edit(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    first = latest_plan(db, batch_id)
    courier = next(r.volunteer_id for r in first.routes if r.volunteer_id and len(r.stops) > 1)
    moved = reorder(db, plan_id, courier, deliveries(first, courier)[::-1])
    assert stop_orders(latest_plan(db, batch_id)) != stop_orders(first)
    restored = restore_previous(db, moved)
    plan = latest_plan(db, batch_id)
    assert plan.id == restored and plan.version == 3 and english(plan.note) == "restored version 1 (undo)"
    assert stop_orders(plan) == stop_orders(first) and plan.validation["ok"]


def test_undo_of_a_drop_puts_the_order_back_on_its_route(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    courier = next(r.volunteer_id for r in latest_plan(db, batch_id).routes if r.volunteer_id and r.stops)
    order_id = deliveries(latest_plan(db, batch_id), courier)[0]
    dropped = drop_order(db, plan_id, order_id)
    assert states(db, [order_id]) == {order_id: "confirmed"}
    restore_previous(db, dropped)
    assert order_id in deliveries(latest_plan(db, batch_id), courier)
    assert states(db, [order_id]) == {order_id: "planned"}
    assert order_id not in {u["order_id"] for u in latest_plan(db, batch_id).unserved}


def test_undo_is_refused_for_a_first_version_and_for_an_order_that_moved_on(db: Database,
                                                                             tiny_region: str) -> None:
    batch_id, plan_id, ids = planned(db)
    with pytest.raises(DomainError, match="nothing to undo"):
        restore_previous(db, plan_id)
    dropped = drop_order(db, plan_id, ids["R3"])
    cancel_order(db, ids["R3"], "resident", SETTINGS, now=NOW)  # the resident cancels the dropped order
    with pytest.raises(DomainError, match="cannot come back"):
        restore_previous(db, dropped)
    assert latest_plan(db, batch_id).id == dropped


def test_a_called_off_courier_brought_back_is_planned_again(db: Database, tiny_region: str) -> None:
    confirmed(db)
    cyclist = volunteer_id(db, "V2")
    courier_cancels(db, cyclist, NOW, actor="test", settings=SETTINGS)
    assert courier_returns(db, cyclist, NOW, actor="test") == "V2"
    with pytest.raises(DomainError, match="not called off"):
        courier_returns(db, cyclist, NOW, actor="test")
    later = CUTOFF + dt.timedelta(minutes=30)
    next_batch, _ = order_batch(db, {"R1": [ItemRequest("パン", 1)]}, cutoff=later)
    plan_batch(db, next_batch, **FAST)
    problem = routing.problem_from_json(latest_plan(db, next_batch).problem)
    assert cyclist in {v.id for v in problem.vehicles}
