"""The order lifecycle: the one place that knows which state may follow which.

::

    received → confirmed → batched → planned → dispatched → in_transit → delivered
        ↘ cancelled (until the parcel leaves the hub)      in_transit → failed → returned
    batched/planned → confirmed   (unserved, dropped to the next batch, or re-planned)
    dispatched → confirmed        (courier cancelled mid-day: back to the queue)
    in_transit → returned         (courier called off: brought back undelivered)
    returned → confirmed          (offered for the next batch)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from dispatch.errors import IllegalTransition


class OrderState(StrEnum):
    RECEIVED = "received"
    CONFIRMED = "confirmed"
    BATCHED = "batched"
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"
    RETURNED = "returned"


S = OrderState

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.RECEIVED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.BATCHED, S.CANCELLED}),
    S.BATCHED: frozenset({S.PLANNED, S.CONFIRMED, S.CANCELLED}),
    S.PLANNED: frozenset({S.DISPATCHED, S.CONFIRMED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.IN_TRANSIT, S.CONFIRMED, S.CANCELLED}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.FAILED, S.RETURNED}),
    S.FAILED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

#: States in which the order is finished and no longer the service's responsibility.
TERMINAL = frozenset({S.DELIVERED, S.CANCELLED})
#: States in which the resident may still cancel by SMS or on the web.
CANCELLABLE_BY_RESIDENT = frozenset({S.RECEIVED, S.CONFIRMED, S.BATCHED, S.PLANNED})


class HasState(Protocol):
    id: str
    number: int
    state: str


def can_transition(current: str, target: str) -> bool:
    """True when the lifecycle allows ``current`` → ``target``."""
    return OrderState(target) in TRANSITIONS[OrderState(current)]


def transition(order: HasState, target: OrderState | str) -> None:
    """Move ``order`` to ``target`` or raise :class:`IllegalTransition` naming both states."""
    target_state = OrderState(target)
    if not can_transition(order.state, target_state):
        raise IllegalTransition(f"#{order.number}", order.state, target_state.value)
    order.state = target_state.value
