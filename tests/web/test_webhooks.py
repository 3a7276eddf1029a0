"""Outgoing webhooks to a real receiver on loopback: each event delivered once, signed (Standard
Webhooks, verified with the library the receiver would use), also after a forced retry; durable
backoff across rounds, dead letters sent again by an admin, events only of the integration's hubs
and of the types it asked for, and nothing recorded for a change that rolled back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from dispatch.db import Database
from dispatch.lifecycle import DeliveryState
from dispatch.models import OrderEvent, Resident, WebhookDelivery, utcnow
from dispatch.requests import ItemRequest
from dispatch.services import integrations, webhooks
from dispatch.services.ordering import cancel_order, place_order
from tests.dispatch.test_plan_edits import SETTINGS
from tests.web.api_support import Api, Receiver, api, receiver  # noqa: F401 - fixtures

pytestmark = pytest.mark.db


def _resident(db: Database, code: str = "R1") -> str:
    with db.read() as s:
        return s.scalars(select(Resident.id).where(Resident.code == code)).one()


def _order(db: Database) -> str:
    return place_order(db, _resident(db), [ItemRequest("牛乳", 1)], channel="web", now=utcnow()).id


def _deliveries(db: Database) -> list[WebhookDelivery]:
    with db.read() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


def test_an_event_is_delivered_once_signed(db: Database, api: Api, receiver: Receiver) -> None:  # noqa: F811
    endpoint = integrations.add_endpoint(db, api.integration_id, receiver.url, now=utcnow())
    order_id = _order(db)
    stats = webhooks.deliver_due(db, utcnow())
    assert (stats.delivered, stats.retried, stats.dead) == (1, 0, 0)
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    body = Webhook(endpoint.secret).verify(got.body, got.headers)  # raises on a bad signature
    assert body["type"] == "order.created" and body["data"]["order"]["id"] == order_id
    assert got.headers["webhook-id"] == body["id"]
    assert "田中" not in got.body.decode() and "+817" not in got.body.decode()  # no name, no phone
    webhooks.deliver_due(db, utcnow() + dt.timedelta(hours=3))
    assert len(receiver.requests) == 1 and receiver.accepted == [body["id"]]
    (delivery,) = _deliveries(db)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.DELIVERED, 1, 204)


def test_a_500_is_retried_and_the_event_still_arrives_once(db: Database, api: Api,  # noqa: F811
                                                           receiver: Receiver) -> None:  # noqa: F811
    receiver.fail_first = 1
    integrations.add_endpoint(db, api.integration_id, receiver.url, now=utcnow())
    _order(db)
    assert webhooks.deliver_due(db, utcnow()).delivered == 1
    assert len(receiver.requests) == 2  # the 500, then the retry (urllib3, within the round)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.accepted) == 1


def test_an_outage_waits_in_the_outbox_with_backoff(db: Database, api: Api, receiver: Receiver) -> None:  # noqa: F811
    receiver.fail_first = 3  # more than one round's retries
    integrations.add_endpoint(db, api.integration_id, receiver.url, now=utcnow())
    _order(db)
    start = utcnow()
    assert webhooks.deliver_due(db, start).retried == 1
    (delivery,) = _deliveries(db)
    assert delivery.state == DeliveryState.QUEUED and delivery.last_status == 500 and delivery.attempts == 1
    assert delivery.next_attempt_at == start + dt.timedelta(seconds=webhooks.BACKOFF_BASE_S)
    assert webhooks.deliver_due(db, start + dt.timedelta(seconds=30)).delivered == 0  # not due yet
    assert len(receiver.requests) == 3
    later = start + dt.timedelta(seconds=webhooks.BACKOFF_BASE_S + 1)
    assert webhooks.deliver_due(db, later).delivered == 1
    assert len(receiver.requests) == 4 and len(receiver.accepted) == 1
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    (delivery,) = _deliveries(db)
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 2


def test_out_of_attempts_it_is_dead_until_sent_again(db: Database, api: Api, receiver: Receiver,  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 1)
    receiver.fail_first = 3
    integrations.add_endpoint(db, api.integration_id, receiver.url, now=utcnow())
    _order(db)
    assert webhooks.deliver_due(db, utcnow()).dead == 1
    (delivery,) = _deliveries(db)
    assert delivery.state == DeliveryState.DEAD and delivery.error == "HTTP 500"
    webhooks.send_again(db, delivery.id, now=utcnow(), integration_id=api.integration_id)
    assert webhooks.deliver_due(db, utcnow()).delivered == 1
    assert len(receiver.accepted) == 1


def test_a_sender_lost_mid_request_is_sent_again_with_the_same_id(db: Database, api: Api,  # noqa: F811
                                                                  receiver: Receiver) -> None:  # noqa: F811
    integrations.add_endpoint(db, api.integration_id, receiver.url, now=utcnow())
    _order(db)
    start = utcnow()
    (claimed,) = webhooks.claim_due(db, start)  # ... and the process dies before the answer
    assert webhooks.deliver_due(db, start + dt.timedelta(minutes=1)).delivered == 0
    assert webhooks.deliver_due(db, start + webhooks.STUCK_AFTER).delivered == 1
    assert receiver.requests[0].headers["webhook-id"] == claimed.event_id


def test_only_the_hubs_and_types_asked_for(db: Database, api: Api, receiver: Receiver, make_hub) -> None:  # noqa: F811
    make_hub("other", region_code="tiny")
    shop = integrations.create_integration(db, "Shop", ["other"], now=utcnow())
    integrations.add_endpoint(db, shop, receiver.url, now=utcnow())  # another hub: hears nothing
    integrations.add_endpoint(db, api.integration_id, receiver.url, ["order.cancelled"], now=utcnow())
    order_id = _order(db)
    assert webhooks.deliver_due(db, utcnow()).delivered == 0
    assert cancel_order(db, order_id, "changed my mind", SETTINGS, now=utcnow())
    assert webhooks.deliver_due(db, utcnow()).delivered == 1
    assert [r.json["type"] for r in receiver.requests] == ["order.cancelled"]
    assert receiver.requests[0].json["data"]["previous_state"] == "confirmed"


def test_a_removed_endpoint_gets_nothing_more(db: Database, api: Api, receiver: Receiver) -> None:  # noqa: F811
    endpoint = integrations.add_endpoint(db, api.integration_id, receiver.url, now=utcnow())
    _order(db)
    integrations.remove_endpoint(db, endpoint.id)
    assert webhooks.deliver_due(db, utcnow()).delivered == 0
    assert receiver.requests == [] and _deliveries(db)[0].state == DeliveryState.DEAD


def test_a_change_that_rolls_back_records_no_event(db: Database, api: Api) -> None:  # noqa: F811
    integrations.add_endpoint(db, api.integration_id, "https://hooks.example.jp/h", now=utcnow())
    with pytest.raises(RuntimeError), db.write() as s:
        from dispatch.services.ordering import create_order

        create_order(s, s.get_one(Resident, _resident(db)), [ItemRequest("米", 1)], channel="web",
                     now=utcnow())
        s.flush()
        raise RuntimeError("the caller fails after the order was flushed")
    with db.read() as s:
        assert s.scalars(select(OrderEvent)).all() == [] and s.scalars(select(WebhookDelivery)).all() == []


@pytest.mark.parametrize("url", ["ftp://example.jp/x", "http://example.jp/hooks", "not a url", ""])
def test_an_endpoint_url_must_be_https_or_loopback(db: Database, api: Api, url: str) -> None:  # noqa: F811
    from dispatch.errors import DomainError

    with pytest.raises(DomainError, match="URL"):
        integrations.add_endpoint(db, api.integration_id, url, now=utcnow())


def test_the_outbox_worker_delivers_after_the_commit_that_queued(db: Database, api: Api,  # noqa: F811
                                                                 receiver: Receiver) -> None:  # noqa: F811
    """The same background loop as the SMS, woken by the commit (its interval is an hour here)."""
    import time

    from dispatch.db import WEBHOOKS_TOPIC
    from sms.sender import OutboxWorker
    from sms.transports import SimulatorTransport

    integrations.add_endpoint(db, api.integration_id, receiver.url, now=utcnow())
    worker = OutboxWorker(db, SimulatorTransport(), interval_s=3600)
    db.after_commit(WEBHOOKS_TOPIC, worker.wake)
    worker.start()
    try:
        _order(db)
        deadline = time.monotonic() + 10
        while not receiver.accepted and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        worker.join(10)
    assert len(receiver.accepted) == 1
