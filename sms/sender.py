"""The outbox worker: renders queued messages and hands them to the transport, after commit; the
same loop sends the queued webhook deliveries (:mod:`dispatch.services.webhooks`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from dispatch.db import Database
from dispatch.lifecycle import MessageStatus
from dispatch.services import outbox, webhooks
from sms.service import render_message
from sms.transports import PermanentSendError, SmsTransport, TransientSendError

log = logging.getLogger(__name__)


@dataclass
class SendStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def send_due(db: Database, transport: SmsTransport, now: dt.datetime | None = None,
             limit: int = 50) -> SendStats:
    """Send every message due at ``now``; never raises for a single message's failure.

    Each text is rendered in its recipient's region's timezone (``Outgoing.timezone``).
    """
    now = now or dt.datetime.now(dt.UTC)
    stats = SendStats()
    for message in outbox.claim_due(db, now, limit):
        try:
            params = _with_secrets(db, message.params)
            body = render_message(message.template, message.language, params, message.timezone, now)
        except Exception as error:  # a bad template or parameter must not stall the queue
            outbox.mark_failed(db, message.id, f"cannot render {message.template!r}: {error}",
                               permanent=True, now=now)
            stats.dead += 1
            continue
        try:
            result = transport.send(message.phone, body)
        except TransientSendError as error:
            status = outbox.mark_failed(db, message.id, str(error), permanent=False, now=now)
            stats.retried += status == MessageStatus.QUEUED
            stats.dead += status == MessageStatus.DEAD
            log.warning("SMS %s not sent yet (%s): %s", message.id, status, error)
            continue
        except PermanentSendError as error:
            outbox.mark_failed(db, message.id, str(error), permanent=True, now=now)
            stats.dead += 1
            log.warning("SMS %s dead-lettered: %s", message.id, error)
            continue
        outbox.mark_sent(db, message.id, body, result.external_id, now=now, transport=transport.name,
                         redacted_body=_redacted(message, params, now) if transport.name != "simulator"
                         else None)
        stats.sent += 1
    return stats


def _with_secrets(db: Database, params: dict[str, object]) -> dict[str, object]:
    """Parameters ready to render. A delivery PIN is never queued: the message carries the order
    id and the PIN is (re)issued now, at send time, so it exists in clear only in the SMS."""
    if "pin_order_id" not in params:
        return params
    from dispatch.services.plans import pin_for_notification

    ready = {k: v for k, v in params.items() if k != "pin_order_id"}
    ready["pin"] = pin_for_notification(db, str(params["pin_order_id"]))
    return ready


def _redacted(message: outbox.Outgoing, params: dict[str, object], now: dt.datetime) -> str | None:
    """The text as stored after sending: secrets masked. The simulator keeps the real text,
    because its stored copy *is* the handset's screen in demos and training."""
    secrets = outbox.SECRET_PARAMS & params.keys()
    if not secrets:
        return None
    masked = {**params, **{key: "•" * len(str(params[key])) for key in secrets}}
    return render_message(message.template, message.language, masked, message.timezone, now)


class OutboxWorker(threading.Thread):
    """Background sender for a single-process deployment or the demo: woken after each commit
    that queued an SMS or a webhook delivery, and every ``interval_s`` for retries that fall due."""

    def __init__(self, db: Database, transport: SmsTransport, interval_s: float = 10.0) -> None:
        super().__init__(name="hakobu-outbox", daemon=True)
        self._db = db
        self._transport = transport
        self._interval = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                send_due(self._db, self._transport)
            except Exception:  # keep the worker alive; the messages stay queued for the next round
                log.exception("outbox round failed")
            try:
                webhooks.deliver_due(self._db)
            except Exception:  # likewise: the deliveries stay queued
                log.exception("webhook round failed")
