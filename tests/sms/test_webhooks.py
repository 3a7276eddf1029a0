"""Twilio webhooks: only correctly signed requests write anything; a retry (even ten at once) makes
one order and one reply; the reply is TwiML built by twilio's MessagingResponse after the inbound
message is committed; status callbacks are signed too and never move a message backwards."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from dispatch.models import Message, OptOut, Order
from sms.sender import send_due
from sms.service import render_message
from sms.transports import TwilioTransport
from tests.concurrency import at_once
from tests.sms.conftest import (
    PUBLIC,
    TWILIO_TOKEN,
    TwilioApiDouble,
    rows,
    twilio_inbound,
    twilio_signature,
)
from web import create_app

pytestmark = pytest.mark.db
INBOUND = "/sms/twilio/inbound"
STATUS = "/sms/twilio/status"


def post_signed(client: FlaskClient, params: dict[str, str], path: str = INBOUND) -> object:
    return client.post(path, data=params, headers={"X-Twilio-Signature": twilio_signature(path, params)})


def twiml_messages(text: str) -> list[str]:
    """The texts of the <Message> verbs of a TwiML answer (parsed, not string-matched)."""
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def outbound(app: Flask) -> list[Message]:
    with app.extensions["hakobu"].db.read() as s:
        return list(s.scalars(select(Message).where(Message.direction == "out").order_by(Message.created_at)))


# --------------------------------------------------------------------------- inbound


def test_a_signed_order_is_committed_then_answered_in_japanese_twiml(client: FlaskClient,
                                                                     app: Flask) -> None:
    response = post_signed(client, twilio_inbound())
    assert response.status_code == 200 and response.mimetype == "application/xml"
    [text] = twiml_messages(response.get_data(as_text=True))
    assert text.startswith("ご注文#") and "受け付けました" in text and "米×2" in text
    # Everything the answer promises is already committed (read back in a fresh session).
    with app.extensions["hakobu"].db.read() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
        order = s.scalars(select(Order)).one()
        [reply] = s.scalars(select(Message).where(Message.direction == "out")).all()
    assert inbound.external_id == "SM" + "1" * 32 and inbound.body == "注文 米 2"
    assert order.state == "confirmed" and order.channel == "sms" and inbound.order_id == order.id
    assert reply.in_reply_to == inbound.id and reply.status == "sent" and reply.body == text
    assert render_message(reply.template, reply.language, reply.params, "Asia/Tokyo") == text  # tiny


def test_a_twilio_retry_gets_the_same_answer_and_no_second_order(client: FlaskClient,
                                                                  app: Flask) -> None:
    params = twilio_inbound()
    first = post_signed(client, params)
    second = post_signed(client, params)
    assert first.get_data() == second.get_data()
    assert rows(app, Order) == 1 and rows(app, Message) == 2


def test_ten_concurrent_deliveries_of_one_message_sid_make_one_order_and_one_reply(app: Flask) -> None:
    params = twilio_inbound(sid="SM" + "7" * 32)
    headers = {"X-Twilio-Signature": twilio_signature(INBOUND, params)}
    answers: list[tuple[int, bytes]] = []

    def deliver(_: int) -> None:
        response = app.test_client().post(INBOUND, data=params, headers=headers)
        answers.append((response.status_code, response.get_data()))

    at_once(10, deliver)
    assert [status for status, _ in answers] == [200] * 10
    assert len({body for _, body in answers}) == 1  # every retry is told the same thing
    assert twiml_messages(answers[0][1].decode())[0].startswith("ご注文#")
    assert rows(app, Order) == 1
    assert rows(app, Message, Message.direction == "in") == 1
    assert rows(app, Message, Message.direction == "out") == 1


def test_the_inline_reply_is_never_sent_again_by_the_outbox(client: FlaskClient, app: Flask) -> None:
    post_signed(client, twilio_inbound())
    api = TwilioApiDouble()
    transport = TwilioTransport("AC" + "0" * 32, TWILIO_TOKEN, "+815000000000", http_client=api)
    assert send_due(app.extensions["hakobu"].db, transport).sent == 0
    assert api.requests == []  # the webhook made no REST call, and the worker has nothing to send


def test_a_body_with_a_nul_character_is_kept_and_answered(client: FlaskClient,
                                                                            app: Flask) -> None:
    response = post_signed(client, twilio_inbound(body="注\x00文 米 2"))
    assert response.status_code == 200
    assert "受け付けました" in twiml_messages(response.get_data(as_text=True))[0]
    with app.extensions["hakobu"].db.read() as s:
        stored = s.scalars(select(Message.body).where(Message.direction == "in")).one()
    assert stored == "注\u2400文 米 2"  # visible stand-in: PostgreSQL cannot store NUL


def test_missing_sender_is_a_bad_request_that_writes_nothing(client: FlaskClient, app: Flask) -> None:
    params = {k: v for k, v in twilio_inbound().items() if k != "From"}
    assert post_signed(client, params).status_code == 400
    assert rows(app, Message) == 0


def test_stop_is_confirmed_once_and_then_nothing_is_sent_to_the_number(client: FlaskClient,
                                                                       app: Flask) -> None:
    stop = post_signed(client, twilio_inbound(sid="SM" + "a" * 32, body="停止"))
    assert twiml_messages(stop.get_data(as_text=True)) == [render_message("stopped", "ja", {}, "UTC")]
    again = post_signed(client, twilio_inbound(sid="SM" + "b" * 32, body="STOP"))
    assert twiml_messages(again.get_data(as_text=True)) == []
    order = post_signed(client, twilio_inbound(sid="SM" + "c" * 32, body="注文 米 1"))
    assert twiml_messages(order.get_data(as_text=True)) == []  # the order is taken, silently
    assert rows(app, Order) == 1 and rows(app, OptOut) == 1
    assert [m.template for m in outbound(app)] == ["stopped"]


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("case", ["missing", "tampered body", "wrong scheme", "extra parameter",
                                  "wrong token", "other path", "empty"])
def test_unsigned_or_tampered_webhooks_are_rejected_and_write_nothing(
        client: FlaskClient, app: Flask, case: str) -> None:
    params = twilio_inbound()
    headers = {"X-Twilio-Signature": twilio_signature(INBOUND, params)}
    if case == "missing":
        headers = {}
    elif case == "empty":
        headers["X-Twilio-Signature"] = ""
    elif case == "tampered body":
        params = {**params, "Body": "注文 米 20"}
    elif case == "wrong scheme":
        http = PUBLIC.replace("https", "http")
        headers["X-Twilio-Signature"] = twilio_signature(INBOUND, params, base=http)
    elif case == "extra parameter":
        params = {**params, "NumMedia": "0"}
    elif case == "wrong token":
        headers["X-Twilio-Signature"] = twilio_signature(INBOUND, params, token="other")
    elif case == "other path":
        headers["X-Twilio-Signature"] = twilio_signature(STATUS, params)
    response = client.post(INBOUND, data=params, headers=headers)
    assert response.status_code == 403
    assert rows(app, Message) == 0 and rows(app, Order) == 0


def _app(database_url: str, **settings: object) -> Flask:
    return create_app({"database_url": database_url, "secret_key": "k", "TESTING": True,
                       "outbox_worker": False, **settings})


def test_without_an_auth_token_every_twilio_request_is_refused(database_url: str, tiny_region: str) -> None:
    app = _app(database_url, public_url=PUBLIC)
    try:
        params = twilio_inbound()
        signature = RequestValidator("").compute_signature(PUBLIC + INBOUND, params)
        response = app.test_client().post(INBOUND, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403 and rows(app, Message) == 0
    finally:
        app.extensions["hakobu"].db.dispose()


@pytest.fixture
def behind_proxy(database_url: str, tiny_region: str) -> Iterator[dict[str, Flask]]:
    """Two apps without HAKOBU_PUBLIC_URL: one trusting the reverse proxy's headers, one not."""
    apps = {"trusted": _app(database_url, twilio_auth_token=TWILIO_TOKEN, trust_proxy=True),
            "untrusted": _app(database_url, twilio_auth_token=TWILIO_TOKEN)}
    yield apps
    for application in apps.values():
        application.extensions["hakobu"].db.dispose()


