"""Calling out volunteers when a batch is short of couriers (issue 15, item 3).

A batch is *short* when its proposed plan leaves orders unserved for want of a courier (the
solver's ``capacity`` or ``time_window`` reasons, or ``no_eligible_vehicle`` when no courier is on
shift). The scheduler's sweep (:func:`sweep`) then texts available, unscheduled volunteers of the
hub — declared available that day (:class:`~dispatch.models.Availability`), not on their regular
shift — in order of fewest recent hours (fairness), only as many as the short parcels need: each
candidate's ``max_parcels`` and ``capacity_kg`` are added until the unserved parcels and kilograms
are covered, counting those already asked and not yet answered.

The volunteer answers はい/いいえ (YES/NO) by SMS or by the signed link in the text. An answer
not given within ``Settings.callout_answer_min`` expires and the sweep asks the next person. An
acceptance sends the batch back to the solver (``replan_reason``), whose problem now holds the
volunteer with the declared range as their shift (:func:`joined`); the new plan uses them.
Once a plan of the batch is confirmed, open call-outs are withdrawn and late answers are thanked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.lifecycle import BatchState, OrderState, PlanState, transition
from dispatch.localtime import timezone_of
from dispatch.models import Availability, Batch, CallOut, Hub, Order, Plan, Volunteer
from dispatch.phrases import Phrase
from dispatch.services import notify
from dispatch.services.volunteering import on_shift, recent_hours

#: Unserved reasons that another courier could fix.
SHORT_REASONS = frozenset({"capacity", "time_window", "no_eligible_vehicle"})
OPEN = "sent"


@dataclass(frozen=True)
class Shortage:
    parcels: int
    kg: float
    order_ids: tuple[str, ...]


def shortage(session: Session, plan: Plan) -> Shortage:
    """What the plan could not carry for want of a courier (orders the solver saw, not those
    outside the batch's day)."""
    ground = {o["id"] for o in plan.problem.get("orders", [])
              if set(o.get("modes", [])) - {"drone"}}  # in the problem, and a courier may carry it
    ids = [u["order_id"] for u in plan.unserved
           if u.get("reason") in SHORT_REASONS and u["order_id"] in ground]
    orders = [session.get(Order, i) for i in ids]
    return Shortage(sum(max(o.parcels, 1) for o in orders if o), sum(o.weight_kg for o in orders if o),
                    tuple(ids))


def _delivery_day(session: Session, batch: Batch) -> tuple[dt.date, Any]:
    tz = timezone_of(session, session.get(Hub, batch.hub_id))  # type: ignore[arg-type]
    return batch.cutoff_at.astimezone(tz).date(), tz


def candidates(session: Session, batch: Batch, now: dt.datetime) -> list[tuple[Volunteer, Availability]]:
    """Volunteers of the hub available on the batch's day and not on shift, not yet asked for this
    batch, fewest recent hours first (then by code, so the order is stable)."""
    day, _tz = _delivery_day(session, batch)
    asked = set(session.scalars(select(CallOut.volunteer_id).where(CallOut.batch_id == batch.id)))
    rows = session.execute(select(Volunteer, Availability).join(
        Availability, Availability.volunteer_id == Volunteer.id).where(
        Volunteer.hub_id == batch.hub_id, Volunteer.active, Availability.day == day,
        Availability.off.is_(False))).all()
    free = [(v, a) for v, a in rows if v.id not in asked and not on_shift(v, day)]
    hours = recent_hours(session, [v.id for v, _ in free], now)
    return sorted(free, key=lambda va: (hours[va[0].id], va[0].code))


def _window(session: Session, batch: Batch, availability: Availability) -> tuple[dt.datetime, dt.datetime]:
    day, tz = _delivery_day(session, batch)
    hub = session.get(Hub, batch.hub_id)
    assert hub is not None
    start = dt.datetime.combine(day, availability.start or hub.opens, tz)
    end = dt.datetime.combine(day, availability.end or hub.closes, tz)
    return max(start, batch.cutoff_at).astimezone(dt.UTC), end.astimezone(dt.UTC)


def call_out(session: Session, batch: Batch, plan: Plan, now: dt.datetime,
             settings: Settings) -> list[CallOut]:
    """Text as many candidates as the plan's shortage needs, beyond those already asked and not
    yet answered; returns the new call-outs."""
    short = shortage(session, plan)
    if not short.parcels:
        return []
    waiting = list(session.scalars(select(CallOut).where(CallOut.batch_id == batch.id,
                                                         CallOut.state == OPEN)))
    parcels = sum(c.volunteer.max_parcels for c in waiting)
    kg = sum(c.volunteer.capacity_kg for c in waiting)
    made = []
    for volunteer, availability in candidates(session, batch, now):
        if parcels >= short.parcels and kg >= short.kg:
            break
        start, end = _window(session, batch, availability)
        if end <= start or end <= now:
            continue
        callout = CallOut(batch_id=batch.id, volunteer_id=volunteer.id, state=OPEN, shift_start=start,
                          shift_end=end, sent_at=now,
                          expires_at=now + dt.timedelta(minutes=settings.callout_answer_min))
        session.add(callout)
        session.flush()
        notify.text_volunteer(session, volunteer, "callout", {
            "window_start": start.isoformat(), "window_end": end.isoformat(),
            "url": callout_url(callout, settings)}, now=now, dedupe_key=f"callout:{callout.id}")
        parcels += volunteer.max_parcels
        kg += volunteer.capacity_kg
        made.append(callout)
    return made


# --------------------------------------------------------------------------- signed links


def _signature(callout_id: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"callout:{callout_id}".encode(), hashlib.sha256).hexdigest()[:32]


def callout_token(callout: CallOut, secret: str) -> str:
    """The link's token: the call-out id and an HMAC of it (nothing to store, nothing to guess)."""
    return f"{callout.id}.{_signature(callout.id, secret)}"


def callout_url(callout: CallOut, settings: Settings) -> str:
    token = callout_token(callout, settings.secret_key)
    return f"{settings.public_url.rstrip('/')}/volunteer/callout/{token}"


def from_token(session: Session, token: str, secret: str) -> CallOut | None:
    """The call-out a link names, or None when the signature does not match."""
    callout_id, _sep, signature = token.partition(".")
    if not callout_id or not hmac.compare_digest(signature, _signature(callout_id, secret)):
        return None
    return session.get(CallOut, callout_id)


# --------------------------------------------------------------------------- answers


def answer(session: Session, callout: CallOut, accept: bool, now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """Record a yes or no; a yes sends the batch back to the solver. Returns the reply."""
    if callout.state != OPEN or _confirmed(session, callout.batch_id):
        if callout.state == OPEN:
            callout.state = "withdrawn"
        return ("callout_kept", {}) if callout.state == "accepted" and accept else ("callout_closed", {})
    callout.state = "accepted" if accept else "declined"
    callout.answered_at = now
    if not accept:
        return "callout_declined", {}
    batch = session.get(Batch, callout.batch_id)
    assert batch is not None
    if batch.state == BatchState.SOLVED:
        _reclaim_short_orders(session, batch)
        transition(batch, BatchState.CLOSED)
        batch.reason = ""
        batch.replan_reason = Phrase("%(name)s joined after a call-out",
                                     {"name": callout.volunteer.name}).stored()
    return "callout_accepted", {"window_start": callout.shift_start.isoformat(),
                                "window_end": callout.shift_end.isoformat()}


def _reclaim_short_orders(session: Session, batch: Batch) -> None:
    """Take the orders the short plan left unserved back into the batch (a plan sends them back to
    the queue as ``confirmed``, still naming the batch): the re-plan with the new courier is for
    them. One that another batch has claimed since stays there."""
    plan = _latest_plan(session, batch.id)
    if plan is None:
        return
    for order_id in shortage(session, plan).order_ids:
        order = session.get(Order, order_id)
        if order is not None and order.batch_id == batch.id and order.state == OrderState.CONFIRMED.value:
            transition(order, OrderState.BATCHED)


def _latest_plan(session: Session, batch_id: str) -> Plan | None:
    return session.scalars(select(Plan).where(Plan.batch_id == batch_id)
                           .order_by(Plan.version.desc())).first()


def answer_latest(session: Session, volunteer: Volunteer, accept: bool,
                  now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """はい/いいえ by SMS answer the volunteer's latest call-out."""
    callout = session.scalars(select(CallOut).where(CallOut.volunteer_id == volunteer.id)
                              .order_by(CallOut.sent_at.desc())).first()
    if callout is None:
        return "callout_none", {}
    return answer(session, callout, accept, now)


def answer_by_link(db: Database, token: str, accept: bool, secret: str,
                   now: dt.datetime) -> tuple[str, dict[str, Any]] | None:
    """The one-tap link's answer; None for a link whose signature does not match."""
    with db.write() as session:
        callout = from_token(session, token, secret)
        if callout is None:
            return None
        return answer(session, callout, accept, now)


def describe(db: Database, token: str, secret: str) -> dict[str, Any] | None:
    """What the link's page shows: the volunteer's first name, the hub, the shift, the state."""
    with db.read() as session:
        callout = from_token(session, token, secret)
        if callout is None:
            return None
        hub = session.get(Hub, session.get(Batch, callout.batch_id).hub_id)  # type: ignore[union-attr]
        assert hub is not None
        tz = timezone_of(session, hub)
        return {"name": callout.volunteer.name, "hub": hub.name, "state": callout.state,
                "start": callout.shift_start.astimezone(tz), "end": callout.shift_end.astimezone(tz),
                "language": callout.volunteer.language}


def _confirmed(session: Session, batch_id: str) -> bool:
    return session.scalars(select(Plan.id).where(Plan.batch_id == batch_id,
                                                 Plan.state == PlanState.CONFIRMED)).first() is not None


def joined(session: Session, batch_id: str) -> list[CallOut]:
    """The accepted call-outs of a batch: volunteers the problem builder adds with their shift."""
    return list(session.scalars(select(CallOut).where(CallOut.batch_id == batch_id,
                                                      CallOut.state == "accepted")))


# --------------------------------------------------------------------------- the sweep


def sweep(db: Database, now: dt.datetime, settings: Settings) -> int:
    """Expire unanswered call-outs, withdraw those of confirmed batches, and call out for every
    short proposed plan whose day is not over. Returns how many texts were queued."""
    sent = 0
    with db.write() as session:
        for callout in session.scalars(select(CallOut).where(CallOut.state == OPEN)):
            if _confirmed(session, callout.batch_id):
                callout.state = "withdrawn"
            elif callout.expires_at <= now:
                callout.state = "expired"
        # Only batches whose delivery day can still be today: the sweep's cost does not grow with
        # the history of solved batches.
        batches = session.scalars(select(Batch).where(
            Batch.state == BatchState.SOLVED, Batch.cutoff_at >= now - dt.timedelta(days=1))).all()
        for batch in batches:
            plan = _latest_plan(session, batch.id)
            if plan is None or plan.state != PlanState.PROPOSED:
                continue
            day, _tz = _delivery_day(session, batch)
            region_today = now.astimezone(_tz).date()
            if day < region_today:
                continue
            sent += len(call_out(session, batch, plan, now, settings))
    return sent
