"""Texting people: the one way a service says "text this person about this order".

Every notification is an outbox row (template + parameters + the recipient's language, see
:mod:`dispatch.services.outbox`) queued inside the caller's write transaction, so it commits with
the change it announces and is sent after commit by the sender worker. These functions take the
caller's ``session`` and never commit. The recipient's phone number and language come from their
own row, never from the caller, so nobody is texted in the wrong language or at a stale number.

Each returns the queued :class:`~dispatch.models.Message`, or None when nothing was queued (the
number opted out, or ``dedupe_key`` was queued before).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from dispatch.lifecycle import MessageStatus
from dispatch.models import Message, Order, Resident, Volunteer
from dispatch.services import outbox


def text_resident(session: Session, order: Order, template: str, params: Mapping[str, Any], *,
                  now: dt.datetime, dedupe_key: str | None = None) -> Message | None:
    """Text the resident of ``order`` about it; the order's short number is always a parameter."""
    resident = session.get(Resident, order.resident_id)
    if resident is None:  # pragma: no cover - a foreign key guarantees the row
        return None
    return outbox.queue(session, resident.phone, template, {"number": order.number, **params},
                        resident.language, resident_id=resident.id, order_id=order.id,
                        dedupe_key=dedupe_key, now=now)


def text_volunteer(session: Session, volunteer: Volunteer, template: str, params: Mapping[str, Any], *,
                   now: dt.datetime, dedupe_key: str | None = None) -> Message | None:
    """Text a volunteer (courier): their route link, a cancelled stop, their release for the day."""
    return outbox.queue(session, volunteer.phone, template, params, volunteer.language,
                        volunteer_id=volunteer.id, dedupe_key=dedupe_key, now=now)


def text_phone(session: Session, phone: str, language: str, template: str, params: Mapping[str, Any], *,
               now: dt.datetime, resident_id: str | None = None) -> Message | None:
    """Text a number rather than a person's current phone (a sign-in code goes to the number that
    asked, which may be a proxy's); ``resident_id`` is whom it concerns, for the hub scope."""
    return outbox.queue(session, phone, template, params, language, resident_id=resident_id, now=now)


def reply(session: Session, inbound: Message, phone: str, language: str, template: str,
          params: Mapping[str, Any], *, inline: bool, even_if_opted_out: bool = False) -> Message | None:
    """Answer the inbound text ``inbound`` (stored and flushed) at ``phone``.

    ``inline``: the transport carries the answer in its HTTP response (Twilio's TwiML), so the row
    is recorded as ``inline`` and never sent by the worker. ``even_if_opted_out`` is only for the
    one confirmation of a STOP. The reply is dated like the text it answers.
    """
    return outbox.queue(session, phone, template, params, language, resident_id=inbound.resident_id,
                        volunteer_id=inbound.volunteer_id, order_id=inbound.order_id, in_reply_to=inbound.id,
                        now=inbound.created_at,
                        status=MessageStatus.INLINE if inline else MessageStatus.QUEUED,
                        transport=inbound.transport, even_if_opted_out=even_if_opted_out)
