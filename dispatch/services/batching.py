"""Closing a hub's batch at a cutoff: idempotent, with orders claimed atomically.

The boundary rule (see docs/scheduler.md)
-----------------------------------------
The batch of hub *H* at cutoff instant *C* takes every order of *H* that, when the batch is closed,
is committed, in state ``confirmed``, has ``created_at <= C`` and wants delivery no later than
*C*'s delivery day (its window starts before the hub closes that day: an order wished for tomorrow
waits for tomorrow's batches instead of filling today's plan with an order it cannot serve).
``created_at == C`` belongs to *C*; ``C + 1 µs`` belongs to the next cutoff. An order that misses
its batch (it was still ``received``, or its transaction committed after the close) is taken by the
first later batch of its hub, because its ``created_at`` is also before every later cutoff. Nothing
is ever left behind by the rule (an order whose day passed is carried on:
:mod:`dispatch.services.continuity`).

Exactly once
------------
* The batch key is (hub, cutoff instant), unique in the schema: closing the same key twice returns
  the existing batch and claims nothing.
* Claiming moves ``confirmed → batched`` in the same write transaction that inserts the batch, and
  only touches rows still ``confirmed``; so two closings (say a catch-up and a close-early racing)
  can never both take an order. An order is in at most one batch.
* SQLite: the write transaction starts with ``BEGIN IMMEDIATE`` (see :mod:`dispatch.db`), so the
  claim, one ``UPDATE ... RETURNING``, runs with the database's single write lock held.
* PostgreSQL: the hub row is locked first (closings of one hub queue behind each other), then the
  orders are read ``FOR UPDATE SKIP LOCKED``: a row another transaction is changing right now (a
  cancel, say) is skipped and left for the next batch instead of blocking the close.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import BatchState, OrderState, can_transition, transition
from dispatch.localtime import timezone_of
from dispatch.models import Batch, Hub, Order

#: How far back the catch-up looks for missed cutoffs (see :func:`due_cutoffs`).
CATCH_UP_WINDOW = dt.timedelta(hours=24)

#: The reason recorded on a batch that closed with no orders (it is ``solved`` at once: nothing to plan).
EMPTY_REASON = "no confirmed orders at the cutoff"

# The SQLite claim is one UPDATE statement rather than a call to ``transition`` per order; it is
# only correct while the lifecycle allows exactly this move, so check it once at import.
if not can_transition(OrderState.CONFIRMED, OrderState.BATCHED):  # pragma: no cover - a guard
    raise RuntimeError("the lifecycle no longer allows confirmed → batched; update the batch claim")


@dataclass(frozen=True)
class CloseResult:
    """What :func:`close_batch` did: ``created`` is False when the batch already existed."""

    batch_id: str
    hub_id: str
    cutoff_at: dt.datetime
    created: bool
    order_ids: tuple[str, ...]
    state: BatchState


def close_batch(db: Database, hub_id: str, cutoff_at: dt.datetime, *, now: dt.datetime) -> CloseResult:
    """Close the batch of ``hub_id`` at ``cutoff_at`` and claim its orders; idempotent.

    ``cutoff_at`` may not lie after ``now``: a batch closed early for a future cutoff would claim
    orders that by the boundary rule might belong to it and leave out ones created before the
    cutoff but after the close. Close early with ``cutoff_at = now`` instead
    (:func:`close_early_if_full`).
    """
    _check_instant(cutoff_at, now)
    with db.write() as session:
        hub = _lock_hub(session, db.dialect, hub_id)
        existing = _existing_batch(session, hub_id, cutoff_at)
        if existing is not None:
            return existing
        return _open_batch(session, db.dialect, hub, cutoff_at, now)


def close_early_if_full(db: Database, hub_id: str, threshold: int, *, now: dt.datetime) -> CloseResult | None:
    """Close a batch of ``hub_id`` at ``now`` when it has ``threshold`` or more waiting orders.

    The count and the close run in one write transaction (with the hub row locked on PostgreSQL),
    so two callers cannot both decide the hub is full and close two batches of the same orders.
    """
    with db.write() as session:
        hub = _lock_hub(session, db.dialect, hub_id)
        waiting = session.scalar(
            select(func.count()).select_from(Order).where(_claimable(session, hub, now))
        ) or 0
        if waiting < threshold:
            return None
        existing = _existing_batch(session, hub_id, now)
        if existing is not None:
            return existing
        return _open_batch(session, db.dialect, hub, now, now)


def waiting_orders(db: Database, hub_id: str, now: dt.datetime) -> int:
    """How many orders of ``hub_id`` a batch closed at ``now`` would take."""
    with db.read() as session:
        hub = session.get(Hub, hub_id)
        if hub is None:
            raise NotFound(f"hub {hub_id!r} does not exist")
        return session.scalar(select(func.count()).select_from(Order).where(
            _claimable(session, hub, now))) or 0


def _check_instant(cutoff_at: dt.datetime, now: dt.datetime) -> None:
    if cutoff_at.tzinfo is None:
        raise ValueError(f"cutoff {cutoff_at.isoformat()} is naive; give an aware instant")
    if cutoff_at > now:
        raise DomainError("cutoff %(cutoff)s is after now (%(now)s); a batch can only close at or after its "
                          "cutoff",
                          cutoff=cutoff_at, now=now)


def _claimable(session: Session, hub: Hub, cutoff_at: dt.datetime) -> ColumnElement[bool]:
    """The boundary rule as SQL: the hub's orders still ``confirmed``, created at or before the
    cutoff, whose window starts before the hub closes on the cutoff's delivery day."""
    tz = timezone_of(session, hub)
    day_closes = dt.datetime.combine(cutoff_at.astimezone(tz).date(), hub.closes, tz)
    return and_(Order.hub_id == hub.id, Order.state == OrderState.CONFIRMED.value,
                Order.created_at <= cutoff_at,
                or_(Order.window_start.is_(None), Order.window_start < day_closes.astimezone(dt.UTC)))


