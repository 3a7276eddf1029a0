"""The operators' review queue of inbound texts nobody could act on automatically.

A text is closed in one step (issue 16, item 6): marked handled after a call back
(:func:`resolve_review`), turned into the order it asked for (:func:`order_from_review`: the
order, the resident's confirmation SMS and the closed text in one transaction), or, from a number
nobody knew, the number registered as the resident's proxy with the consent on record
(:func:`register_proxy_from_review`), so its next texts are understood.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.models import Message, Resident
from dispatch.phrases import Phrase
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services import notify, ordering, proxies
from dispatch.services.free_text import checked_text

MAX_NOTE = 300


def _pending(session: Session, message_id: str, hub_ids: set[str] | None) -> Message:
    """The queued inbound text, or :class:`NotFound` (also for another hub's resident's text)."""
    message = session.get(Message, message_id)
    if message is None or message.direction != "in" or message.review != "pending":
        raise NotFound(f"no text {message_id!r} waiting for review")
    if hub_ids is not None and message.resident_id is not None:
        resident = session.get(Resident, message.resident_id)
        if resident is None or resident.hub_id not in hub_ids:
            raise NotFound(f"no text {message_id!r} waiting for review")
    return message


def _resident(session: Session, resident_id: str, hub_ids: set[str] | None) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None or (hub_ids is not None and resident.hub_id not in hub_ids):
        raise NotFound(f"resident {resident_id!r} does not exist")
    return resident


def _close(message: Message, user_id: str, outcome: Phrase) -> None:
    message.review = "done"
    message.review_reason = Phrase("%(reason)s — %(outcome)s (user %(user)s)", {
        "reason": message.review_reason, "outcome": outcome.stored(), "user": user_id}).stored()[:1000]


def resolve_review(db: Database, message_id: str, user_id: str, note: str,
                   hub_ids: set[str] | None) -> bool:
    """Mark a queued text as handled (e.g. after calling the sender back); False if not visible."""
    with db.write() as s:
        try:
            message = _pending(s, message_id, hub_ids)
        except NotFound:
            return False
        _close(message, user_id, Phrase("handled: %(note)s", {"note": note}))
        return True


def order_from_review(db: Database, message_id: str, user_id: str, resident_id: str,
                      items: Sequence[ItemRequest], *, now: dt.datetime, hub_ids: set[str] | None,
                      time_wish: TimeWish | None = None, priority: int = 2) -> ordering.OrderSummary:
    """Place the order a queued text asked for, for ``resident_id`` (the sender, or the resident an
    operator recognised after calling back), queue the resident's confirmation SMS and close the
    text, all in one transaction: refused as a whole (:class:`DomainError`) or done as a whole."""
    with db.write() as s:
        message = _pending(s, message_id, hub_ids)
        resident = _resident(s, resident_id, hub_ids)
        order = ordering.create_order(s, resident, items, channel="sms", now=now, time_wish=time_wish,
                                      entered_by_user_id=user_id, priority=priority,
                                      request_text=message.body)
        notify.text_resident(s, order, "order_received", ordering.order_params(order), now=now,
                             dedupe_key=f"order_received:{order.id}")
        message.resident_id = message.resident_id or resident.id
        message.order_id = order.id
        _close(message, user_id, Phrase("order #%(number)s placed", {"number": order.number}))
        return ordering.summarize(order)


def register_proxy_from_review(db: Database, message_id: str, user_id: str, resident_id: str, *,
                               name: str, relation: str, consent_note: str, now: dt.datetime,
                               hub_ids: set[str] | None) -> str:
    """Register the number a queued text came from as a proxy of ``resident_id`` (the resident's
    consent, as the operator heard it, on record) and close the text; returns the proxy's id. An
    earlier, withdrawn registration of the same number is taken up again."""
    consent_note = checked_text(consent_note, "consent note", MAX_NOTE, required=True)
    with db.write() as s:
        message = _pending(s, message_id, hub_ids)
        resident = _resident(s, resident_id, hub_ids)
        consent = proxies.Consent(consented_by=resident.name, method="phone", at=now, note=consent_note)
        proxy = proxies.save_proxy(s, resident, name=name, phone=message.phone, relation=relation,
                                   consent=consent, user_id=user_id, now=now)
        _close(message, user_id, Phrase("number registered as a proxy of %(code)s", {"code": resident.code}))
        return proxy.id
