"""The order state machine: every legal move works, every other one is refused."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pytest

from dispatch.errors import IllegalTransition
from dispatch.lifecycle import TRANSITIONS, OrderState, transition


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
