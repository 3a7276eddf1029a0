"""Issue #4's "done when", end to end on the real app: the same order (注文 米 2) placed through the
SMS simulator, a signed Twilio webhook, the Android gateway's webhook, the residents' web form and
an operator's phone entry shows up in the console's order queue, each resident gets a Japanese
confirmation, and ``hakobu export orders --format json`` lists each order once with its channel."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.models import Message, Order, Resident, User
from dispatch.services.users import upsert_user
from sms.sender import send_due
from sms.transports import AndroidGatewayTransport
from tests.sms.conftest import (
    GATEWAY_URL,
    gateway_event,
    gateway_headers,
    twilio_inbound,
    twilio_signature,
)
from tests.web.conftest import csrf_token, login
from web.cli import main

pytestmark = pytest.mark.db
PASSWORD = "correct horse battery"
PHONES = {code: f"+81700000000{code[1]}" for code in ("R1", "R2", "R3", "R4", "R5")}


@pytest.fixture
def operator(app: Flask) -> FlaskClient:
    db = app.extensions["hakobu"].db
    upsert_user(db, "operator@example.jp", "Operator", "operator", PASSWORD, ("H1",), language="ja")
    client = app.test_client()
    login(client, "operator@example.jp", PASSWORD)
    return client


def _japanese_confirmation(text: str) -> None:
    # ... and names the delivery day (issue 13: every text that names a time names the day).
    day = r"(今日|明日|\d+月\d+日)"
    assert re.fullmatch(rf"ご注文#\d+を受け付けました: 米×2。{day}お届け予定です。", text), text


def test_one_order_through_every_channel(app: Flask, operator: FlaskClient, database_url: str,
                                         gateway_api: tuple) -> None:
    db = app.extensions["hakobu"].db

    # 1. The SMS simulator: a demo resident texts 注文 米 2 and sees the Japanese confirmation.
    token = csrf_token(operator, "/intake/simulator")
    sent = operator.post("/intake/simulator", data={"csrf_token": token, "phone": PHONES["R1"],
                                                    "body": "注文 米 2"})
    thread = operator.get(sent.headers["Location"]).get_data(as_text=True)
    assert "注文 米 2" in thread and re.search(r"ご注文#\d+を受け付けました: 米×2。", thread)

    # 2. A signed Twilio webhook: the confirmation comes back inline as TwiML.
    params = twilio_inbound(sid="SM" + "2" * 32, phone=PHONES["R2"])
    twiml = app.test_client().post("/sms/twilio/inbound", data=params, headers={
        "X-Twilio-Signature": twilio_signature("/sms/twilio/inbound", params)})
    _japanese_confirmation(ET.fromstring(twiml.get_data(as_text=True)).findtext("Message") or "")

    # 3. The Android gateway's signed webhook: the confirmation goes out through its REST API.
    raw = gateway_event(event_id="ev-journey", body="注文 米 2", phone=PHONES["R4"])
    assert app.test_client().post("/sms/gateway/webhook", data=raw,
                                  headers=gateway_headers(raw)).status_code == 204
    double, http = gateway_api
    send_due(db, AndroidGatewayTransport(GATEWAY_URL, "sms", "pw", http=http))
    [gateway_sms] = double.requests
    assert gateway_sms["json"]["phoneNumbers"] == [PHONES["R4"]]
    _japanese_confirmation(gateway_sms["json"]["textMessage"]["text"])

    # 4. The residents' web form: phone number, the code texted to it, the form.
    resident = app.test_client()
    page = resident.get("/order/sign-in").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resident.post("/order/sign-in", data={"phone": "070-0000-0005", "csrf_token": form_token})
    with db.read() as s:
        code = s.scalars(select(Message.params).where(Message.template == "login_code")).one()["code"]
    code_page = resident.get("/order/code").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', code_page).group(1)
    assert resident.post("/order/code", data={"code": code, "csrf_token": form_token}).status_code == 302
    home = resident.get("/order/").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', home).group(1)
    # one resident on this phone: the form carries them in a hidden field, named in the heading
    who = re.search(r'<input type="hidden" name="resident" value="([^"]+)"', home).group(1)
    assert resident.post("/order/", data={"csrf_token": form_token, "resident": who, "wish": "0:any",
                                          "item0": "米", "qty0": "2"}).status_code == 302

    # 5. Phone-proxy entry: the operator finds the resident by phone number and by code.
    by_phone = operator.get("/intake/phone?q=070-0000-0003").get_data(as_text=True)
    by_code = operator.get("/intake/phone?q=R3").get_data(as_text=True)
    link = re.search(r'href="(/intake/phone/[^"]+)"', by_phone).group(1)
    assert link in by_code
    entered = operator.post(link, data={"csrf_token": csrf_token(operator, link), "item0": "米", "qty0": "2",
                                        "wish": "0:any", "priority": "2"})
    assert entered.status_code == 302

    # Every order is in the console's queue, with its channel.
    with db.read() as s:
        orders = {s.get(Resident, o.resident_id).code: o for o in s.scalars(select(Order))}
        items = {code: [(i.name, i.quantity) for i in o.items] for code, o in orders.items()}
        operator_id = s.scalars(select(User.id).where(User.email == "operator@example.jp")).one()
    assert {code: o.channel for code, o in orders.items()} == {
        "R1": "sms", "R2": "sms", "R4": "sms", "R5": "web", "R3": "phone"}
    assert orders["R3"].entered_by_user_id == operator_id
    assert all(lines == [("米", 2)] for lines in items.values())
    dashboard = operator.get("/").get_data(as_text=True)
    for code, order in orders.items():
        row = re.search(rf'<tr data-order="{order.number}">(.*?)</tr>', dashboard, re.S)
        # the channel in the viewer's words; its code only in the cell's data attribute
        assert row and code in row.group(1) and f'<td data-channel="{order.channel}">' in row.group(1)

    # Each resident is confirmed in Japanese (their language); Emily (R3) in English.
    send_due(db, AndroidGatewayTransport(GATEWAY_URL, "sms", "pw", http=http))
    with db.read() as s:
        confirmations = {m.phone: m for m in s.scalars(
            select(Message).where(Message.template == "order_received"))}
    assert set(confirmations) == set(PHONES.values())
    assert {phone: m.language for phone, m in confirmations.items()} == {
        **{PHONES[c]: "ja" for c in ("R1", "R2", "R4", "R5")}, PHONES["R3"]: "en"}

    # The export lists each order once, with its channel.
    exported = json.loads(CliRunner().invoke(
        main, ["export", "orders", "--format", "json", "--database", database_url]).output)
    assert sorted((row["resident"], row["channel"]) for row in exported) == sorted(
        (code, o.channel) for code, o in orders.items())
    assert len({row["number"] for row in exported}) == 5
