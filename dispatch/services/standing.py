"""Standing orders: the same items every week (or every N weeks) on a weekday (issue 15, item 2).

A resident sets one by SMS (``定期 米2 毎週火曜``), on the residents' page, through a proxy, or an
operator sets it in the console; all go through :func:`set_standing`. Pause, resume and stop
(:func:`change_state`) are reachable the same ways.

**The day before** each delivery day, from :data:`REMIND_AT` local time, the batch scheduler's sweep
(:func:`run_due`) places that occurrence's order (channel ``standing``, for the next day) and texts
the resident the reminder 「明日 米2 をお届けします。不要なら 取消 と返信」. The order then waits
in the queue like any other and enters the next day's batch at its cutoff, unless the resident
answers ``取消`` (the reminder's order is their newest, which a bare ``取消`` cancels) or cancels
it on the page. A sweep that runs late (no scheduler at 16:00) still places the day's
occurrence the next morning, so none is forgotten.

**Exactly once**: each (standing order, day) gets one :class:`~dispatch.models.StandingOccurrence`
row, written in the same transaction as its order; the unique key makes a second sweep, a second
process or a retry find it and do nothing.

**Closures and holidays** (:class:`~dispatch.models.HubClosure`, set on the console's Operations
page): an occurrence on a day the resident's hub is closed is recorded as ``closed``, no order is
placed, and the resident is told the day before, naming the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.localtime import timezone_of
from dispatch.models import HubClosure, Resident, StandingOccurrence, StandingOrder
from dispatch.models.standing import STANDING_STATES
from dispatch.requests import AskStanding, ChangeStanding, ItemRequest, SetStanding, TimeWish
from dispatch.services import notify, ordering, outbox
from dispatch.services.free_text import checked_text
from dispatch.services.proxies import resident_in_scope

#: Local time from which the day before's reminder is sent and the occurrence's order placed.
REMIND_AT = dt.time(16, 0)
#: The longest interval between two deliveries of a standing order, in weeks.
MAX_EVERY_WEEKS = 4
PARTS = ("any", "morning", "afternoon", "evening")


def next_occurrence(standing: StandingOrder, on_or_after: dt.date) -> dt.date:
    """The first delivery day of ``standing`` on or after ``on_or_after``."""
    start = max(standing.first_day, on_or_after)
    period = 7 * standing.every_weeks
    behind = (start - standing.first_day).days % period
    return start if behind == 0 else start + dt.timedelta(days=period - behind)


def _first_day(weekday: int, today: dt.date) -> dt.date:
    """The first ``weekday`` after ``today`` (never today: its reminder was due yesterday)."""
    return today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _checked(items: Sequence[ItemRequest], weekday: int, every_weeks: int, part: str) -> None:
    if not items:
        raise DomainError("a standing order needs at least one item")
    if len(items) > ordering.MAX_ITEMS:
        raise DomainError(
            "an order has at most %(most)s items, got %(count)s", most=ordering.MAX_ITEMS, count=len(items)
        )
    for item in items:
        if not 1 <= item.quantity <= ordering.MAX_QUANTITY:
            raise DomainError(
                "quantity of '%(name)s' must be 1-%(most)s, got %(quantity)s",
                name=item.name,
                most=ordering.MAX_QUANTITY,
                quantity=item.quantity,
            )
    if not 0 <= weekday <= 6:
        raise DomainError("weekday must be 0 (Monday) to 6 (Sunday), got %(weekday)s", weekday=weekday)
    if not 1 <= every_weeks <= MAX_EVERY_WEEKS:
        raise DomainError(
            "a standing order comes every 1 to %(most)s weeks, got %(weeks)s",
            most=MAX_EVERY_WEEKS,
            weeks=every_weeks,
        )
    if part not in PARTS:
        raise DomainError("unknown part of the day '%(part)s'", part=part)


def set_standing(
    session: Session,
    resident: Resident,
    items: Sequence[ItemRequest],
    *,
    weekday: int,
    every_weeks: int = 1,
    part: str = "any",
    channel: str,
    now: dt.datetime,
    proxy_id: str | None = None,
    user_id: str | None = None,
) -> StandingOrder:
    """Create a standing order for ``resident`` inside ``session``; its first day is the next
    ``weekday`` after today (local)."""
    _checked(items, weekday, every_weeks, part)
    if not resident.active:
        raise DomainError("resident %(code)s is not active", code=resident.code)
    today = now.astimezone(timezone_of(session, resident)).date()
    standing = StandingOrder(
        resident_id=resident.id,
        items=[[i.name.strip()[:200], i.quantity, i.unit] for i in items],
        weekday=weekday,
        every_weeks=every_weeks,
        first_day=_first_day(weekday, today),
        part=part,
        state="active",
        channel=channel,
        proxy_id=proxy_id,
        user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(standing)
    session.flush()
    return standing


def change_state(
    session: Session, resident_id: str, state: str, now: dt.datetime, standing_id: str | None = None
) -> list[StandingOrder]:
    """Pause (``paused``), resume (``active``) or stop (``stopped``) the resident's standing
    orders (or only ``standing_id``); returns those changed. A stopped one never comes back."""
    if state not in STANDING_STATES:
        raise DomainError("unknown standing order state '%(state)s'", state=state)
    query = select(StandingOrder).where(
        StandingOrder.resident_id == resident_id, StandingOrder.state != "stopped"
    )
    if standing_id is not None:
        query = query.where(StandingOrder.id == standing_id)
    changed = [s for s in session.scalars(query) if s.state != state]
    for standing in changed:
        standing.state, standing.updated_at = state, now
    return changed


def by_sms(
    session: Session,
    resident: Resident,
    request: SetStanding | ChangeStanding | AskStanding,
    now: dt.datetime,
    *,
    proxy_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A resident's (or, with ``proxy_id``, their proxy's) ``定期 …`` text, inside the inbound
    message's transaction; returns the reply (template, parameters)."""
    if isinstance(request, SetStanding):
        standing = set_standing(
            session,
            resident,
            request.items,
            weekday=request.weekday,
            every_weeks=request.every_weeks,
            part=request.part,
            channel="proxy" if proxy_id else "sms",
            now=now,
            proxy_id=proxy_id,
        )
        return "standing_set", {**standing_params(standing), "date": standing.first_day.isoformat()}
    if isinstance(request, ChangeStanding):
        changed = change_state(session, resident.id, request.state, now)
        return (f"standing_{request.state}", {"count": len(changed)}) if changed else ("standing_none", {})
    current = session.scalars(
        select(StandingOrder)
        .where(StandingOrder.resident_id == resident.id, StandingOrder.state != "stopped")
        .order_by(StandingOrder.created_at.desc())
    ).first()
    if current is None:
        return "standing_none", {}
    if current.state == "paused":
        return "standing_status_paused", standing_params(current)
    today = now.astimezone(timezone_of(session, resident)).date()
    day = next_occurrence(current, today + dt.timedelta(days=1))
    return "standing_status", {**standing_params(current), "date": day.isoformat()}


