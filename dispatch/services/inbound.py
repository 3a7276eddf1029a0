"""An inbound text from any SMS transport, handled in one transaction: stored, deduplicated,
attributed to a resident or proxy, acted upon, and answered.

Nothing is dropped: a message from an unknown number or one that could not be understood is
kept in the operator's review queue, and its sender still gets a helpful reply.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.ids import new_id
from dispatch.lifecycle import MessageStatus
from dispatch.models import Message, OptOut, Proxy, Resident, Volunteer
from dispatch.phrases import Phrase
from dispatch.requests import (
    AnswerCallOut,
    AskHelp,
    AskStanding,
    AskStatus,
    CancelOrder,
    ChangeStanding,
    DeclareAvailability,
    NotUnderstood,
    OnBehalf,
    OptIn,
    PlaceOrder,
    Request,
    SetStanding,
    VolunteerRequest,
)
from dispatch.requests import OptOut as OptOutRequest
from dispatch.services import callouts, notify, ordering, outbox, proxies, standing, volunteering


@dataclass(frozen=True)
class Inbound:
    transport: str  # twilio | android_gateway | simulator
    external_id: str | None  # MessageSid or the gateway's id; None lets us make one
    phone: str
    body: str
    received_at: dt.datetime
    language_hint: str = "ja"


@dataclass(frozen=True)
class Reply:
    """What to answer: a template and its parameters, rendered by the SMS layer."""

    inbound_id: str
    message_id: str | None  # the outbound reply row (None when nothing may be sent)
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    language: str = "ja"
    duplicate: bool = False
    order_id: str | None = None
    timezone: str = "UTC"  # the region's, for times in the text (see outbox.message_timezone)


@dataclass
class _Sender:
    phone: str
    language: str
    resident: Resident | None = None
    proxy: Proxy | None = None


def receive_message(db: Database, inbound: Inbound, request: Request, settings: Settings, *,
                    reply_inline: bool = False,
                    volunteer_request: VolunteerRequest | None = None) -> Reply:
    """Store, deduplicate, act on and answer ``inbound``; its ``received_at`` is the clock.

    ``volunteer_request`` is the same text read as a volunteer's (availability, a call-out
    answer): it is acted upon when the number is a volunteer's and no resident's or proxy's.

    ``reply_inline``: the transport answers in the HTTP response (Twilio TwiML), so the reply is
    recorded as ``inline`` and the outbox worker never sends it again. ``settings`` are the
    deployment's (a cancel re-plans and texts couriers their new route link).
    """
    if inbound.external_id is not None:
        earlier = _earlier_reply(db, inbound)
        if earlier is not None:
            return earlier
    try:
        with db.write() as session:
            return _handle(session, inbound, request, settings, reply_inline, volunteer_request)
    except IntegrityError:
        # A concurrent delivery of the same MessageSid won the race; answer as it did.
        earlier = _earlier_reply(db, inbound)
        if earlier is None:
            raise
        return earlier


def _earlier_reply(db: Database, inbound: Inbound) -> Reply | None:
    with db.read() as session:
        first = session.scalars(select(Message).where(
            Message.transport == inbound.transport, Message.external_id == inbound.external_id,
            Message.direction == "in")).first()
        if first is None:
            return None
        reply = session.scalars(select(Message).where(Message.in_reply_to == first.id)).first()
        return Reply(
            inbound_id=first.id, message_id=reply.id if reply else None,
            template=reply.template if reply else "", params=dict(reply.params or {}) if reply else {},
            language=reply.language if reply else inbound.language_hint, duplicate=True,
            order_id=first.order_id, timezone=outbox.message_timezone(session, reply or first),
        )


#: Code points no database text column takes: NUL (PostgreSQL refuses it) and lone surrogates (not
#: encodable as UTF-8). Stored as visible stand-ins, so the text is kept and an operator still sees
#: where they were.
_UNSTORABLE = {0: "\u2400", **{code: "\ufffd" for code in range(0xD800, 0xE000)}}
PHONE_CHARS = 20  # Message.phone


def storable(text: str) -> str:
    """``text`` as it can be stored on SQLite and PostgreSQL alike (see :data:`_UNSTORABLE`)."""
    return text.translate(_UNSTORABLE)


def _handle(session: Session, inbound: Inbound, request: Request, settings: Settings,
            reply_inline: bool, volunteer_request: VolunteerRequest | None = None) -> Reply:
    message = Message(
        direction="in", transport=inbound.transport,
        external_id=inbound.external_id or f"local-{new_id()}",
        phone=storable(inbound.phone)[:PHONE_CHARS],
        body=storable(inbound.body), status=MessageStatus.RECEIVED, kind=type(request).__name__,
        created_at=inbound.received_at, updated_at=inbound.received_at,
    )
    session.add(message)
    session.flush()
    sender = _identify(session, message.phone, inbound.language_hint)
    message.resident_id = sender.resident.id if sender.resident else None
    volunteer = None
    if sender.resident is None and sender.proxy is None and volunteer_request is not None:
        volunteer = volunteering.volunteer_by_phone(session, message.phone)
    if volunteer is not None:
        sender.language, message.volunteer_id = volunteer.language, volunteer.id
    if volunteer is not None and isinstance(request, AskHelp):
        template, params, order_id = "volunteer_examples", {}, None
    elif volunteer is not None and not isinstance(request, OptOutRequest | OptIn):
        template, params = _as_volunteer(session, message, volunteer, volunteer_request,
                                         inbound.received_at)
        order_id = None
    else:  # STOP and START work for every number
        template, params, order_id = _act(session, message, sender, request, inbound.received_at,
                                          settings)
    message.order_id = order_id
    if template == "stopped":  # confirm the opt-out once, then never write to the number again
        first = not outbox.is_opted_out(session, sender.phone)
        reply = _queue_reply(session, message, sender, template, params, reply_inline, force=first)
        if first:
            session.merge(OptOut(phone=sender.phone, created_at=inbound.received_at))
    else:
        reply = _queue_reply(session, message, sender, template, params, reply_inline)
    return Reply(inbound_id=message.id, message_id=reply.id if reply else None, template=template,
                 params=params, language=sender.language, order_id=order_id,
                 timezone=outbox.message_timezone(session, message))


def _identify(session: Session, phone: str, language_hint: str) -> _Sender:
    residents = list(session.scalars(select(Resident).where(
        Resident.phone == phone, Resident.active).order_by(Resident.code)))
    if len(residents) == 1:
        return _Sender(phone, residents[0].language, resident=residents[0])
    proxies = list(session.scalars(select(Proxy).where(Proxy.phone == phone, Proxy.active,
                                                       Proxy.covers_ordering)))
    language = residents[0].language if residents else language_hint
    sender = _Sender(phone, language)
    if len(proxies) == 1 and not residents:
        sender.proxy = proxies[0]
    elif proxies:
        sender.proxy = proxies[0]  # acts only through an explicit 代理/FOR <code>
    if len(residents) > 1:
        sender.resident = None  # a shared household phone: staff must tell which resident
    return sender


def _review(message: Message, reason: str, **params: Any) -> None:
    """Queue the text for an operator; ``reason`` is a phrase key (``dispatch.phrases``)."""
    message.review = "pending"
    message.review_reason = Phrase(reason, params).stored()


def _act(session: Session, message: Message, sender: _Sender, request: Request,
         now: dt.datetime, settings: Settings) -> tuple[str, dict[str, Any], str | None]:
    """Carry out ``request``; returns (reply template, parameters, order id)."""
    if isinstance(request, OptOutRequest):
        return "stopped", {}, None
    if isinstance(request, OptIn):
        session.execute(delete(OptOut).where(OptOut.phone == sender.phone))
        return "started", {}, None
    if isinstance(request, AskHelp):
        return "help", {}, None
    if isinstance(request, OnBehalf):
        return _on_behalf(session, message, sender, request, now, settings)
    if sender.resident is None:
        if sender.proxy is not None and _single_ward(session, sender.proxy):
            resident = sender.proxy.resident
            return _as_resident(session, message, resident, request, now, settings, proxy=sender.proxy)
        if sender.proxy is None:
            _review(message, "unknown number")
        else:
            _review(message, "proxy without resident code")
        return "unknown_number", {}, None
    return _as_resident(session, message, sender.resident, request, now, settings)


def _as_volunteer(session: Session, message: Message, volunteer: Volunteer, request: VolunteerRequest,
                  now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """A volunteer's text: availability, or the answer to their latest call-out; anything else goes
    to the operator's queue with a reply giving examples."""
    if isinstance(request, DeclareAvailability):
        return volunteering.declare(session, volunteer, request, now, message_id=message.id)
    if isinstance(request, AnswerCallOut):
        return callouts.answer_latest(session, volunteer, request.accept, now)
    _review(message, "volunteer's text not understood: %(why)s", why=request.reason)
    return "volunteer_help", {}


