"""The SMS outbox: notifications are queued in the same transaction as the change they announce,
and sent after commit by a worker (``sms.sender``).

Guarantees:

- **Never to an opted-out number**: checked when queueing and again when claiming for sending.
- **Never twice**: a message is claimed (``queued`` → ``sending``) atomically before the transport
  is called; ``dedupe_key`` stops the same notification from being queued twice. A worker that
  dies between sending and recording leaves the message in ``sending``: it is reported for an
  operator to check, never re-sent blindly (at most once beats twice for an SMS).
- **Retries with backoff** on transient errors (HTTP 429 / 5xx, timeouts), **dead letter** with the
  reason on permanent ones (e.g. Twilio 21610: the recipient unsubscribed).
- Delivery status callbacks never move a message backwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.db import Database, signal
from dispatch.lifecycle import MessageStatus, can_transition, transition
from dispatch.localtime import timezone_of
from dispatch.models import Message, OptOut, Order, Resident, Volunteer

#: The after-commit topic of a transaction that queued a message (``Database.after_commit``).
TOPIC = "outbox"
MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 30


def is_opted_out(session: Session, phone: str) -> bool:
    return session.get(OptOut, phone) is not None


def queue(
    session: Session, phone: str, template: str, params: Mapping[str, Any], language: str, *,
    resident_id: str | None = None, volunteer_id: str | None = None, order_id: str | None = None,
    dedupe_key: str | None = None, in_reply_to: str | None = None, now: dt.datetime | None = None,
    status: str = MessageStatus.QUEUED, transport: str = "outbox", even_if_opted_out: bool = False,
) -> Message | None:
    """Queue an SMS inside the caller's transaction; None when the number opted out or the
    ``dedupe_key`` was queued before. Services call it through :mod:`dispatch.services.notify`.

    ``even_if_opted_out`` is only for the single confirmation of a STOP itself.
    """
    if not even_if_opted_out and is_opted_out(session, phone):
        return None
    if dedupe_key is not None:
        existing = session.scalars(select(Message).where(Message.dedupe_key == dedupe_key)).first()
        if existing is not None:
            return None
    now = now or dt.datetime.now(dt.UTC)
    message = Message(
        direction="out", transport=transport, phone=phone, template=template, params=dict(params),
        language=language, status=status, kind=template, resident_id=resident_id,
        volunteer_id=volunteer_id, order_id=order_id, dedupe_key=dedupe_key,
        in_reply_to=in_reply_to, next_attempt_at=now, created_at=now, updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None  # a concurrent transaction queued the same dedupe_key first
    if status == MessageStatus.QUEUED:
        signal(session, TOPIC)  # wake the sender once this commits
    return message


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, ready for the transport: what to render and where to send it."""

    id: str
    phone: str
    template: str
    params: dict[str, Any]
    language: str
    attempts: int
    timezone: str  # IANA name of the recipient's region: times in the text are its clock times


def message_timezone(session: Session, message: Message) -> str:
    """The timezone a message is rendered in: the region of its order, resident or volunteer.

    A message tied to none of them (a sign-in code, the answer to an unknown number) carries no
    time of day; it is rendered in UTC.
    """
    for model, key in ((Order, message.order_id), (Resident, message.resident_id),
                       (Volunteer, message.volunteer_id)):
        row = session.get(model, key) if key is not None else None
        if row is not None:
            return timezone_of(session, row).key
    return "UTC"


def timezones_of(db: Database, message_ids: Iterable[str]) -> dict[str, str]:
    """:func:`message_timezone` of each message, by id (for pages that render queued texts)."""
    with db.read() as session:
        return {m.id: message_timezone(session, m)
                for m in session.scalars(select(Message).where(Message.id.in_(list(message_ids))))}


def claim_due(db: Database, now: dt.datetime, limit: int = 20) -> list[Outgoing]:
    """Atomically move up to ``limit`` due messages from ``queued`` to ``sending``."""
    with db.write() as session:
        query = (
            select(Message.id).where(Message.direction == "out", Message.status == MessageStatus.QUEUED,
                                     Message.next_attempt_at <= now)
            .order_by(Message.next_attempt_at).limit(limit)
        )
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        claimed = session.scalars(
            update(Message).where(Message.id.in_(ids), Message.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SENDING, attempts=Message.attempts + 1, updated_at=now)
            .returning(Message)
        ).all()
        result = []
        for message in claimed:
            if message.template != "stopped" and is_opted_out(session, message.phone):
                transition(message, MessageStatus.DEAD)
                message.error = "recipient opted out (STOP) after this was queued"
                continue
            result.append(Outgoing(message.id, message.phone, message.template,
                                   dict(message.params or {}), message.language, message.attempts,
                                   message_timezone(session, message)))
        return result