def _lock_hub(session: Session, dialect: str, hub_id: str) -> Hub:
    query = select(Hub).where(Hub.id == hub_id)
    if dialect != "sqlite":  # SQLite already holds the database write lock (BEGIN IMMEDIATE)
        query = query.with_for_update()
    hub = session.scalars(query).one_or_none()
    if hub is None:
        raise NotFound(f"hub {hub_id!r} does not exist")
    return hub


def _existing_batch(session: Session, hub_id: str, cutoff_at: dt.datetime) -> CloseResult | None:
    """The batch already closed for this key (``created=False``, nothing claimed), if any."""
    existing = session.scalars(
        select(Batch).where(Batch.hub_id == hub_id, Batch.cutoff_at == cutoff_at)
    ).one_or_none()
    if existing is None:
        return None
    return CloseResult(existing.id, hub_id, cutoff_at, False, (), existing.state)


def _open_batch(session: Session, dialect: str, hub: Hub, cutoff_at: dt.datetime,
                now: dt.datetime) -> CloseResult:
    """Insert the batch and claim its orders (the hub is locked and the key is free)."""
    batch = Batch(hub_id=hub.id, cutoff_at=cutoff_at, state=BatchState.CLOSED, closed_at=now)
    session.add(batch)
    session.flush()
    claim = _claim_sqlite if dialect == "sqlite" else _claim_locking
    order_ids = tuple(sorted(claim(session, hub, cutoff_at, batch.id, now)))
    if not order_ids:
        transition(batch, BatchState.SOLVED)  # nothing to plan
        batch.reason = EMPTY_REASON
        batch.solved_at, batch.solve_seconds = now, 0.0
    return CloseResult(batch.id, hub.id, cutoff_at, True, order_ids, batch.state)