def test_behind_a_reverse_proxy_the_forwarded_url_counts_only_when_trusted(
        behind_proxy: dict[str, Flask]) -> None:
    params = twilio_inbound()
    headers = {"X-Twilio-Signature": twilio_signature(INBOUND, params),  # Twilio signed https://hub…
               "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example.jp",
               "X-Forwarded-For": "1.2.3.4"}
    untrusted = behind_proxy["untrusted"].test_client().post(INBOUND, data=params, headers=headers,
                                                             base_url="http://10.0.0.5:8000")
    assert untrusted.status_code == 403  # forwarded headers are ignored unless HAKOBU_TRUST_PROXY
    trusted = behind_proxy["trusted"].test_client().post(INBOUND, data=params, headers=headers,
                                                         base_url="http://10.0.0.5:8000")
    assert trusted.status_code == 200 and rows(behind_proxy["trusted"], Order) == 1


def test_the_public_url_wins_over_what_the_request_looks_like(client: FlaskClient, app: Flask) -> None:
    params = twilio_inbound()
    seen_here = "http://localhost" + INBOUND
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(seen_here, params)
    assert client.post(INBOUND, data=params, headers={"X-Twilio-Signature": signature}).status_code == 403


# --------------------------------------------------------------------------- status callbacks


def _sent_through_twilio(app: Flask) -> str:
    """Queue a notification and send it through Twilio's (double) API; returns its MessageSid."""
    from dispatch.services import outbox

    db = app.extensions["hakobu"].db
    with db.write() as s:
        outbox.queue(s, "+817000000001", "help", {}, "ja")
    api = TwilioApiDouble()
    send_due(db, TwilioTransport("AC" + "0" * 32, TWILIO_TOKEN, "+815000000000", http_client=api))
    [message] = outbound(app)
    assert message.status == "sent" and message.external_id
    return message.external_id


