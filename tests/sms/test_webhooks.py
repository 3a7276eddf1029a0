"""Webhooks: only correctly signed requests write anything; replies come back as TwiML."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from dispatch.models import Message, Order
from web import create_app

pytestmark = pytest.mark.db
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://hub.example.jp"
SECRET = "gateway-signing-key"


@pytest.fixture
def app(database_url: str, tiny_region: str) -> Iterator[Flask]:
    application = create_app({"database_url": database_url, "secret_key": "k", "TESTING": True,
                              "twilio_auth_token": TOKEN, "public_url": PUBLIC,
                              "gateway_webhook_secret": SECRET, "outbox_worker": False})
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def inbound(sid: str = "SM" + "1" * 32, body: str = "注文 米 2",
            phone: str = "+817000000001") -> dict[str, str]:
    return {"MessageSid": sid, "From": phone, "To": "+815000000000", "Body": body,
            "AccountSid": "AC" + "0" * 32}


def sign(path: str, params: dict[str, str], base: str = PUBLIC) -> str:
    return RequestValidator(TOKEN).compute_signature(base + path, params)


def rows(app: Flask, model: type) -> int:
    with app.extensions["hakobu"].db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_signed_inbound_order_is_answered_in_twiml(client: FlaskClient, app: Flask) -> None:
    params = inbound()
    response = client.post("/sms/twilio/inbound", data=params,
                           headers={"X-Twilio-Signature": sign("/sms/twilio/inbound", params)})
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    text = response.get_data(as_text=True)
    assert "<Response><Message>" in text and "受け付けました" in text
    assert rows(app, Order) == 1
    with app.extensions["hakobu"].db.read() as s:
        reply = s.scalars(select(Message).where(Message.direction == "out")).one()
    assert reply.status == "sent" and "受け付けました" in reply.body


def test_a_twilio_retry_gets_the_same_answer_and_no_second_order(client: FlaskClient,
                                                                  app: Flask) -> None:
    params = inbound()
    headers = {"X-Twilio-Signature": sign("/sms/twilio/inbound", params)}
    first = client.post("/sms/twilio/inbound", data=params, headers=headers)
    second = client.post("/sms/twilio/inbound", data=params, headers=headers)
    assert first.get_data() == second.get_data()
    assert rows(app, Order) == 1 and rows(app, Message) == 2


@pytest.mark.parametrize("case", ["missing", "tampered body", "wrong scheme", "extra parameter",
                                  "wrong token"])
def test_unsigned_or_tampered_webhooks_are_rejected_and_write_nothing(
        client: FlaskClient, app: Flask, case: str) -> None:
    params = inbound()
    signature = sign("/sms/twilio/inbound", params)
    headers = {"X-Twilio-Signature": signature}
    if case == "missing":
        headers = {}
    elif case == "tampered body":
        params = {**params, "Body": "注文 米 20"}
    elif case == "wrong scheme":
        headers["X-Twilio-Signature"] = sign("/sms/twilio/inbound", params,
                                             base=PUBLIC.replace("https", "http"))
    elif case == "extra parameter":
        params = {**params, "NumMedia": "0"}
    elif case == "wrong token":
        headers["X-Twilio-Signature"] = RequestValidator("other").compute_signature(
            PUBLIC + "/sms/twilio/inbound", params)
    response = client.post("/sms/twilio/inbound", data=params, headers=headers)
    assert response.status_code == 403
    assert rows(app, Message) == 0 and rows(app, Order) == 0


def test_status_callbacks_are_signed_too(client: FlaskClient, app: Flask) -> None:
    params = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    assert client.post("/sms/twilio/status", data=params).status_code == 403
    ok = client.post("/sms/twilio/status", data=params,
                     headers={"X-Twilio-Signature": sign("/sms/twilio/status", params)})
    assert ok.status_code == 204


def _gateway_event(event_id: str = "ev-1", body: str = "注文 牛乳 1") -> bytes:
    return json.dumps({"deviceId": "dev", "event": "sms:received", "id": event_id,
                       "webhookId": "wh", "payload": {"messageId": "m1", "message": body,
                       "phoneNumber": "+817000000001", "simNumber": 1,
                       "receivedAt": "2026-11-24T09:30:00.000+09:00"}}).encode()


def _gateway_headers(raw: bytes, key: str = SECRET, stamp: int | None = None) -> dict[str, str]:
    ts = str(stamp if stamp is not None else int(time.time()))
    signature = hmac.new(key.encode(), raw + ts.encode(), hashlib.sha256).hexdigest()
    return {"X-Signature": signature, "X-Timestamp": ts, "Content-Type": "application/json"}


def test_the_android_gateway_webhook_places_an_order_and_queues_the_reply(
        client: FlaskClient, app: Flask) -> None:
    raw = _gateway_event()
    response = client.post("/sms/gateway/webhook", data=raw, headers=_gateway_headers(raw))
    assert response.status_code == 204
    assert rows(app, Order) == 1
    with app.extensions["hakobu"].db.read() as s:
        reply = s.scalars(select(Message).where(Message.direction == "out")).one()
    assert reply.status == "queued" and reply.template == "order_received"
    again = client.post("/sms/gateway/webhook", data=raw, headers=_gateway_headers(raw))
    assert again.status_code == 204 and rows(app, Order) == 1


@pytest.mark.parametrize("case", ["bad key", "old timestamp", "no headers"])
def test_badly_signed_gateway_webhooks_are_rejected(client: FlaskClient, app: Flask,
                                                    case: str) -> None:
    raw = _gateway_event()
    headers = {"bad key": _gateway_headers(raw, key="wrong"),
               "old timestamp": _gateway_headers(raw, stamp=int(time.time()) - 3600),
               "no headers": {"Content-Type": "application/json"}}[case]
    assert client.post("/sms/gateway/webhook", data=raw, headers=headers).status_code == 403
    assert rows(app, Message) == 0
