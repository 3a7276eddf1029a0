"""Outgoing webhooks: the deliveries queued with each order event (:mod:`webhook_events`), sent
by the outbox worker (``sms.sender.OutboxWorker``, the same loop as the SMS), signed, retried.

Guarantees:

- **Signed** as Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id`` (the event id,
  the same on every retry), ``webhook-timestamp`` and ``webhook-signature`` (HMAC-SHA256 of
  ``id.timestamp.body`` with the endpoint's secret), made by the ``standardwebhooks`` library.
- **At least once, deduplicated by event id**: a delivery is claimed (``queued`` → ``sending``)
  before the request; one event is queued at most once per endpoint (a unique key); a sender that
  died mid-request leaves it ``sending`` and it is sent again after :data:`STUCK_AFTER` with the
  same ``webhook-id``, which receivers use to drop the duplicate.
- **Retried with backoff**: within one round by urllib3's ``Retry`` (connection errors, 429 and
  5xx, honouring ``Retry-After``); across rounds from the durable outbox, :data:`BACKOFF_BASE_S`
  doubling per attempt, up to :data:`MAX_ATTEMPTS`, then ``dead`` until an admin sends it again.
- **A delivery log** (:mod:`dispatch.read.integrations`) keeps every delivery's state, attempts,
  last HTTP status and error for the admins; bodies hold no resident's name, phone or position.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

import urllib3
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook
from urllib3.util import Retry, Timeout

from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.lifecycle import DeliveryState, transition
from dispatch.models import Integration, OrderEvent, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # rounds; with the backoff below the last one is ~2 hours after the first
BACKOFF_BASE_S = 60
BACKOFF_MAX_S = 3600
#: A delivery still ``sending`` after this long lost its sender: it is sent again.
STUCK_AFTER = dt.timedelta(minutes=5)
#: Retries inside one round (urllib3): quick ones for a blip; the outbox waits out longer outages.
ROUND_RETRY = Retry(total=2, connect=2, read=1, status=2, backoff_factor=0.5, backoff_max=5,
                    status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"POST"}),
                    respect_retry_after_header=True, raise_on_status=False, redirect=0)
TIMEOUT = Timeout(connect=5.0, read=10.0)
USER_AGENT = "Hakobu-Webhooks/1"


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, ready to send."""

    id: str
    event_id: str
    url: str
    secret: str
    body: str
    attempts: int


@dataclass
class DeliveryStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0


def event_body(event: OrderEvent) -> str:
    """The JSON body of an event, as sent and as the events feed of the API lists it."""
    return json.dumps(event_json(event), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def event_json(event: OrderEvent) -> dict[str, Any]:
    return {"id": event.id, "type": event.type,
            "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(), "data": event.payload}


def claim_due(db: Database, now: dt.datetime, limit: int = 20) -> list[Outgoing]:
    """Move up to ``limit`` due deliveries to ``sending`` (and take back stuck ones first).

    An idle round is one read: the worker calls this every interval, and a write transaction
    would take SQLite's write lock for nothing."""
    with db.read() as session:
        due = session.scalars(select(WebhookDelivery.id).where(
            ((WebhookDelivery.state == DeliveryState.QUEUED.value) & (WebhookDelivery.next_attempt_at <= now))
            | ((WebhookDelivery.state == DeliveryState.SENDING.value)
               & (WebhookDelivery.updated_at <= now - STUCK_AFTER))).limit(1)).first()
    if due is None:
        return []
    with db.write() as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.state == DeliveryState.SENDING.value,
                   WebhookDelivery.updated_at <= now - STUCK_AFTER)
            .values(state=DeliveryState.QUEUED.value, error="sender lost mid-request; sent again",
                    updated_at=now)
            .execution_options(synchronize_session=False))
        query = (select(WebhookDelivery)
                 .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                 .join(Integration, Integration.id == WebhookEndpoint.integration_id)
                 .where(WebhookDelivery.state == DeliveryState.QUEUED.value,
                        WebhookDelivery.next_attempt_at <= now)
                 .order_by(WebhookDelivery.next_attempt_at).limit(limit))
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        claimed = []
        for delivery in session.scalars(query):
            endpoint = delivery.endpoint
            if not (endpoint.active and endpoint.integration.active):
                transition(delivery, DeliveryState.DEAD)
                delivery.error = "endpoint removed or integration switched off"
                delivery.updated_at = now
                continue
            transition(delivery, DeliveryState.SENDING)
            delivery.attempts += 1
            delivery.updated_at = now
            claimed.append(Outgoing(delivery.id, delivery.event_id, endpoint.url, endpoint.secret,
                                    event_body(delivery.event), delivery.attempts))
        return claimed


