"""The volunteers' pages of the console: a hub's week (regular shifts, declared availability,
training and call-outs) and the month's hours (issue 15, items 3 and 4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.localtime import timezone_of_hubs
from dispatch.models import Batch, CallOut, Hub, Volunteer
from dispatch.services.volunteering import DayCell, week


@dataclass(frozen=True)
class CalloutRow:
    volunteer: str
    state: str  # CALLOUT_STATES
    start: dt.datetime  # local
    end: dt.datetime  # local
    sent_at: dt.datetime


@dataclass(frozen=True)
class Week:
    hubs: list[tuple[str, str]]  # (id, name) the viewer may choose
    hub_id: str | None
    days: list[dt.date]
    rows: list[tuple[Volunteer, list[DayCell]]]
    callouts: list[CalloutRow]
    today: dt.date


def volunteer_week(session: Session, hub_ids: Collection[str] | None, hub_id: str | None,
                   first: dt.date | None) -> Week:
    """The week from ``first`` (default: this week's Monday) of ``hub_id`` (default: the first hub
    the viewer may see). A hub outside ``hub_ids`` is not shown (the caller answers 404)."""
    query = select(Hub.id, Hub.name).where(Hub.kind == "hub").order_by(Hub.code)
    if hub_ids is not None:
        query = query.where(Hub.id.in_(list(hub_ids)))
    hubs = [(h, n) for h, n in session.execute(query)]
    tz = timezone_of_hubs(session, hub_ids)
    today = dt.datetime.now(tz).date()
    first = first or today - dt.timedelta(days=today.weekday())
    chosen = hub_id if hub_id in {h for h, _ in hubs} else (hubs[0][0] if hubs and hub_id is None else None)
    days = [first + dt.timedelta(days=i) for i in range(7)]
    if chosen is None:
        return Week(hubs, None, days, [], [], today)
    start = dt.datetime.combine(days[0], dt.time(0), tz)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(0), tz)
    calls = session.execute(
        select(CallOut, Volunteer.name).join(Volunteer, CallOut.volunteer_id == Volunteer.id)
        .join(Batch, CallOut.batch_id == Batch.id)
        .where(Batch.hub_id == chosen, CallOut.shift_start >= start, CallOut.shift_start < end)
        .order_by(CallOut.sent_at.desc()))
    callouts = [CalloutRow(name, c.state, c.shift_start.astimezone(tz), c.shift_end.astimezone(tz), c.sent_at)
                for c, name in calls]
    return Week(hubs, chosen, days, week(session, chosen, first), callouts, today)


def simulator_volunteers(session: Session, hub_ids: Collection[str] | None) -> list[tuple[str, str, str]]:
    """(phone, code, name) of the active volunteers of ``hub_ids``: the SMS simulator lets a trainer
    text as one (availability, a call-out's はい/いいえ)."""
    query = (select(Volunteer.phone, Volunteer.code, Volunteer.name).where(Volunteer.active)
             .order_by(Volunteer.code))
    if hub_ids is not None:
        query = query.where(Volunteer.hub_id.in_(list(hub_ids)))
    return [(phone, code, name) for phone, code, name in session.execute(query)]