def standing_params(standing: StandingOrder) -> dict[str, Any]:
    """Template parameters for texts about ``standing`` (items, weekday, interval)."""
    return {"items": standing.items, "weekday": standing.weekday, "every": standing.every_weeks}


# ------------------------------------------------------------------------------ the daily run


@dataclass
class RunResult:
    """What one :func:`run_due` did: order numbers placed, and (resident code, day) closures."""

    placed: list[int] = field(default_factory=list)
    closed: list[tuple[str, dt.date]] = field(default_factory=list)


def _due_days(now_local: dt.datetime) -> list[tuple[dt.date, int]]:
    """(delivery day, days from today) whose reminder is due by ``now_local``: today (a late
    run) and, from :data:`REMIND_AT` on, tomorrow."""
    today = now_local.date()
    days = [(today, 0)]
    if now_local.time() >= REMIND_AT:
        days.append((today + dt.timedelta(days=1), 1))
    return days


def run_due(db: Database, *, now: dt.datetime) -> RunResult:
    """Place every standing order's occurrence whose reminder is due (see the module's doc).

    The sweep calls this every tick: the due ones are found in one read, and only those get a
    write transaction (each its own, so one resident's problem does not hold back the others).
    """
    result = RunResult()
    with db.read() as session:
        due = [
            so.id
            for so in session.scalars(
                select(StandingOrder)
                .where(StandingOrder.state == "active")
                .order_by(StandingOrder.created_at)
            )
            if _due_day(session, so, now) is not None
        ]
    for standing_id in due:
        with db.write() as session:
            _run_one(session, standing_id, now, result)
    return result


def _due_day(session: Session, standing: StandingOrder, now: dt.datetime) -> tuple[dt.date, int] | None:
    """The (day, days from today) of ``standing``'s occurrence due at ``now`` and not yet recorded."""
    resident = session.get(Resident, standing.resident_id)
    if resident is None or not resident.active:
        return None
    local = now.astimezone(timezone_of(session, resident))
    for day, offset in _due_days(local):
        if next_occurrence(standing, day) == day and not _recorded(session, standing.id, day):
            return day, offset
    return None


