"""The Android SIM gateway ("SMS Gateway for Android", local-server mode): its signed webhook in, its
REST API out through the ``android-sms-gateway`` client, faked only at the client's HTTP boundary."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from android_sms_gateway.http import RequestsHttpClient
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.models import Message, Order
from sms.sender import send_due
from sms.transports import (
    AndroidGatewayTransport,
    PermanentSendError,
    TransientSendError,
    build_transport,
)
from tests.sms.conftest import (
    GATEWAY_URL,
    GatewayApiDouble,
    gateway_event,
    gateway_headers,
    rows,
)

pytestmark = pytest.mark.db
WEBHOOK = "/sms/gateway/webhook"
Api = tuple[GatewayApiDouble, RequestsHttpClient]


def post_event(client: FlaskClient, raw: bytes, **signing: object) -> int:
    return client.post(WEBHOOK, data=raw, headers=gateway_headers(raw, **signing)).status_code  # type: ignore[arg-type]


def transport(api: Api) -> AndroidGatewayTransport:
    return AndroidGatewayTransport(GATEWAY_URL, "sms", "gateway-password", http=api[1])


def outbound(app: Flask) -> list[Message]:
    with app.extensions["hakobu"].db.read() as s:
        return list(s.scalars(select(Message).where(Message.direction == "out").order_by(Message.created_at)))


# --------------------------------------------------------------------------- webhook in


def test_a_text_through_the_gateway_orders_and_its_reply_goes_out_through_the_rest_api(
        client: FlaskClient, app: Flask, gateway_api: Api) -> None:
    double, _ = gateway_api
    assert post_event(client, gateway_event(body="注文 米 2")) == 204
    assert rows(app, Order) == 1
    [reply] = outbound(app)
    assert reply.status == "queued" and reply.template == "order_received"  # after commit, by the worker

    stats = send_due(app.extensions["hakobu"].db, transport(gateway_api))
    assert stats.sent == 1
    [call] = double.requests
    assert call["method"] == "POST" and call["url"] == f"{GATEWAY_URL}/messages"
    assert call["headers"]["Authorization"] == "Basic " + base64.b64encode(b"sms:gateway-password").decode()
    assert call["json"]["phoneNumbers"] == ["+817000000001"]
    assert "受け付けました" in call["json"]["textMessage"]["text"]
    [sent] = outbound(app)
    assert sent.status == "sent" and sent.external_id == "gw-1" and sent.transport == "android_gateway"

    assert send_due(app.extensions["hakobu"].db, transport(gateway_api)).sent == 0
    assert len(double.requests) == 1  # never twice


def test_gateway_retries_of_one_event_make_one_order_and_one_reply(client: FlaskClient, app: Flask) -> None:
    raw = gateway_event(event_id="ev-42")
    assert [post_event(client, raw) for _ in range(3)] == [204, 204, 204]
    assert rows(app, Order) == 1 and rows(app, Message, Message.direction == "out") == 1


def test_two_texts_with_the_same_content_id_are_two_messages(client: FlaskClient, app: Flask) -> None:
    """The payload's messageId is content-based (not unique): the event id is what identifies a text."""
    assert post_event(client, gateway_event(event_id="ev-1", body="注文 米 2")) == 204
    assert post_event(client, gateway_event(event_id="ev-2", body="注文 米 2")) == 204
    assert rows(app, Order) == 2


def test_delivery_reports_only_move_a_message_forward(client: FlaskClient, app: Flask,
                                                      gateway_api: Api) -> None:
    post_event(client, gateway_event())
    send_due(app.extensions["hakobu"].db, transport(gateway_api))

    def report(kind: str, event_id: str, **extra: str) -> str:
        raw = gateway_event(event_id=event_id, kind=kind,
                            payload={"messageId": "gw-1", "phoneNumber": "+817000000001", **extra})
        assert post_event(client, raw) == 204
        return outbound(app)[0].status

    assert report("sms:delivered", "ev-d") == "delivered"
    assert report("sms:sent", "ev-s") == "delivered"  # late
    assert report("sms:failed", "ev-f", reason="RESULT_ERROR_GENERIC_FAILURE") == "delivered"
    assert rows(app, Message, Message.direction == "in") == 1  # reports are not inbound texts


