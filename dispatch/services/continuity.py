"""Orders that miss their day are carried on, and the resident is told (issue 13, item 1).

An order that was not delivered on its day — unserved by the plan, back at the hub after a failed
attempt, or still in the queue when its window closed — must not be stranded. Every order ends in
exactly one of three ways: ``delivered``; ``cancelled`` (by the resident or an operator, with the
reason); or ``parked`` for an operator, with the reason, once it has been carried over
``Settings.carry_over_max_days`` times or has failed ``Settings.max_delivery_attempts`` times. Until
then :func:`carry_over` moves it into the next batch it can make:

* **Which orders.** The hub's queued orders (``confirmed``) whose window ends before the delivery
  day of the hub's next open cutoff can fit them (less than an hour of it left); first, the orders
  of an earlier day's batch that was never dispatched (its plan left proposed, or its solve
  failed) are put back into the queue and that plan superseded. Orders wished for
  a later day are not touched: they simply wait for that day's batches (and the batch claim of
  :mod:`dispatch.services.batching` leaves them alone until then).
* **The new window.** The same local clock times on the new day, clipped to that batch's horizon
  (after its cutoff, within the hub's opening hours); when less than an hour of the wish is left,
  the whole rest of that day.
* **Priority rises with age**: one step more urgent per day carried (``3`` low → ``1`` urgent).
* **The resident is told once** which day it is now (``carried_over``, naming the day), and again
  only if that day changes; ``Order.told_day`` remembers what they were told.
* **Parked** orders raise an operator alert; the resident is told that the hub will contact them.
  An operator puts a parked order back into the queue (:func:`requeue_parked`) or cancels it with
  the reason (:func:`cancel_parked`), from the console's Operations page.

The batch scheduler runs :func:`carry_over_hub` for every hub on each sweep, before it closes due
cutoffs, so residents hear of the new day right after the day's last batch has been planned; the
simulator calls the same function at the same moments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import BatchState, OrderState, PlanState, transition
from dispatch.localtime import timezone_of
from dispatch.models import Batch, HandoffEvent, Hub, OperatorAlert, Order, Plan
from dispatch.phrases import Phrase
from dispatch.services import notify
from dispatch.services.batching import cutoff_instants

#: The shortest delivery window offered: less than this left of a wish on a day, and the order
#: takes the whole rest of that day (or, at ordering, the next day).
MIN_WINDOW = dt.timedelta(hours=1)
#: How far ahead the next open cutoff is looked for (a hub closed for a week parks nothing early).
LOOK_AHEAD = dt.timedelta(days=8)


@dataclass(frozen=True)
class NextDay:
    """The delivery day of the hub's next open cutoff: its horizon (aware UTC) and local date."""

    cutoff_at: dt.datetime
    start: dt.datetime
    end: dt.datetime
    day: dt.date


@dataclass
class CarryResult:
    """What one :func:`carry_over_hub` did, by order number."""

    hub_id: str
    released: list[int] = field(default_factory=list)
    carried: list[int] = field(default_factory=list)
    told: list[int] = field(default_factory=list)
    parked: dict[int, str] = field(default_factory=dict)


def next_delivery_day(session: Session, hub: Hub, tz: ZoneInfo, now: dt.datetime) -> NextDay | None:
    """The first cutoff of ``hub`` not closed yet (from the newest closed one on, and not long
    before ``now``) whose delivery day still has :data:`MIN_WINDOW` after it; None when the hub
    has no cutoff within :data:`LOOK_AHEAD`."""
    newest = session.scalar(select(func.max(Batch.cutoff_at)).where(Batch.hub_id == hub.id))
    after = now - dt.timedelta(hours=24)
    if newest is not None:
        after = max(after, newest.replace(tzinfo=dt.UTC) if newest.tzinfo is None else newest)
    for cutoff in cutoff_instants(hub.cutoffs or [], tz, after, now + LOOK_AHEAD):
        local = cutoff.astimezone(tz)
        opens = dt.datetime.combine(local.date(), hub.opens, tz)
        closes = dt.datetime.combine(local.date(), hub.closes, tz)
        start = max(cutoff, opens.astimezone(dt.UTC))
        if closes - max(start, now) >= MIN_WINDOW:  # a day already over is not a delivery day
            return NextDay(cutoff, start, closes.astimezone(dt.UTC), local.date())
    return None


