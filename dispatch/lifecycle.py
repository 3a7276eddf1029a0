"""The lifecycles of orders, batches, plans, routes and outgoing messages: the one place that knows
which state may follow which.

Every state is a :class:`~enum.StrEnum` whose values are the strings stored in the database, so
``BatchState.CLOSED == "closed"`` and stored data never changes. :func:`transition` is the one way
to move a record: it refuses a move its table does not list with :class:`IllegalTransition`. Staying
in the same state is not a move (it is refused too); a caller that may repeat itself checks first.

Orders::

    received → confirmed → batched → planned → dispatched → in_transit → delivered
        ↘ cancelled (until the parcel leaves the hub)      in_transit → failed → returned
    batched/planned → confirmed   (unserved, dropped to the next batch, or re-planned)
    dispatched → confirmed        (courier cancelled mid-day: back to the queue)
    in_transit → returned         (courier called off: brought back undelivered)
    returned → confirmed          (offered for the next batch)
    confirmed → parked            (missed too many days or attempts: for an operator, with the reason)
    parked → confirmed | cancelled (the operator puts it back into the queue, or cancels it)

Batches (``dispatch.services.solving``; a batch is created ``closed``)::

    closed → solving → solved | failed
    closed → solved               (closed with no orders: nothing to plan)
    closed → failed               (its solve crashed or timed out, seen from outside)
    solving → closed              (solve stopped by a shutdown, or its scheduler died: queued again)
    failed → closed               (retried by a person)
    solved → closed               (re-plan requested: ``Batch.replan_reason`` says why)

Plans (a version is stored ``proposed``; versions never change otherwise)::

    proposed → confirmed | superseded      confirmed → superseded (revised by a disruption)

Routes (a route is stored ``planned``)::

    planned → active → done
    planned → cancelled           (its courier was called off; a drone sortie aborted on the ground)
    active → cancelled            (a drone sortie aborted in the air: it turns back)

Outgoing messages (``dispatch.services.outbox``; inbound ones stay ``received``)::

    queued → sending → sent → delivered | undelivered | failed
    inline → sent                (a reply given in the webhook's TwiML answer: never sent again)
    sending → queued (transient error: retried with backoff)     sending → dead (permanent, opted out)
    sending/accepted → accepted/sent/delivered/undelivered/failed (delivery callbacks move forward only)

Webhook deliveries (``dispatch.services.webhooks``; a delivery is stored ``queued``)::

    queued → sending → delivered | queued (answer not 2xx: retried with backoff) | dead
    sending → queued              (its sender died mid-request: sent again, receivers dedupe by id)
    dead → queued                 (an admin asked for it again)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
    PARKED = "parked"


class BatchState(StrEnum):
    CLOSED = "closed"  # queued for a solve
    SOLVING = "solving"
    SOLVED = "solved"
    FAILED = "failed"  # Batch.reason says why


class PlanState(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    SUPERSEDED = "superseded"


class RouteState(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


class MessageStatus(StrEnum):
    RECEIVED = "received"  # inbound
    INLINE = "inline"  # a reply given in the webhook's HTTP response (TwiML)
    QUEUED = "queued"
    SENDING = "sending"
    ACCEPTED = "accepted"  # the provider took it (callback)
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # the provider reported a failure (callback)
    DEAD = "dead"  # never sent: permanent error, out of attempts, or opted out


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"  # out of attempts, or the endpoint was removed


S = OrderState

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.RECEIVED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.BATCHED, S.CANCELLED, S.PARKED}),
    S.BATCHED: frozenset({S.PLANNED, S.CONFIRMED, S.CANCELLED}),
    S.PLANNED: frozenset({S.DISPATCHED, S.CONFIRMED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.IN_TRANSIT, S.CONFIRMED, S.CANCELLED}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.FAILED, S.RETURNED}),
    S.FAILED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.PARKED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

B = BatchState

BATCH_TRANSITIONS: dict[BatchState, frozenset[BatchState]] = {
    B.CLOSED: frozenset({B.SOLVING, B.SOLVED, B.FAILED}),
    B.SOLVING: frozenset({B.SOLVED, B.FAILED, B.CLOSED}),
    B.SOLVED: frozenset({B.CLOSED}),
    B.FAILED: frozenset({B.CLOSED}),
}

P = PlanState

PLAN_TRANSITIONS: dict[PlanState, frozenset[PlanState]] = {
    P.PROPOSED: frozenset({P.CONFIRMED, P.SUPERSEDED}),
    P.CONFIRMED: frozenset({P.SUPERSEDED}),
    P.SUPERSEDED: frozenset(),
}

R = RouteState

ROUTE_TRANSITIONS: dict[RouteState, frozenset[RouteState]] = {
    R.PLANNED: frozenset({R.ACTIVE, R.CANCELLED}),
    R.ACTIVE: frozenset({R.DONE, R.CANCELLED}),
    R.DONE: frozenset(),
    R.CANCELLED: frozenset(),
}

M = MessageStatus

#: What a provider's delivery callback may report, in the order it can arrive.
_REPORTED = frozenset({M.ACCEPTED, M.SENT, M.DELIVERED, M.UNDELIVERED, M.FAILED})

MESSAGE_TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    M.RECEIVED: frozenset(),
    M.INLINE: frozenset({M.SENT}),
    M.QUEUED: frozenset({M.SENDING}),
    M.SENDING: frozenset({M.QUEUED, M.DEAD}) | _REPORTED,
    M.ACCEPTED: _REPORTED - {M.ACCEPTED},
    M.SENT: frozenset({M.DELIVERED, M.UNDELIVERED, M.FAILED}),
    M.DELIVERED: frozenset(),
    M.UNDELIVERED: frozenset(),
    M.FAILED: frozenset(),
    M.DEAD: frozenset(),
}

D = DeliveryState

DELIVERY_TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    D.QUEUED: frozenset({D.SENDING, D.DEAD}),
    D.SENDING: frozenset({D.DELIVERED, D.QUEUED, D.DEAD}),
    D.DELIVERED: frozenset(),
    D.DEAD: frozenset({D.QUEUED}),
}

#: States in which the order is finished and no longer the service's responsibility.
TERMINAL = frozenset({S.DELIVERED, S.CANCELLED})
#: States in which the resident may still cancel by SMS or on the web.
CANCELLABLE_BY_RESIDENT = frozenset({S.RECEIVED, S.CONFIRMED, S.BATCHED, S.PLANNED, S.PARKED})
#: Batch states in which a solve is still to come or running (a requested re-plan is on its way).
BATCH_PENDING = frozenset({B.CLOSED, B.SOLVING})
#: Route states in which the courier still carries out the route.
ROUTE_WORKING = frozenset({R.PLANNED, R.ACTIVE})


@dataclass(frozen=True)
class Lifecycle:
    """One record kind's states and transition table, and how to name a record in an error."""

    kind: str  # "order", "batch", ...: the first word of an IllegalTransition's message
    states: type[StrEnum]
    table: Mapping[Any, frozenset[Any]]
    field: str = "state"  # the attribute that holds the state ("status" for messages)
    ref: Callable[[Any], str] = lambda record: str(record.id)

    def allows(self, current: str, target: str) -> bool:
        """True when the table allows ``current`` → ``target`` (both must be states of this kind)."""
        return self.states(target) in self.table[self.states(current)]

    def sources(self, target: str) -> frozenset[StrEnum]:
        """The states from which ``target`` may be reached (for conditional ``UPDATE`` statements)."""
        wanted = self.states(target)
        return frozenset(state for state, after in self.table.items() if wanted in after)