def _single_ward(session: Session, proxy: Proxy) -> bool:
    wards = session.scalars(select(Proxy.resident_id).where(
        Proxy.phone == proxy.phone, Proxy.active, Proxy.covers_ordering)).all()
    return len(set(wards)) == 1


def _on_behalf(session: Session, message: Message, sender: _Sender, request: OnBehalf,
               now: dt.datetime, settings: Settings) -> tuple[str, dict[str, Any], str | None]:
    resident = session.scalars(select(Resident).where(
        func.upper(Resident.code) == request.resident_code.upper(), Resident.active)).first()
    if resident is None:
        _review(message, "proxy named unknown resident code '%(code)s'", code=request.resident_code)
        return "proxy_unknown_resident", {"resident": request.resident_code}, None
    proxy = proxies.ordering_proxy(session, sender.phone, resident.id)
    if proxy is None:
        _review(message, "number is not a registered proxy of %(code)s", code=resident.code)
        return "proxy_not_allowed", {"resident": resident.code}, None
    message.resident_id = resident.id
    return _as_resident(session, message, resident, request.request, now, settings, proxy=proxy)


def _as_resident(session: Session, message: Message, resident: Resident, request: Request,
                 now: dt.datetime, settings: Settings,
                 proxy: Proxy | None = None) -> tuple[str, dict[str, Any], str | None]:
    if isinstance(request, PlaceOrder):
        try:
            order = ordering.create_order(
                session, resident, request.items, channel="proxy" if proxy else "sms", now=now,
                time_wish=request.time_wish, proxy_id=proxy.id if proxy else None,
                request_text=message.body)
        except DomainError as error:
            _review(message, "order refused: %(error)s", error=error.phrase.stored())
            return "unparseable", {"reason": str(error)}, None
        params = ordering.order_params(order)
        if request.time_wish is not None:
            params["time_wish"] = [request.time_wish.day_offset, request.time_wish.part]
        return "order_received", params, order.id
    if isinstance(request, AskStatus):
        orders = ordering.open_orders(session, resident.id)
        if not orders:
            return "status_none", {}, None
        return "status", ordering.order_params(orders[0]), orders[0].id
    if isinstance(request, CancelOrder):
        order = ordering.find_cancellable(session, resident.id, request.number)
        if order is None:
            return "nothing_to_cancel", {"number": request.number}, None
        if not ordering.cancel(session, order, "cancelled by SMS", now, settings):
            return "cancel_not_possible", {"number": order.number}, order.id
        return "cancelled", {"number": order.number}, order.id
    if isinstance(request, SetStanding | ChangeStanding | AskStanding):
        return (*standing.by_sms(session, resident, request, now, proxy_id=proxy.id if proxy else None),
                None)
    if isinstance(request, NotUnderstood):
        why, _sep, detail = request.reason.partition(": ")
        if detail:
            _review(message, "not understood: %(why)s (%(detail)s)", why=why, detail=detail)
        else:
            _review(message, "not understood: %(why)s", why=why)
        template = "standing_help" if why.startswith("standing_") else "unparseable"
        return template, {"reason": request.reason}, None
    if isinstance(request, AskHelp):
        return "help", {}, None
    if isinstance(request, OptOutRequest):
        return "stopped", {}, None  # the sender's own number, even when written as a proxy
    if isinstance(request, OptIn):
        session.execute(delete(OptOut).where(OptOut.phone == message.phone))
        return "started", {}, None
    _review(message, "nested request not supported: %(what)s", what=type(request).__name__)
    return "unparseable", {"reason": "nested proxy request"}, None


def _queue_reply(session: Session, message: Message, sender: _Sender, template: str,
                 params: dict[str, Any], inline: bool, force: bool = False) -> Message | None:
    return notify.reply(session, message, sender.phone, sender.language, template, params,
                        inline=inline, even_if_opted_out=force)