def test_unsigned_status_callbacks_change_nothing(client: FlaskClient, app: Flask) -> None:
    sid = _sent_through_twilio(app)
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert client.post(STATUS, data=params).status_code == 403
    assert client.post(STATUS, data=params, headers={"X-Twilio-Signature": "forged"}).status_code == 403
    assert outbound(app)[0].status == "sent"


def test_status_callbacks_only_move_forward_even_out_of_order(client: FlaskClient, app: Flask) -> None:
    sid = _sent_through_twilio(app)

    def callback(status: str, **extra: str) -> str:
        response = post_signed(client, {"MessageSid": sid, "MessageStatus": status, **extra}, STATUS)
        assert response.status_code == 204
        return outbound(app)[0].status

    assert callback("queued") == "sent"  # Twilio's "queued" is behind our "sent"
    assert callback("delivered") == "delivered"
    assert callback("sent") == "delivered"  # late, out of order
    assert callback("undelivered", ErrorCode="30003") == "delivered"  # final stays final
    assert outbound(app)[0].error == ""


def test_an_undelivered_callback_records_twilios_error_code(client: FlaskClient, app: Flask) -> None:
    sid = _sent_through_twilio(app)
    post_signed(client, {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}, STATUS)
    [message] = outbound(app)
    assert message.status == "undelivered" and message.error == "twilio error 30003"


def test_a_callback_for_an_unknown_message_is_accepted_and_changes_nothing(client: FlaskClient,
                                                                           app: Flask) -> None:
    response = post_signed(client, {"MessageSid": "SMunknown", "MessageStatus": "delivered"}, STATUS)
    assert response.status_code == 204 and rows(app, Message) == 0


def test_twilio_settings_come_from_the_environment(database_url: str, tiny_region: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token-from-env")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_FROM", "+815000000000")
    monkeypatch.setenv("HAKOBU_PUBLIC_URL", "https://tajima.example.jp")
    app = _app(database_url)
    try:
        settings = app.extensions["hakobu"].settings
        assert (settings.twilio_account_sid, settings.twilio_from) == ("AC" + "1" * 32, "+815000000000")
        params = twilio_inbound()
        signature = RequestValidator("token-from-env").compute_signature(
            "https://tajima.example.jp" + INBOUND, params)
        response = app.test_client().post(INBOUND, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and rows(app, Order) == 1
    finally:
        app.extensions["hakobu"].db.dispose()
