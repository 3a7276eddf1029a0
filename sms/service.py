"""The SMS side of intake: parse a text, hand the request to dispatch, render the answer.

Every transport's inbound path (Twilio webhook, Android gateway webhook, simulator) goes through
:func:`receive_sms`; every outgoing text is rendered by :func:`render_message`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.requests import (
    AnswerCallOut,
    AskHelp,
    AskStanding,
    AskStatus,
    CancelOrder,
    ChangeStanding,
    DeclareAvailability,
    ItemRequest,
    NotUnderstood,
    OnBehalf,
    OptIn,
    OptOut,
    PlaceOrder,
    Request,
    SetStanding,
    TimeWish,
    VolunteerNotUnderstood,
    VolunteerRequest,
)
from dispatch.services.inbound import Inbound, Reply, receive_message
from sms import parser, volunteer_parser


def to_request(command: parser.Command) -> Request:
    """Translate the parser's command into the domain's request."""
    match command:
        case parser.Order(items=items, time_wish=wish):
            return PlaceOrder(
                items=tuple(ItemRequest(i.name, i.quantity, i.unit) for i in items),
                time_wish=TimeWish(wish.day_offset, wish.part) if wish else None,
            )
        case parser.Status():
            return AskStatus()
        case parser.Cancel(number=number):
            return CancelOrder(number)
        case parser.Help():
            return AskHelp()
        case parser.Stop():
            return OptOut()
        case parser.Start():
            return OptIn()
        case parser.Proxy(resident_code=code, command=inner):
            return OnBehalf(code, to_request(inner))
        case parser.Standing(items=items, weekday=weekday, every_weeks=every, part=part):
            return SetStanding(tuple(ItemRequest(i.name, i.quantity, i.unit) for i in items),
                               weekday, every, part)
        case parser.StandingChange(state=state):
            return ChangeStanding(state)
        case parser.StandingStatus():
            return AskStanding()
        case parser.Unparseable(reason=reason, language_hint=hint):
            return NotUnderstood(reason, hint)
    raise TypeError(f"unknown command {command!r}")


def to_volunteer_request(command: volunteer_parser.VolunteerCommand) -> VolunteerRequest:
    """Translate a volunteer's text as the volunteer parser read it into the domain's request."""
    match command:
        case volunteer_parser.Available(day_offset=offset, weekday=weekday, start=start, end=end, off=off):
            return DeclareAvailability(offset, weekday, start, end, off)
        case volunteer_parser.Answer(accept=accept):
            return AnswerCallOut(accept)
        case volunteer_parser.NotAvailability(reason=reason):
            return VolunteerNotUnderstood(reason)
    raise TypeError(f"unknown volunteer command {command!r}")


def receive_sms(db: Database, transport: str, external_id: str | None, phone: str, body: str,
                received_at: dt.datetime | None = None, *, settings: Settings,
                reply_inline: bool = False) -> Reply:
    """Handle one inbound text from any transport (idempotent per ``external_id``).

    ``received_at`` is the transport's time of arrival (now, when it gives none); ``settings``
    are the deployment's, as the console's (a cancel re-plans and texts the courier a link).
    """
    received_at = received_at or dt.datetime.now(dt.UTC)
    command = parser.parse(body)
    inbound = Inbound(transport=transport, external_id=external_id, phone=phone, body=body,
                      received_at=received_at, language_hint=parser.guess_language(body))
    return receive_message(db, inbound, to_request(command), settings, reply_inline=reply_inline,
                           volunteer_request=to_volunteer_request(volunteer_parser.parse(body)))


def render_message(template: str, language: str, params: dict[str, Any], tz: str,
                   now: dt.datetime | None = None) -> str:
    """Render a stored outbound message (template + parameters) in the recipient's language, with
    clock times in ``tz``, the recipient's region's timezone (``Outgoing.timezone``,
    ``Reply.timezone``), as it reads when sent at ``now`` (default: the real clock): days are
    written relative to that day (今日 / 明日 / 12月5日)."""
    from zoneinfo import ZoneInfo

    from sms import replies

    today = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(tz)).date()
    return replies.render(template, language, today=today,
                          **template_arguments(template, params, tz, today))


def template_arguments(template: str, params: dict[str, Any], tz: str,
                       today: dt.date | None = None) -> dict[str, Any]:
    """Turn stored, language-neutral parameters into the arguments the reply templates take.

    Windows are stored as UTC ISO times; residents read local clock times and the day of the
    window (``date``, written 今日 / 明日 / 12月5日 by the templates).
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    today = today or dt.datetime.now(zone).date()
    args: dict[str, Any] = {}
    for key, value in params.items():
        if key == "items":
            args["items"] = [parser.Item(str(n), int(q), u) for n, q, u in value]
        elif key in ("window_start", "window_end"):
            if value:
                local = dt.datetime.fromisoformat(value).astimezone(zone)
                args["start" if key == "window_start" else "end"] = local
                if key == "window_start":
                    args["date"] = local.date()
        elif key == "date":
            args["date"] = dt.date.fromisoformat(value) if isinstance(value, str) else value
        elif key == "time_wish":
            if value:
                args["time_wish"] = parser.TimeWish(int(value[0]), str(value[1]))
        elif key in ("number", "state", "pin", "url", "minutes", "time", "resident", "code", "count",
                     "name", "tail", "weekday", "every", "stop"):
            args[key] = value
    return args