def _claim_sqlite(session: Session, hub: Hub, cutoff_at: dt.datetime, batch_id: str,
                  now: dt.datetime) -> list[str]:
    """One ``UPDATE ... RETURNING`` under the write lock taken by ``BEGIN IMMEDIATE``."""
    statement = (
        update(Order).where(_claimable(session, hub, cutoff_at))
        .values(state=OrderState.BATCHED.value, batch_id=batch_id, updated_at=now)
        .returning(Order.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(statement))


def _claim_locking(session: Session, hub: Hub, cutoff_at: dt.datetime, batch_id: str,
                   now: dt.datetime) -> list[str]:
    """``SELECT ... FOR UPDATE SKIP LOCKED``, then the lifecycle's own transition per order."""
    orders = session.scalars(
        select(Order).where(_claimable(session, hub, cutoff_at)).with_for_update(skip_locked=True, of=Order)
    ).all()
    for order in orders:
        transition(order, OrderState.BATCHED)
        order.batch_id = batch_id
        order.updated_at = now
    return [order.id for order in orders]


def parse_cutoff(text: str) -> dt.time:
    """``"HH:MM"`` → :class:`datetime.time`; anything else raises ``ValueError`` naming the value."""
    try:
        hours, minutes = text.split(":")
        return dt.time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise ValueError(f"cutoff {text!r} is not a local time HH:MM") from None


def cutoff_instants(cutoffs: Iterable[str], tz: ZoneInfo, after: dt.datetime,
                    until: dt.datetime) -> list[dt.datetime]:
    """Every instant in ``(after, until]`` at which one of the local ``"HH:MM"`` ``cutoffs`` falls.

    The result is ascending and in UTC. Local times are read in ``tz`` on each calendar day, so a
    cutoff stays at the same wall-clock time across a daylight-saving change.
    """
    times = sorted({parse_cutoff(c) for c in cutoffs})
    first, last = after.astimezone(tz).date(), until.astimezone(tz).date()
    found: list[dt.datetime] = []
    day = first
    while day <= last:
        for time in times:
            instant = dt.datetime.combine(day, time, tzinfo=tz).astimezone(dt.UTC)
            if after < instant <= until:
                found.append(instant)
        day += dt.timedelta(days=1)
    return found


def due_cutoffs(db: Database, hub_id: str, now: dt.datetime) -> list[dt.datetime]:
    """The cutoffs of ``hub_id`` that have passed and are not closed yet, oldest first.

    The catch-up rule: every cutoff after the hub's newest batch (early batches count) and within
    :data:`CATCH_UP_WINDOW` of ``now``. A hub that has never had a batch starts with its most recent
    passed cutoff only. The window bounds how many past batches are recreated, never which orders are
    served: an order older than the window is taken by the first batch inside it.
    """
    with db.read() as session:
        hub = session.get(Hub, hub_id)
        if hub is None:
            raise NotFound(f"hub {hub_id!r} does not exist")
        cutoffs, tz = list(hub.cutoffs), timezone_of(session, hub)
        newest = session.scalar(select(func.max(Batch.cutoff_at)).where(Batch.hub_id == hub_id))
    window_start = now - CATCH_UP_WINDOW
    if newest is None:
        return cutoff_instants(cutoffs, tz, window_start, now)[-1:]
    return cutoff_instants(cutoffs, tz, max(newest, window_start), now)


def close_due_batches(db: Database, hub_id: str, *, now: dt.datetime) -> list[CloseResult]:
    """Close every due cutoff of ``hub_id`` (:func:`due_cutoffs`) in order; the scheduler's one job.

    Safe to run from several threads or processes at once: each close is idempotent, and cutoffs
    are closed oldest first, so a waiting order lands in the earliest batch it belongs to. Each
    close is its own transaction, so one hub's long backlog never holds the write lock for long.
    """
    return [close_batch(db, hub_id, cutoff, now=now) for cutoff in due_cutoffs(db, hub_id, now)]