#: Parameters that are secrets (sign-in codes, delivery PINs): dropped from the stored message once
#: it has been handed to a real transport, so they never stay readable in the database.
SECRET_PARAMS = frozenset({"code", "pin", "url"})  # url: a courier's single-use sign-in link


def mark_sent(db: Database, message_id: str, body: str, external_id: str | None,
              now: dt.datetime | None = None, transport: str | None = None,
              redacted_body: str | None = None) -> None:
    """Record a sent message. ``redacted_body`` (the text with its secrets masked) is stored
    instead of ``body`` when given, and secret parameters are dropped."""
    with db.write() as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.body = body if redacted_body is None else redacted_body
        if redacted_body is not None:
            message.params = {k: v for k, v in (message.params or {}).items() if k not in SECRET_PARAMS}
        message.external_id = external_id
        if transport:
            message.transport = transport
        if can_transition(message.status, MessageStatus.SENT):  # a callback may have come first
            transition(message, MessageStatus.SENT)
        message.updated_at = now or dt.datetime.now(dt.UTC)


def mark_failed(db: Database, message_id: str, error: str, *, permanent: bool,
                now: dt.datetime | None = None) -> str:
    """Record a failed send: back to ``queued`` with backoff, or ``dead`` when permanent or
    out of attempts. Returns the new status."""
    now = now or dt.datetime.now(dt.UTC)
    with db.write() as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.error = error[:1000]
        if permanent or message.attempts >= MAX_ATTEMPTS:
            transition(message, MessageStatus.DEAD)
        else:
            transition(message, MessageStatus.QUEUED)
            message.next_attempt_at = now + dt.timedelta(
                seconds=BACKOFF_BASE_S * 2 ** (message.attempts - 1))
        message.updated_at = now
        return message.status


#: A provider's delivery status (Twilio's ``MessageStatus``, the gateway's state) as ours: the
#: provider's own queue is "accepted" (it has the message); "read" counts as delivered.
PROVIDER_STATUS = {"queued": MessageStatus.ACCEPTED, "accepted": MessageStatus.ACCEPTED,
                   "sending": MessageStatus.ACCEPTED, "sent": MessageStatus.SENT,
                   "delivered": MessageStatus.DELIVERED, "undelivered": MessageStatus.UNDELIVERED,
                   "failed": MessageStatus.FAILED, "read": MessageStatus.DELIVERED}


def apply_status(db: Database, transport: str, external_id: str, status: str,
                 error: str = "") -> bool:
    """Apply a delivery-status callback; returns False when it would move the message backwards
    (out-of-order callbacks) or the message is unknown."""
    normalized = PROVIDER_STATUS.get(status.lower())
    if normalized is None:
        return False
    with db.write() as session:
        message = session.scalars(
            select(Message).where(Message.transport == transport, Message.external_id == external_id,
                                  Message.direction == "out")
        ).first()
        if message is None or not can_transition(message.status, normalized):
            return False  # unknown, final, or the callback arrived after a later one
        transition(message, normalized)
        if error:
            message.error = error[:1000]
        message.updated_at = dt.datetime.now(dt.UTC)
        return True


#: A message still ``sending`` after this long was claimed by a sender that never recorded the
#: provider's answer (it crashed or lost the database): it may or may not have gone out.
STUCK_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class NeedsAttention:
    """An outgoing message an operator has to look at (no phone number: ids and reasons only)."""

    id: str
    template: str
    status: str
    error: str
    attempts: int
    updated_at: dt.datetime
    order_id: str | None


def needing_attention(db: Database, now: dt.datetime, since: dt.timedelta = dt.timedelta(days=1),
                      limit: int = 200) -> list[NeedsAttention]:
    """Dead letters of the last ``since`` and messages stuck in ``sending``, newest first: the
    cases the outbox never resolves by itself (it never re-sends blindly)."""
    with db.read() as session:
        rows = session.scalars(
            select(Message).where(
                Message.direction == "out",
                ((Message.status == MessageStatus.DEAD) & (Message.updated_at >= now - since))
                | ((Message.status == MessageStatus.SENDING) & (Message.updated_at <= now - STUCK_AFTER)))
            .order_by(Message.updated_at.desc()).limit(limit))
        return [NeedsAttention(m.id, m.template, m.status, m.error, m.attempts, m.updated_at, m.order_id)
                for m in rows]