def _run_one(session: Session, standing_id: str, now: dt.datetime, result: RunResult) -> None:
    standing = session.get(StandingOrder, standing_id)
    if standing is None or standing.state != "active":
        return
    resident = session.get(Resident, standing.resident_id)
    assert resident is not None
    while (found := _due_day(session, standing, now)) is not None:
        day, offset = found
        closure = session.scalars(
            select(HubClosure).where(HubClosure.hub_id == resident.hub_id, HubClosure.day == day)
        ).first()
        occurrence = StandingOccurrence(
            standing_order_id=standing.id, day=day, created_at=now, outcome="closed" if closure else "placed"
        )
        try:
            with session.begin_nested():
                session.add(occurrence)
        except IntegrityError:
            return  # another sweep recorded this day first (its next run sees the rest)
        if closure is not None:
            outbox.queue(
                session,
                resident.phone,
                "standing_closed",
                {"date": day.isoformat(), **standing_params(standing)},
                resident.language,
                resident_id=resident.id,
                now=now,
                dedupe_key=f"standing_closed:{standing.id}:{day.isoformat()}",
            )
            result.closed.append((resident.code, day))
            continue
        items = [ItemRequest(str(n), int(q), u) for n, q, u in standing.items]
        order = ordering.create_order(
            session,
            resident,
            items,
            channel="standing",
            now=now,
            time_wish=TimeWish(offset, standing.part),
            proxy_id=standing.proxy_id,
            entered_by_user_id=standing.user_id,
        )
        occurrence.order_id = order.id
        notify.text_resident(
            session,
            order,
            "standing_reminder",
            {**ordering.order_params(order), "date": day.isoformat()},
            now=now,
            dedupe_key=f"standing_reminder:{order.id}",
        )
        result.placed.append(order.number)


def _recorded(session: Session, standing_id: str, day: dt.date) -> bool:
    return (
        session.scalar(
            select(StandingOccurrence.id).where(
                StandingOccurrence.standing_order_id == standing_id, StandingOccurrence.day == day
            )
        )
        is not None
    )


# ------------------------------------------------------------------------------- use cases


def create(
    db: Database,
    resident_id: str,
    items: Sequence[ItemRequest],
    *,
    weekday: int,
    every_weeks: int,
    part: str,
    channel: str,
    now: dt.datetime,
    proxy_id: str | None = None,
    user_id: str | None = None,
    hub_ids: set[str] | None = None,
) -> str:
    """The web and console use case: set a standing order and text the resident its terms."""
    with db.write() as session:
        resident = resident_in_scope(session, resident_id, hub_ids)
        standing = set_standing(
            session,
            resident,
            items,
            weekday=weekday,
            every_weeks=every_weeks,
            part=part,
            channel=channel,
            now=now,
            proxy_id=proxy_id,
            user_id=user_id,
        )
        outbox.queue(
            session,
            resident.phone,
            "standing_set",
            {**standing_params(standing), "date": standing.first_day.isoformat()},
            resident.language,
            resident_id=resident.id,
            now=now,
        )
        return standing.id


def update_state(
    db: Database,
    resident_id: str,
    standing_id: str,
    state: str,
    *,
    now: dt.datetime,
    hub_ids: set[str] | None = None,
) -> bool:
    """The web and console use case: pause, resume or stop one standing order; the resident is
    texted what changed. False when it was in that state already."""
    with db.write() as session:
        resident = resident_in_scope(session, resident_id, hub_ids)
        changed = change_state(session, resident_id, state, now, standing_id)
        if changed:
            outbox.queue(
                session,
                resident.phone,
                f"standing_{state}",
                {"count": len(changed)},
                resident.language,
                resident_id=resident.id,
                now=now,
            )
        return bool(changed)


def close_hub_day(
    db: Database, hub_ids: Sequence[str], day: dt.date, reason: str, *, user_id: str | None, now: dt.datetime
) -> int:
    """Record that ``hub_ids`` deliver nothing on ``day`` (a holiday: every hub of the region);
    returns how many closures are new. Standing orders due that day are skipped, with notice."""
    reason = checked_text(reason, "reason", 200)
    added = 0
    with db.write() as session:
        for hub_id in hub_ids:
            if (
                session.scalar(
                    select(HubClosure.id).where(HubClosure.hub_id == hub_id, HubClosure.day == day)
                )
                is None
            ):
                session.add(
                    HubClosure(hub_id=hub_id, day=day, reason=reason, created_by=user_id, created_at=now)
                )
                added += 1
    return added


def reopen_hub_day(db: Database, closure_id: str, *, hub_ids: set[str] | None = None) -> None:
    """Remove a closure (a day entered by mistake); occurrences already skipped stay skipped."""
    with db.write() as session:
        closure = session.get(HubClosure, closure_id)
        if closure is None or (hub_ids is not None and closure.hub_id not in hub_ids):
            raise NotFound(f"closure {closure_id} not found")
        session.delete(closure)