def carry_over_hub(db: Database, hub_id: str, *, now: dt.datetime, settings: Settings) -> CarryResult:
    """Carry over (or park) every queued order of ``hub_id`` that missed its day; tell residents."""
    with db.write() as session:
        hub = session.get(Hub, hub_id)
        if hub is None:
            raise NotFound(f"hub {hub_id!r} does not exist")
        return _carry_over(session, hub, now, settings)


def _carry_over(session: Session, hub: Hub, now: dt.datetime, settings: Settings) -> CarryResult:
    tz = timezone_of(session, hub)
    result = CarryResult(hub.id)
    target = next_delivery_day(session, hub, tz, now)
    if target is None:
        return result
    result.released = _release_unconfirmed(session, hub, tz, now)
    missed = session.scalars(
        select(Order).where(Order.hub_id == hub.id, Order.state == OrderState.CONFIRMED.value,
                            Order.window_end.is_not(None),
                            Order.window_end < target.start + MIN_WINDOW)
        .order_by(Order.number)
    ).all()
    for order in missed:
        reason = _park_reason(session, order, settings)
        if reason is not None:
            _park(session, order, reason, now=now)
            result.parked[order.number] = str(reason)
            continue
        _move_to(order, target, tz, now)
        result.carried.append(order.number)
        if order.told_day != target.day:
            order.told_day = target.day
            if _tell(session, order, "carried_over", {"date": target.day.isoformat()}, now):
                result.told.append(order.number)
    return result


def _release_unconfirmed(session: Session, hub: Hub, tz: ZoneInfo, now: dt.datetime) -> list[int]:
    """Orders of an earlier day's batch (before the hub's local today) that was never dispatched —
    its plan still proposed, or the solve failed — go back to the queue (to be carried on like the
    rest); a proposed plan of that day is superseded, so nobody confirms a plan for a day that is
    over. Such a batch still waiting for its solve is closed as solved with the reason (solving it
    now would plan a day that is over); one being solved right now is left alone. Today's plans stay
    confirmable until midnight (late in the evening an operator may still send them out)."""
    today = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tz).astimezone(dt.UTC)
    rows = session.execute(
        select(Order, Batch).join(Batch, Batch.id == Order.batch_id)
        .where(Batch.hub_id == hub.id, Batch.cutoff_at < today,
               Batch.state.in_((BatchState.CLOSED, BatchState.SOLVED, BatchState.FAILED)),
               Order.state.in_((OrderState.BATCHED.value, OrderState.PLANNED.value)))
        .order_by(Order.number)
    ).all()
    released = []
    for order, batch in rows:
        if session.scalar(select(func.count()).select_from(Plan).where(
                Plan.batch_id == batch.id, Plan.state == PlanState.CONFIRMED)):
            continue  # dispatched plans are revised by disruptions, not here
        for plan in session.scalars(select(Plan).where(Plan.batch_id == batch.id,
                                                       Plan.state == PlanState.PROPOSED)):
            transition(plan, PlanState.SUPERSEDED)
            plan.note = (plan.note + "; " if plan.note else "") + "not confirmed before its day ended"
        if batch.state == BatchState.CLOSED:
            transition(batch, BatchState.SOLVED)
            batch.reason = Phrase("its day ended before it was planned; orders carried on").stored()
            batch.solved_at, batch.solve_seconds = now, 0.0
        transition(order, OrderState.CONFIRMED)
        order.updated_at = now
        released.append(order.number)
    session.flush()
    return released


def failed_attempts(session: Session, order_id: str) -> int:
    """How many times the parcel came back to the hub undelivered (``returned`` custody events)."""
    return session.scalar(select(func.count()).select_from(HandoffEvent).where(
        HandoffEvent.order_id == order_id, HandoffEvent.kind == "returned")) or 0


def _park_reason(session: Session, order: Order, settings: Settings) -> Phrase | None:
    attempts = failed_attempts(session, order.id)
    if attempts >= settings.max_delivery_attempts:
        return Phrase("%(count)s failed delivery attempts", {"count": attempts})
    if order.carried_over >= settings.carry_over_max_days:
        return Phrase("not delivered after %(days)s days carried over", {"days": order.carried_over})
    return None