LIFECYCLES: dict[type[StrEnum], Lifecycle] = {
    OrderState: Lifecycle("order", OrderState, TRANSITIONS, ref=lambda order: f"#{order.number}"),
    BatchState: Lifecycle("batch", BatchState, BATCH_TRANSITIONS),
    PlanState: Lifecycle("plan", PlanState, PLAN_TRANSITIONS),
    RouteState: Lifecycle("route", RouteState, ROUTE_TRANSITIONS),
    MessageStatus: Lifecycle("message", MessageStatus, MESSAGE_TRANSITIONS, field="status"),
    DeliveryState: Lifecycle("webhook delivery", DeliveryState, DELIVERY_TRANSITIONS),
}


def lifecycle_of(target: StrEnum | str) -> Lifecycle:
    """The lifecycle ``target`` belongs to: the one of its enum; a plain string is an order state
    (orders had a state machine first, and their callers pass strings)."""
    return LIFECYCLES[type(target) if isinstance(target, StrEnum) else OrderState]


def can_transition(current: str, target: StrEnum | str) -> bool:
    """True when the lifecycle of ``target`` allows ``current`` → ``target``."""
    return lifecycle_of(target).allows(current, target)


def transition(record: Any, target: StrEnum | str) -> None:
    """Move ``record`` to ``target`` or raise :class:`IllegalTransition` naming both states.

    The target's enum picks the table (``transition(batch, BatchState.CLOSED)``); a plain string
    is an order state, as in ``transition(order, "confirmed")``.
    """
    life = lifecycle_of(target)
    wanted = life.states(target)
    current = getattr(record, life.field)
    if not life.allows(current, wanted):
        raise IllegalTransition(life.ref(record), str(current), wanted.value, kind=life.kind)
    setattr(record, life.field, wanted)
