"""Issue 16, item 6: the review queue turns a text into an order, or its unknown number into a
resident's proxy, in one step (and refuses as a whole)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Message, Order, Proxy, Resident
from sms.service import receive_sms
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.db
UNKNOWN = "+819012345678"


def _text(db: Database, phone: str, body: str) -> str:
    receive_sms(db, "simulator", None, phone, body, dt.datetime.now(dt.UTC), settings=Settings())
    with db.read() as s:
        return s.scalars(select(Message.id).where(Message.direction == "in", Message.phone == phone)
                         .order_by(Message.created_at.desc())).first() or ""


def _resident(db: Database, code: str = "R1") -> Resident:
    with db.read() as s:
        return s.scalars(select(Resident).where(Resident.code == code)).one()


def _orders(db: Database, resident_id: str) -> list[Order]:
    with db.read() as s:
        return list(s.scalars(select(Order).where(Order.resident_id == resident_id)
                              .options(selectinload(Order.items))))


def test_a_text_nobody_understood_becomes_its_order_in_one_step(client: FlaskClient, db: Database,
                                                                 tiny_region: str, make_user) -> None:
    resident = _resident(db)
    message_id = _text(db, resident.phone, "こんにちは 牛乳 をおねがい")
    login(client, make_user("operator", hubs=("H1",)))
    queue = client.get("/intake/review").get_data(as_text=True)
    assert f'action="/intake/review/{message_id}/order"' in queue
    assert resident.name in queue and f'href="tel:{resident.phone}"' in queue  # who sent it, and a call link
    answer = client.post(f"/intake/review/{message_id}/order", data={
        "csrf_token": csrf_token(client, "/intake/review"), "resident_id": resident.id, "wish": "1:morning",
        "item0": "牛乳", "qty0": "2", "item1": "", "qty1": "1"}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    [order] = _orders(db, resident.id)
    assert f"Order #{order.number} placed" in page and message_id not in page  # closed: off the queue
    assert order.channel == "sms" and [(i.name, i.quantity) for i in order.items] == [("牛乳", 2)]
    with db.read() as s:
        message = s.get_one(Message, message_id)
        received = s.scalar(select(func.count()).select_from(Message).where(
            Message.template == "order_received", Message.order_id == order.id))
    assert message.review == "done" and message.order_id == order.id
    assert received == 1  # the resident is told, as for any order


def test_a_refused_order_changes_nothing(client: FlaskClient, db: Database, tiny_region: str,
                                         make_user) -> None:
    resident = _resident(db)
    message_id = _text(db, resident.phone, "おねがいします")
    login(client, make_user("operator", hubs=("H1",)))
    page = client.post(f"/intake/review/{message_id}/order", data={
        "csrf_token": csrf_token(client, "/intake/review"), "resident_id": resident.id, "wish": "0:any",
        "item0": "", "qty0": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Not placed: an order needs at least one item" in page
    assert _orders(db, resident.id) == []
    with db.read() as s:
        assert s.get_one(Message, message_id).review == "pending"


def test_an_unknown_number_becomes_a_proxy_whose_next_text_is_an_order(client: FlaskClient, db: Database,
                                                                        tiny_region: str, make_user) -> None:
    resident = _resident(db, "R2")
    message_id = _text(db, UNKNOWN, "母の代わりに注文したいです")
    login(client, make_user("operator", hubs=("H1",)))
    queue = client.get("/intake/review").get_data(as_text=True)
    assert re.search(rf'action="/intake/review/{message_id}/proxy"', queue)
    page = client.post(f"/intake/review/{message_id}/proxy", data={
        "csrf_token": csrf_token(client, "/intake/review"), "resident_id": resident.id,
        "name": "佐藤 次郎", "relation": "family", "consent_note": "本人に電話で確認"},
        follow_redirects=True).get_data(as_text=True)
    assert "registered as a proxy" in page
    with db.read() as s:
        proxy = s.scalars(select(Proxy).where(Proxy.phone == UNKNOWN)).one()
        assert s.get_one(Message, message_id).review == "done"
    assert (proxy.resident_id, proxy.relation, proxy.active, proxy.consent_note) == (
        resident.id, "family", True, "本人に電話で確認")
    _text(db, UNKNOWN, "注文 米 2")  # the next text from that number is understood
    assert [o.channel for o in _orders(db, resident.id)] == ["proxy"]


def test_another_hubs_operator_cannot_close_a_residents_text(client: FlaskClient, db: Database,
                                                             tiny_region: str, make_user, make_hub) -> None:
    resident = _resident(db)
    message_id = _text(db, resident.phone, "おねがいします")
    make_hub("other", region_code="tiny")
    login(client, make_user("operator", email="o@example.jp", hubs=("other",)))
    answer = client.post(f"/intake/review/{message_id}/order", data={
        "csrf_token": csrf_token(client, "/intake/review"), "resident_id": resident.id, "wish": "0:any",
        "item0": "米", "qty0": "1"})
    assert answer.status_code in (302, 404)
    assert _orders(db, resident.id) == []
    with db.read() as s:
        assert s.get_one(Message, message_id).review == "pending"
