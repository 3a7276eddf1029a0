"""Volunteers' own words and hours (issue 15, items 3 and 4): the availability they text, the week
calendar the console shows, and the hours they gave (for recognition or a regional points scheme).

Hours are the routes a volunteer drove in a confirmed plan, from leaving the hub to coming back
(``Route.depart_at`` → ``return_at``), counted in the month (region time) the route started.
Cancelled routes do not count. The same number orders the call-out (fewest recent hours first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.lifecycle import PlanState, RouteState
from dispatch.localtime import timezone_of, timezone_of_hubs
from dispatch.models import Availability, Hub, Plan, Route, Volunteer
from dispatch.requests import DeclareAvailability
from dispatch.weekdays import WEEKDAYS

#: How far back "recent hours" look when choosing whom to call out first.
RECENT_DAYS = 28


def volunteer_by_phone(session: Session, phone: str) -> Volunteer | None:
    """The active volunteer with this number (the first by code when a number is shared)."""
    return session.scalars(select(Volunteer).where(Volunteer.phone == phone, Volunteer.active)
                           .order_by(Volunteer.code)).first()


def declare(session: Session, volunteer: Volunteer, request: DeclareAvailability, now: dt.datetime,
            *, message_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """Record availability for the day the request names (the latest word for a day wins)."""
    tz = timezone_of(session, volunteer)
    day = request.day(now.astimezone(tz).date())
    row = session.scalars(select(Availability).where(Availability.volunteer_id == volunteer.id,
                                                     Availability.day == day)).first()
    if row is None:
        row = Availability(volunteer_id=volunteer.id, day=day)
        session.add(row)
    row.start, row.end, row.off = request.start, request.end, request.off
    row.message_id, row.updated_at = message_id, now
    if request.off:
        return "availability_off", {"date": day.isoformat()}
    if request.start is None or request.end is None:
        return "availability_day", {"date": day.isoformat()}
    start = dt.datetime.combine(day, request.start, tz)
    end = dt.datetime.combine(day, request.end, tz)
    return "availability_saved", {"window_start": start.astimezone(dt.UTC).isoformat(),
                                  "window_end": end.astimezone(dt.UTC).isoformat()}


# --------------------------------------------------------------------------- the week calendar


@dataclass(frozen=True)
class DayCell:
    """One volunteer on one day: the regular shift and what they declared (None: nothing said)."""

    shift: tuple[dt.time, dt.time] | None
    declared: Availability | None


def on_shift(volunteer: Volunteer, day: dt.date) -> bool:
    """Whether ``day`` is one of the volunteer's regular days (``volunteers.csv`` ``days``)."""
    return WEEKDAYS[day.weekday()] in [str(d).lower()[:3] for d in (volunteer.days or [])]


def week(session: Session, hub_id: str, first: dt.date) -> list[tuple[Volunteer, list[DayCell]]]:
    """The hub's active volunteers and their seven days from ``first``."""
    days = [first + dt.timedelta(days=i) for i in range(7)]
    volunteers = list(session.scalars(select(Volunteer).where(
        Volunteer.hub_id == hub_id, Volunteer.active).order_by(Volunteer.code)))
    declared = {(a.volunteer_id, a.day): a for a in session.scalars(select(Availability).where(
        Availability.volunteer_id.in_([v.id for v in volunteers]),
        Availability.day >= days[0], Availability.day <= days[-1]))}
    return [(v, [DayCell((v.shift_start, v.shift_end) if on_shift(v, d) else None,
                         declared.get((v.id, d))) for d in days]) for v in volunteers]


# --------------------------------------------------------------------------- hours


def route_totals(session: Session, volunteer_ids: list[str], start: dt.datetime,
                 end: dt.datetime) -> dict[str, tuple[int, float]]:
    """(routes, hours) each volunteer drove in confirmed plans, routes leaving in [start, end)."""
    rows = session.execute(
        select(Route.volunteer_id, Route.depart_at, Route.return_at).join(Plan, Route.plan_id == Plan.id)
        .where(Plan.state == PlanState.CONFIRMED, Route.volunteer_id.in_(volunteer_ids),
               Route.state != RouteState.CANCELLED, Route.depart_at >= start, Route.depart_at < end))
    totals: dict[str, tuple[int, float]] = {}
    for volunteer_id, depart, back in rows:
        if depart is not None and back is not None and back > depart:
            routes, hours = totals.get(volunteer_id, (0, 0.0))
            totals[volunteer_id] = (routes + 1, hours + (back - depart).total_seconds() / 3600)
    return totals


def recent_hours(session: Session, volunteer_ids: list[str], now: dt.datetime) -> dict[str, float]:
    """Hours of the last :data:`RECENT_DAYS` days (0 for someone who drove none)."""
    found = route_totals(session, volunteer_ids, now - dt.timedelta(days=RECENT_DAYS), now)
    return {v: found.get(v, (0, 0.0))[1] for v in volunteer_ids}


@dataclass(frozen=True)
class MonthHours:
    code: str
    name: str
    hub: str
    training: tuple[str, ...]
    routes: int
    hours: float


def month_hours(session: Session, hub_ids: Collection[str] | None, month: dt.date) -> list[MonthHours]:
    """Every active volunteer of ``hub_ids`` (None: every hub) with their routes and hours in
    ``month`` (any day of it; months are the region's local calendar)."""
    tz = timezone_of_hubs(session, hub_ids)
    start = dt.datetime.combine(month.replace(day=1), dt.time(0), tz)
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    end = dt.datetime.combine(nxt, dt.time(0), tz)
    query = select(Volunteer, Hub.name).join(Hub, Volunteer.hub_id == Hub.id).where(
        Volunteer.active).order_by(Hub.code, Volunteer.code)
    if hub_ids is not None:
        query = query.where(Volunteer.hub_id.in_(list(hub_ids)))
    volunteers = list(session.execute(query))
    totals = route_totals(session, [v.id for v, _ in volunteers], start, end)
    return [MonthHours(v.code, v.name, hub, tuple(v.training or ()), totals.get(v.id, (0, 0.0))[0],
                       round(totals.get(v.id, (0, 0.0))[1], 2)) for v, hub in volunteers]
