"""Inbound SMS end to end through the service layer: orders, commands, review queue, dedupe."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.models import Message, OptOut, Order, Proxy, Resident
from dispatch.services import outbox
from sms.service import receive_sms, render_message

pytestmark = pytest.mark.db

R1 = "+817000000001"  # 田中 花子, Japanese
R3 = "+817000000003"  # Emily Carter, English
NOW = dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.UTC)  # 09:30 in Tokyo


@pytest.fixture
def sms(db: Database, tiny_region: str) -> Callable[..., object]:
    counter = iter(range(1, 10_000))

    def send(phone: str, body: str, sid: str | None = None, at: dt.datetime = NOW) -> object:
        return receive_sms(db, "twilio", sid or f"SM{next(counter):032d}", phone, body, at)

    return send


def count(db: Database, model: type, *where: object) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_japanese_order_creates_a_confirmed_order_and_a_japanese_reply(db: Database, sms) -> None:
    reply = sms(R1, "注文 米5kg 1、牛乳 2本 午後")
    assert reply.template == "order_received"
    text = render_message(reply.template, reply.language, reply.params)
    assert "受け付けました" in text and "米5kg" in text
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        items = [(i.name, i.quantity) for i in order.items]
        assert order.state == "confirmed" and order.channel == "sms"
        assert items == [("米5kg", 1), ("牛乳", 2)]
        assert order.weight_kg == pytest.approx(5 + 2 * 1.05)
        local_start = order.window_start.astimezone(dt.timezone(dt.timedelta(hours=9)))
        assert local_start.hour >= 12  # 午後 = afternoon


def test_an_english_resident_gets_english(db: Database, sms) -> None:
    reply = sms(R3, "ORDER rice 2, milk 1 tomorrow morning")
    assert reply.template == "order_received" and reply.language == "en"
    assert render_message(reply.template, reply.language, reply.params).startswith("Order #")


def test_a_retried_message_sid_creates_one_order_and_one_reply(db: Database, sms) -> None:
    first = sms(R1, "注文 米 2", sid="SMdup")
    again = sms(R1, "注文 米 2", sid="SMdup")
    assert again.duplicate and again.message_id == first.message_id
    assert count(db, Order) == 1
    assert count(db, Message, Message.direction == "out") == 1


def test_ten_concurrent_deliveries_of_one_sid_make_one_order(db: Database, tiny_region: str) -> None:
    replies: list[object] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            replies.append(receive_sms(db, "twilio", "SMrace", R1, "注文 米 2", NOW))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(db, Order) == 1
    assert count(db, Message, Message.direction == "in") == 1
    assert count(db, Message, Message.direction == "out") == 1
    assert len({r.message_id for r in replies}) == 1


def test_unknown_numbers_are_answered_and_queued_for_review(db: Database, sms) -> None:
    reply = sms("+819012345678", "注文 米 1")
    assert reply.template == "unknown_number"
    with db.read() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
    assert inbound.review == "pending" and inbound.body == "注文 米 1"
    assert count(db, Order) == 0


def test_unparseable_text_gets_an_example_and_goes_to_review(db: Database, sms) -> None:
    reply = sms(R1, "あのー、よろしくお願いします")
    assert reply.template == "unparseable"
    assert "例" in render_message(reply.template, reply.language, reply.params)
    assert count(db, Message, Message.review == "pending") == 1


def test_status_and_cancel(db: Database, sms) -> None:
    placed = sms(R1, "注文 パン 1")
    number = placed.params["number"]
    status = sms(R1, "状況")
    assert status.template == "status" and status.params["number"] == number
    cancelled = sms(R1, f"取消 {number}")
    assert cancelled.template == "cancelled"
    with db.read() as s:
        assert s.scalars(select(Order.state)).one() == "cancelled"
    assert sms(R1, "キャンセル").template == "nothing_to_cancel"


def test_cancel_is_refused_once_the_parcel_is_out(db: Database, sms) -> None:
    sms(R1, "注文 パン 1")
    with db.write() as s:
        order = s.scalars(select(Order)).one()
        order.state = "in_transit"
    reply = sms(R1, "取消")
    assert reply.template == "cancel_not_possible"
    with db.read() as s:
        assert s.scalars(select(Order.state)).one() == "in_transit"


def test_stop_is_stored_and_nothing_is_sent_afterwards(db: Database, sms) -> None:
    assert sms(R1, "停止").template == "stopped"
    assert count(db, OptOut, OptOut.phone == R1) == 1
    reply = sms(R1, "注文 米 1")
    assert reply.message_id is None  # the order is taken, but no text goes to an opted-out number
    with db.write() as s:
        assert outbox.queue(s, R1, "help", {}, "ja") is None
    assert sms(R1, "開始").template == "started"
    assert count(db, OptOut) == 0


def _register_proxy(db: Database, phone: str, resident_code: str) -> None:
    with db.write() as s:
        resident = s.scalars(select(Resident).where(Resident.code == resident_code)).one()
        s.add(Proxy(resident_id=resident.id, name="娘", phone=phone, relation="family",
                    consent_recorded_at=NOW, consent_note="resident agreed by phone"))


def test_a_registered_proxy_orders_for_their_resident(db: Database, sms) -> None:
    _register_proxy(db, "+819011112222", "R2")
    reply = sms("+819011112222", "代理 R2 注文 牛乳 1")
    assert reply.template == "order_received"
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        assert order.channel == "proxy" and order.proxy_id is not None
        assert s.get(Resident, order.resident_id).code == "R2"


def test_an_unregistered_proxy_is_refused_and_reviewed(db: Database, sms) -> None:
    _register_proxy(db, "+819011112222", "R2")
    reply = sms("+819011112222", "FOR R3 ORDER milk 1")
    assert reply.template == "proxy_not_allowed"
    assert sms("+819011112222", "代理 R99 注文 米 1").template == "proxy_unknown_resident"
    assert count(db, Order) == 0
    assert count(db, Message, Message.review == "pending") == 2
