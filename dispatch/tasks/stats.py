"""The solve queue as people and Prometheus see it, read from the database (so every web process
and every engine tells the same story).

The queue of a deployment is its batches: ``closed`` ones wait for a solve, ``solving`` ones are
being solved, ``failed`` ones wait for a person. With procrastinate, its jobs table adds the
engine's own view (waiting, running and failed jobs per queue), the same PostgreSQL rows the
workers read. The outbox and webhook figures are the other queues a prefecture watches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch.lifecycle import BatchState, DeliveryState, MessageStatus
from dispatch.models import Batch, Message, OrderEvent, WebhookDelivery
from dispatch.read import HubScope, scoped


@dataclass(frozen=True)
class SolveQueue:
    """The solves of the hubs in scope: how many wait, since when, how many run or failed."""

    waiting: int
    oldest_waiting_s: float | None  # since the oldest waiting batch was closed
    solving: int
    failed: int


def solve_queue(session: Session, hub_ids: HubScope, now: dt.datetime) -> SolveQueue:
    rows = dict(session.execute(scoped(
        select(Batch.state, func.count()).where(Batch.state.in_(
            (BatchState.CLOSED, BatchState.SOLVING, BatchState.FAILED))).group_by(Batch.state),
        Batch.hub_id, hub_ids)).all())
    oldest = session.scalar(scoped(select(func.min(Batch.closed_at)).where(Batch.state == BatchState.CLOSED),
                                   Batch.hub_id, hub_ids))
    return SolveQueue(
        waiting=rows.get(BatchState.CLOSED, 0),
        oldest_waiting_s=None if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds()),
        solving=rows.get(BatchState.SOLVING, 0), failed=rows.get(BatchState.FAILED, 0))


def engine_jobs(session: Session) -> dict[tuple[str, str], int]:
    """procrastinate's jobs by (queue, status); empty where its tables do not exist (SQLite, local)."""
    if session.get_bind().dialect.name != "postgresql":
        return {}
    present = session.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
    if present is None:
        return {}
    rows = session.execute(text("SELECT queue_name, status::text, count(*) FROM procrastinate_jobs "
                                "GROUP BY queue_name, status"))
    return {(queue, status): count for queue, status, count in rows}


def solve_seconds(session: Session) -> list[float]:
    """The solve time of every solved batch (the histogram's observations)."""
    query = select(Batch.solve_seconds).where(Batch.solve_seconds.is_not(None))
    return [float(seconds) for seconds in session.scalars(query)]


def outbox_lag_s(session: Session, now: dt.datetime) -> tuple[int, float]:
    """(texts waiting to be sent, seconds the oldest of them has waited)."""
    count, oldest = session.execute(select(func.count(), func.min(Message.created_at)).where(
        Message.direction == "out", Message.status.in_((MessageStatus.QUEUED, MessageStatus.SENDING)))).one()
    return int(count), 0.0 if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds())


def webhook_latencies(session: Session, since: dt.datetime) -> list[float]:
    """Seconds from an order event to its webhook's delivery, for deliveries since ``since``."""
    rows = session.execute(select(OrderEvent.recorded_at, WebhookDelivery.delivered_at)
                           .join(OrderEvent, OrderEvent.id == WebhookDelivery.event_id)
                           .where(WebhookDelivery.state == DeliveryState.DELIVERED,
                                  WebhookDelivery.delivered_at >= since))
    return [max(0.0, (_aware(done) - _aware(recorded)).total_seconds()) for recorded, done in rows]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
