"""Inbound webhooks of the SMS transports. Each authenticates its caller before writing anything.

- Twilio: ``X-Twilio-Signature`` checked with twilio's ``RequestValidator`` against the public URL
  (``HAKOBU_PUBLIC_URL`` when set, else the URL as seen — correct behind a proxy only with
  ``HAKOBU_TRUST_PROXY``). Replies go back inline as TwiML.
- Android gateway: ``X-Signature`` = hex HMAC-SHA256 of the raw body + ``X-Timestamp`` with the
  shared signing key, timestamp within five minutes. Replies go through the outbox.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.services import outbox
from sms.service import receive_sms, render_message

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
GATEWAY_MAX_SKEW_S = 300


def _settings() -> Settings:
    settings: Settings = current_app.extensions["hakobu"].settings
    return settings


def _db() -> Database:
    db: Database = current_app.extensions["hakobu"].db
    return db


def _public_url() -> str:
    """The URL Twilio signed: the configured public base plus this request's path and query."""
    base = _settings().public_url.rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def _require_twilio_signature() -> None:
    token = _settings().twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        abort(403)
    if not RequestValidator(token).validate(_public_url(), request.form.to_dict(flat=True), signature):
        log.warning("rejected a Twilio webhook with a bad signature")
        abort(403)


@bp.route("/twilio/inbound", methods=["POST"])
def twilio_inbound() -> Response:
    _require_twilio_signature()
    sid, phone, body = (request.form.get(k, "") for k in ("MessageSid", "From", "Body"))
    if not sid or not phone:
        abort(400)
    reply = receive_sms(_db(), "twilio", sid, phone, body, settings=_settings(), reply_inline=True)
    twiml = MessagingResponse()
    if reply.message_id is not None and reply.template:
        text = render_message(reply.template, reply.language, reply.params, reply.timezone)
        twiml.message(text)
        if not reply.duplicate:
            outbox.mark_sent(_db(), reply.message_id, text, None, transport="twilio")
    return Response(str(twiml), mimetype="application/xml")


@bp.route("/twilio/status", methods=["POST"])
def twilio_status() -> Response:
    _require_twilio_signature()
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if not sid or not status:
        abort(400)
    code = request.form.get("ErrorCode", "")
    outbox.apply_status(_db(), "twilio", sid, status, f"twilio error {code}" if code else "")
    return Response("", status=204)


def _require_gateway_signature(raw: bytes) -> None:
    secret = _settings().gateway_webhook_secret
    signature = request.headers.get("X-Signature", "")
    stamp = request.headers.get("X-Timestamp", "")
    if not secret or not signature or not stamp.isdigit():
        abort(403)
    if abs(time.time() - int(stamp)) > GATEWAY_MAX_SKEW_S:
        abort(403)  # a replayed or badly delayed request
    expected = hmac.new(secret.encode(), raw + stamp.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        log.warning("rejected a gateway webhook with a bad signature")
        abort(403)


GATEWAY_STATUS = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed"}


@bp.route("/gateway/webhook", methods=["POST"])
def gateway_webhook() -> Response:
    raw = request.get_data(cache=True)
    _require_gateway_signature(raw)
    try:
        event: dict[str, Any] = json.loads(raw)
        kind, payload = event["event"], event["payload"]
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: nested too deep
        abort(400)
    if not isinstance(payload, dict):
        abort(400)
    if kind == "sms:received":
        # The payload's messageId is content-based and not unique; the event id is. An event without
        # either is known by its body's digest: a retry repeats the bytes, another text differs.
        received = _gateway_time(payload.get("receivedAt"))
        external = event.get("id") or payload.get("messageId") or "sha256:" + hashlib.sha256(raw).hexdigest()
        receive_sms(_db(), "android_gateway", str(external),
                    str(payload.get("phoneNumber", "")), str(payload.get("message", "")), received,
                    settings=_settings())
    elif kind in GATEWAY_STATUS:
        outbox.apply_status(_db(), "android_gateway", str(payload.get("messageId", "")),
                            GATEWAY_STATUS[kind], str(payload.get("reason", "")))
    return Response("", status=204)


def _gateway_time(value: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
        parsed.astimezone(dt.UTC)  # year 1 or 9999 with an offset overflows here, not later
    except (ValueError, OverflowError):
        return dt.datetime.now(dt.UTC)
    return parsed if parsed.tzinfo else dt.datetime.now(dt.UTC)
