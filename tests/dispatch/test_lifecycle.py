"""The order state machine: every legal move works, every other one is refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import product
from typing import Any

import pytest

from dispatch.errors import IllegalTransition
from dispatch.lifecycle import (
    BATCH_PENDING,
    BATCH_TRANSITIONS,
    DELIVERY_TRANSITIONS,
    LIFECYCLES,
    MESSAGE_TRANSITIONS,
    PLAN_TRANSITIONS,
    ROUTE_TRANSITIONS,
    TRANSITIONS,
    BatchState,
    DeliveryState,
    MessageStatus,
    OrderState,
    PlanState,
    RouteState,
    can_transition,
    lifecycle_of,
    transition,
)

BATCH = LIFECYCLES[BatchState]


@dataclass
class FakeOrder:
    """A plain record with the three fields the state machine reads (not a mock of our code)."""

    id: str = "x"
    number: int = 7
    state: str = "received"


HAPPY_PATH = ["confirmed", "batched", "planned", "dispatched", "in_transit", "delivered"]


def test_the_happy_path_reaches_delivered() -> None:
    order = FakeOrder()
    for state in HAPPY_PATH:
        transition(order, state)
    assert order.state == "delivered"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (c, t)
        for c, t in product(OrderState, OrderState)
        if t not in TRANSITIONS[c]
    ],
)
def test_every_illegal_transition_is_refused(current: OrderState, target: OrderState) -> None:
    order = FakeOrder(state=current.value)
    with pytest.raises(IllegalTransition) as caught:
        transition(order, target)
    assert order.state == current.value
    assert f"{current.value!r} to {target.value!r}" in str(caught.value)
    assert "#7" in str(caught.value)


@pytest.mark.parametrize(
    ("current", "target"), [(c, t) for c in OrderState for t in TRANSITIONS[c]]
)
def test_every_legal_transition_is_applied(current: OrderState, target: OrderState) -> None:
    order = FakeOrder(state=current.value)
    transition(order, target)
    assert order.state == target.value


def test_delivered_and_cancelled_are_final() -> None:
    assert TRANSITIONS[OrderState.DELIVERED] == frozenset()
    assert TRANSITIONS[OrderState.CANCELLED] == frozenset()


def test_a_failed_delivery_returns_and_can_be_offered_again() -> None:
    order = FakeOrder(state="in_transit")
    for state in ["failed", "returned", "confirmed", "batched"]:
        transition(order, state)
    assert order.state == "batched"


# --- batches, plans, routes and outgoing messages -------------------------------------------------


@dataclass
class FakeRecord:
    """A plain record with what a non-order state machine reads: an id and a state (or status)."""

    id: str = "b1"
    state: str = ""
    status: str = ""


#: Every lifecycle but the order's (tested above), with its enum, table and first word of an error.
OTHERS = [
    pytest.param(BatchState, BATCH_TRANSITIONS, "batch", "state", id="batch"),
    pytest.param(PlanState, PLAN_TRANSITIONS, "plan", "state", id="plan"),
    pytest.param(RouteState, ROUTE_TRANSITIONS, "route", "state", id="route"),
    pytest.param(MessageStatus, MESSAGE_TRANSITIONS, "message", "status", id="message"),
    pytest.param(DeliveryState, DELIVERY_TRANSITIONS, "webhook delivery", "state", id="delivery"),
]


def _moves(legal: bool) -> list[Any]:
    """(states, kind, field, current, target) for every legal (or every illegal) pair of each table."""
    out = []
    for param in OTHERS:
        states, table, kind, field = param.values
        for current, target in product(states, states):
            if (target in table[current]) == legal:
                out.append(pytest.param(kind, field, current, target, id=f"{kind}:{current}->{target}"))
    return out


def _record(field: str, state: StrEnum) -> FakeRecord:
    return FakeRecord(**{field: state.value})


@pytest.mark.parametrize(("kind", "field", "current", "target"), _moves(legal=True))
def test_every_legal_move_of_a_batch_plan_route_or_message_is_applied(
        kind: str, field: str, current: StrEnum, target: StrEnum) -> None:
    record = _record(field, current)
    assert can_transition(current, target)
    transition(record, target)
    assert getattr(record, field) == target.value
    assert type(getattr(record, field)) is type(target)


@pytest.mark.parametrize(("kind", "field", "current", "target"), _moves(legal=False))
def test_every_illegal_move_of_a_batch_plan_route_or_message_is_refused(
        kind: str, field: str, current: StrEnum, target: StrEnum) -> None:
    record = _record(field, current)
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransition) as caught:
        transition(record, target)
    assert getattr(record, field) == current.value
    assert str(caught.value) == f"{kind} b1: cannot go from {current.value!r} to {target.value!r}"
    error = caught.value
    assert (error.kind, error.current, error.target) == (kind, current.value, target.value)


@pytest.mark.parametrize(("states", "table", "kind", "field"), OTHERS)
def test_each_table_names_every_state_and_only_its_own(
        states: type[StrEnum], table: dict[StrEnum, frozenset[StrEnum]], kind: str, field: str) -> None:
    assert set(table) == set(states)
    assert all(type(t) is states for after in table.values() for t in after)
    assert all(state not in table[state] for state in states)  # staying is not a move


def test_stored_values_are_the_strings_the_database_always_held() -> None:
    assert [s.value for s in BatchState] == ["closed", "solving", "solved", "failed"]
    assert [s.value for s in PlanState] == ["proposed", "confirmed", "superseded"]
    assert [s.value for s in RouteState] == ["planned", "active", "done", "cancelled"]
    assert {s.value for s in MessageStatus} == {"received", "inline", "queued", "sending", "accepted",
                                                "sent", "delivered", "undelivered", "failed", "dead"}
    assert BatchState.CLOSED == "closed" and f"{PlanState.CONFIRMED}" == "confirmed"


def test_a_batch_is_solved_fails_is_retried_and_is_planned_again() -> None:
    batch = FakeRecord(state="closed")
    for state in [BatchState.SOLVING, BatchState.FAILED, BatchState.CLOSED, BatchState.SOLVING,
                  BatchState.SOLVED, BatchState.CLOSED, BatchState.SOLVING, BatchState.CLOSED]:
        transition(batch, state)
    assert batch.state == BatchState.CLOSED  # the last solve was stopped by a shutdown: queued again


def test_a_superseded_plan_version_never_changes_again() -> None:
    assert PLAN_TRANSITIONS[PlanState.SUPERSEDED] == frozenset()
    plan = FakeRecord(state="proposed")
    transition(plan, PlanState.CONFIRMED)
    transition(plan, PlanState.SUPERSEDED)
    with pytest.raises(IllegalTransition, match="plan b1: cannot go from 'superseded' to 'confirmed'"):
        transition(plan, PlanState.CONFIRMED)


def test_delivery_callbacks_only_move_a_message_forward() -> None:
    message = FakeRecord(status="queued")
    for status in [MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED]:
        transition(message, status)
    for late in [MessageStatus.ACCEPTED, MessageStatus.SENT, MessageStatus.FAILED]:
        assert not can_transition(message.status, late)
    assert not can_transition(MessageStatus.SENT, MessageStatus.ACCEPTED)
    assert can_transition(MessageStatus.INLINE, MessageStatus.SENT)  # the TwiML reply, once rendered


def test_a_plain_string_target_is_an_order_state() -> None:
    assert lifecycle_of("confirmed").kind == "order"
    assert lifecycle_of(BatchState.FAILED).kind == "batch"
    assert BATCH.sources(BatchState.FAILED) == BATCH_PENDING