def test_a_failure_report_records_the_reason(client: FlaskClient, app: Flask, gateway_api: Api) -> None:
    post_event(client, gateway_event())
    send_due(app.extensions["hakobu"].db, transport(gateway_api))
    raw = gateway_event(event_id="ev-f", kind="sms:failed",
                        payload={"messageId": "gw-1", "reason": "RESULT_ERROR_NO_SERVICE"})
    assert post_event(client, raw) == 204
    [message] = outbound(app)
    assert message.status == "failed" and message.error == "RESULT_ERROR_NO_SERVICE"


def test_pings_and_unknown_events_are_accepted_and_write_nothing(client: FlaskClient, app: Flask) -> None:
    ping = gateway_event(kind="system:ping", payload={"health": {"status": "pass"}})
    assert post_event(client, ping) == 204
    assert post_event(client, gateway_event(kind="mms:received", payload={"messageId": "x"})) == 204
    assert rows(app, Message) == 0


def test_nul_and_lone_surrogates_in_a_gateway_text_are_kept(client: FlaskClient, app: Flask) -> None:
    raw = json.dumps({"event": "sms:received", "id": "ev-x", "payload": {
        "message": "注文 米 2\u0000\ud800", "phoneNumber": "+817000000001",
        "receivedAt": "2026-11-24T09:30:00.000+09:00"}}).encode()
    assert post_event(client, raw) == 204
    with app.extensions["hakobu"].db.read() as s:
        body = s.scalars(select(Message.body).where(Message.direction == "in")).one()
    assert body == "注文 米 2\u2400\ufffd" and rows(app, Order) == 1


@pytest.mark.parametrize("case", ["bad key", "old timestamp", "future timestamp", "no headers",
                                  "tampered body", "timestamp changed", "not a number"])
def test_badly_signed_gateway_webhooks_are_rejected_and_write_nothing(client: FlaskClient, app: Flask,
                                                                      case: str) -> None:
    raw = gateway_event()
    now = int(time.time())
    headers = gateway_headers(raw)
    if case == "bad key":
        headers = gateway_headers(raw, key="wrong")
    elif case == "old timestamp":
        headers = gateway_headers(raw, stamp=now - 3600)  # a replay
    elif case == "future timestamp":
        headers = gateway_headers(raw, stamp=now + 3600)
    elif case == "no headers":
        headers = {"Content-Type": "application/json"}
    elif case == "tampered body":
        raw = raw.replace(b'"id": "ev-1"', b'"id": "ev-9"')
        assert raw != gateway_event()
    elif case == "timestamp changed":
        headers["X-Timestamp"] = str(int(headers["X-Timestamp"]) - 1)
    elif case == "not a number":
        headers["X-Timestamp"] = "soon"
    assert client.post(WEBHOOK, data=raw, headers=headers).status_code == 403
    assert rows(app, Message) == 0


def test_without_a_signing_key_the_gateway_webhook_is_closed(database_url: str, tiny_region: str) -> None:
    from web import create_app

    app = create_app({"database_url": database_url, "secret_key": "k", "TESTING": True,
                      "outbox_worker": False})
    try:
        raw = gateway_event()
        response = app.test_client().post(WEBHOOK, data=raw, headers=gateway_headers(raw, key=""))
        assert response.status_code == 403 and rows(app, Message) == 0
    finally:
        app.extensions["hakobu"].db.dispose()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"event": "sms:received"}',
                                 b'{"event": "sms:received", "id": "e", "payload": "text"}'])
def test_signed_but_malformed_events_are_bad_requests_that_write_nothing(client: FlaskClient, app: Flask,
                                                                         raw: bytes) -> None:
    assert post_event(client, raw) == 400
    assert rows(app, Message) == 0


# --------------------------------------------------------------------------- REST out