def record_answer(db: Database, delivery_id: str, status: int | None, error: str, *,
                  now: dt.datetime) -> DeliveryState:
    """Record one round's outcome: delivered on a 2xx, else queued again with backoff, or dead
    when out of attempts."""
    with db.write() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        delivery.last_status = status
        delivery.updated_at = now
        if delivery.state != DeliveryState.SENDING:  # taken back as stuck meanwhile: keep that
            return DeliveryState(delivery.state)
        if status is not None and 200 <= status < 300:
            transition(delivery, DeliveryState.DELIVERED)
            delivery.delivered_at = now
            delivery.error = ""
        elif delivery.attempts >= MAX_ATTEMPTS:
            transition(delivery, DeliveryState.DEAD)
            delivery.error = error[:1000]
        else:
            transition(delivery, DeliveryState.QUEUED)
            delivery.error = error[:1000]
            delivery.next_attempt_at = now + dt.timedelta(
                seconds=min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (delivery.attempts - 1)))
        return DeliveryState(delivery.state)


def send_again(db: Database, delivery_id: str, *, now: dt.datetime,
               integration_id: str | None = None) -> None:
    """An admin's retry of a dead delivery: queued now, with a fresh count of attempts."""
    with db.write() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or (integration_id is not None
                                and delivery.endpoint.integration_id != integration_id):
            raise NotFound(f"webhook delivery {delivery_id} not found")
        transition(delivery, DeliveryState.QUEUED)
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.updated_at = now


def _post(http: urllib3.PoolManager, outgoing: Outgoing, now: dt.datetime) -> tuple[int | None, str]:
    """One round's request (urllib3 retries inside it); (final HTTP status or None, error text)."""
    body = outgoing.body.encode()
    headers = {"content-type": "application/json", "user-agent": USER_AGENT,
               "webhook-id": outgoing.event_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(outgoing.secret).sign(outgoing.event_id, now, body)}
    try:
        response = http.request("POST", outgoing.url, body=body, headers=headers, retries=ROUND_RETRY,
                                timeout=TIMEOUT, preload_content=True)
    except urllib3.exceptions.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:1000]
    if 200 <= response.status < 300:
        return response.status, ""
    return response.status, f"HTTP {response.status}"


def deliver_due(db: Database, now: dt.datetime | None = None, *, http: urllib3.PoolManager | None = None,
                limit: int = 50) -> DeliveryStats:
    """Send every delivery due at ``now``; never raises for one endpoint's failure."""
    stats = DeliveryStats()
    pool = http or urllib3.PoolManager()
    for outgoing in claim_due(db, now or dt.datetime.now(dt.UTC), limit):
        sent_at = now or dt.datetime.now(dt.UTC)
        status, error = _post(pool, outgoing, sent_at)
        state = record_answer(db, outgoing.id, status, error, now=sent_at)
        stats.delivered += state == DeliveryState.DELIVERED
        stats.retried += state == DeliveryState.QUEUED
        stats.dead += state == DeliveryState.DEAD
        if state != DeliveryState.DELIVERED:
            log.warning("webhook delivery %s not delivered (%s): %s", outgoing.id, state, error)
    return stats