def window_on(target: NextDay, start: dt.datetime, end: dt.datetime,
              tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The clock times of ``start``-``end`` on the target day, clipped to its horizon; the whole
    horizon when less than :data:`MIN_WINDOW` of them is left (aware UTC)."""
    on_start = max(dt.datetime.combine(target.day, start.astimezone(tz).time(), tz), target.start)
    on_end = min(dt.datetime.combine(target.day, end.astimezone(tz).time(), tz), target.end)
    if on_end - on_start < MIN_WINDOW:
        on_start, on_end = target.start, target.end
    return on_start.astimezone(dt.UTC), on_end.astimezone(dt.UTC)


def _move_to(order: Order, target: NextDay, tz: ZoneInfo, now: dt.datetime) -> None:
    """Carry the order into the target batch (:func:`window_on`); onto a later day, it counts one
    day carried and becomes one step more urgent (a morning wish moved to the same day's afternoon
    batch does neither)."""
    assert order.window_start is not None and order.window_end is not None
    later_day = order.window_start.astimezone(tz).date() < target.day
    order.window_start, order.window_end = window_on(target, order.window_start, order.window_end, tz)
    if later_day:
        order.carried_over += 1
        order.priority = max(1, order.priority - 1)
    order.updated_at = now


def _park(session: Session, order: Order, reason: Phrase, *, now: dt.datetime) -> None:
    """``confirmed → parked`` with the reason; an operator alert, and the resident told."""
    transition(order, OrderState.PARKED)
    order.parked_reason = reason.stored()[:500]
    order.updated_at = now
    session.add(OperatorAlert(hub_id=order.hub_id, kind="order_parked", order_id=order.id,
                              resident_id=order.resident_id, text=reason.stored(), created_at=now))
    _tell(session, order, "order_parked", {}, now)


def requeue_parked(db: Database, order_id: str, *, hub_ids: frozenset[str] | None, now: dt.datetime,
                   settings: Settings) -> int:
    """An operator puts a parked order back into the queue: counters start afresh, and it is carried
    to the hub's next delivery day at once (the resident told). Returns the order number.

    ``hub_ids`` limits it to the operator's hubs (None: every hub, for admins)."""
    with db.write() as session:
        order = _parked(session, order_id, hub_ids)
        transition(order, OrderState.CONFIRMED)
        order.parked_reason, order.carried_over, order.told_day = "", 0, None
        order.updated_at = now
        hub = session.get_one(Hub, order.hub_id)
        tz = timezone_of(session, hub)
        target = next_delivery_day(session, hub, tz, now)
        if target is None:
            raise DomainError("hub %(code)s has no delivery day within %(days)s days",
                              code=hub.code, days=LOOK_AHEAD.days)
        _move_to(order, target, tz, now)
        order.carried_over = 0  # a fresh start: the days it was parked do not count
        order.told_day = target.day
        _tell(session, order, "carried_over", {"date": target.day.isoformat()}, now)
        return order.number


def cancel_parked(db: Database, order_id: str, reason: str, *, hub_ids: frozenset[str] | None,
                  now: dt.datetime) -> int:
    """An operator cancels a parked order with the reason (the resident told)."""
    if not reason.strip():
        raise DomainError("say why the order is cancelled")
    with db.write() as session:
        order = _parked(session, order_id, hub_ids)
        transition(order, OrderState.CANCELLED)
        order.note = reason.strip()[:500]
        order.updated_at = now
        _tell(session, order, "cancelled", {}, now)
        return order.number


def _parked(session: Session, order_id: str, hub_ids: frozenset[str] | None) -> Order:
    order = session.get(Order, order_id)
    if order is None or (hub_ids is not None and order.hub_id not in hub_ids):
        raise NotFound(f"order {order_id!r} does not exist")
    if order.state != OrderState.PARKED.value:
        raise DomainError("order #%(number)s is %(state)s, not parked",
                          number=order.number, state=order.state)
    return order


def _tell(session: Session, order: Order, template: str, params: dict[str, object],
          now: dt.datetime) -> bool:
    return notify.text_resident(session, order, template, params, now=now) is not None