def test_rate_limits_and_server_errors_are_retried_with_growing_backoff(app: Flask, gateway_api: Api) -> None:
    import datetime as dt

    from dispatch.services import outbox

    double, _ = gateway_api
    db = app.extensions["hakobu"].db
    now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    with db.write() as s:
        outbox.queue(s, "+817000000001", "help", {}, "ja", now=now)
    double.script = [(429, {"message": "too many requests"}), (500, {"message": "boom"}),
                     (503, {"message": "unavailable"}), requests.exceptions.ConnectionError("phone offline")]
    waits = []
    for _ in range(4):
        assert send_due(db, transport(gateway_api), now=now).retried == 1
        [message] = outbound(app)
        assert message.status == "queued"
        waits.append(message.next_attempt_at.replace(tzinfo=dt.UTC) - now)
        now = message.next_attempt_at.replace(tzinfo=dt.UTC)
    assert waits == sorted(waits) and waits[0] < waits[-1]
    assert send_due(db, transport(gateway_api), now=now).sent == 1
    assert outbound(app)[0].status == "sent" and len(double.requests) == 5


@pytest.mark.parametrize("status", [400, 401, 403])
def test_permanent_gateway_errors_are_dead_lettered_with_the_reason(app: Flask, gateway_api: Api,
                                                                    status: int) -> None:
    from dispatch.services import outbox

    double, _ = gateway_api
    db = app.extensions["hakobu"].db
    with db.write() as s:
        outbox.queue(s, "+817000000001", "help", {}, "ja")
    double.script = [(status, {"message": "refused"})]
    assert send_due(db, transport(gateway_api)).dead == 1
    [message] = outbound(app)
    assert message.status == "dead" and f"gateway {status}" in message.error
    assert send_due(db, transport(gateway_api)).sent == 0 and len(double.requests) == 1


def test_the_transport_raises_the_outbox_kinds_of_error(gateway_api: Api) -> None:
    double, _ = gateway_api
    double.script = [(503, {}), (401, {})]
    with pytest.raises(TransientSendError, match="gateway 503"):
        transport(gateway_api).send("+817000000001", "テスト")
    with pytest.raises(PermanentSendError, match="gateway 401"):
        transport(gateway_api).send("+817000000001", "テスト")


def test_the_gateway_transport_is_built_from_the_settings(gateway_api: Api) -> None:
    double, http = gateway_api
    settings = Settings(sms_transport="android_gateway", gateway_url=GATEWAY_URL + "/",
                        gateway_login="sms", gateway_password="pw")
    built = build_transport(settings, http_client=http)
    assert built.name == "android_gateway"
    assert built.send("+817000000003", "hello").external_id == "gw-1"
    assert double.requests[0]["url"] == f"{GATEWAY_URL}/messages"
    with pytest.raises(PermanentSendError, match="HAKOBU_GATEWAY_URL"):
        build_transport(Settings(sms_transport="android_gateway"))


def test_events_without_an_id_are_each_stored_and_a_retry_is_still_one(client: FlaskClient, app: Flask,
                                                                       gateway_api: Api) -> None:
    """Red-team finding: an event with no id was stored under external id "None", so the next
    id-less event was dropped as its duplicate."""

    def idless(body: str, at: str) -> bytes:
        return json.dumps({"event": "sms:received", "payload": {
            "message": body, "phoneNumber": "+817000000001", "receivedAt": at}}).encode()

    first = idless("注文 米 1", "2026-11-24T09:30:00+09:00")
    second = idless("注文 牛乳 1", "2026-11-24T09:31:00+09:00")
    assert post_event(client, first) == 204 and post_event(client, second) == 204
    assert post_event(client, first) == 204  # the gateway's retry of the first
    assert rows(app, Message, Message.direction == "in") == 2
    with app.extensions["hakobu"].db.read() as s:
        ids = set(s.scalars(select(Message.external_id).where(Message.direction == "in")))
    assert "None" not in ids and len(ids) == 2


def test_a_payload_nested_too_deep_or_dated_out_of_range_is_no_500(client: FlaskClient, app: Flask) -> None:
    deep = b'{"event": "sms:received", "payload": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    assert post_event(client, deep) == 400
    odd_time = gateway_event(payload={"message": "注文 米 1", "phoneNumber": "+817000000001",
                                      "receivedAt": "9999-12-31T23:59:59-12:00"})
    assert post_event(client, odd_time) == 204 and rows(app, Order) == 1
