"""Inbound SMS end to end through the service layer: orders, commands, review queue, dedupe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Message, OptOut, Order, Proxy, Resident
from dispatch.services import outbox
from sms.service import receive_sms, render_message
from tests.concurrency import at_once

pytestmark = pytest.mark.db

R1 = "+817000000001"  # 田中 花子, Japanese
R3 = "+817000000003"  # Emily Carter, English
NOW = dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.UTC)  # 09:30 in Tokyo


@pytest.fixture
def sms(db: Database, tiny_region: str) -> Callable[..., object]:
    counter = iter(range(1, 10_000))

    def send(phone: str, body: str, sid: str | None = None, at: dt.datetime = NOW) -> object:
        return receive_sms(db, "twilio", sid or f"SM{next(counter):032d}", phone, body, at,
                           settings=Settings())

    return send


def count(db: Database, model: type, *where: object) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_japanese_order_creates_a_confirmed_order_and_a_japanese_reply(db: Database, sms) -> None:
    reply = sms(R1, "注文 米5kg 1、牛乳 2本 午後")
    assert reply.template == "order_received"
    text = render_message(reply.template, reply.language, reply.params, reply.timezone)
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
    assert render_message(reply.template, reply.language, reply.params, reply.timezone).startswith("Order #")


def test_a_retried_message_sid_creates_one_order_and_one_reply(db: Database, sms) -> None:
    first = sms(R1, "注文 米 2", sid="SMdup")
    again = sms(R1, "注文 米 2", sid="SMdup")
    assert again.duplicate and again.message_id == first.message_id
    assert count(db, Order) == 1
    assert count(db, Message, Message.direction == "out") == 1


def test_ten_concurrent_deliveries_of_one_sid_make_one_order(db: Database, tiny_region: str) -> None:
    replies: list[object] = []
    at_once(10, lambda _: replies.append(receive_sms(db, "twilio", "SMrace", R1, "注文 米 2", NOW,
                                                     settings=Settings())))
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
    assert "例" in render_message(reply.template, reply.language, reply.params, reply.timezone)
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


# --------------------------------------------------------------------------- reply language


@pytest.mark.parametrize(("phone", "body", "language"), [
    (R3, "注文 米 2", "en"),  # Emily writes Japanese, her replies stay English
    (R1, "ORDER rice 2", "ja"),  # 田中さん writes English, her replies stay Japanese
    (R3, "ヘルプ", "en"),
    (R1, "HELP", "ja"),
    ("+819012345678", "ORDER rice 2", "en"),  # unknown numbers: the language they wrote in
    ("+819012345678", "注文 米 2", "ja"),
])
def test_replies_are_in_the_residents_language_not_the_messages(db: Database, sms, phone: str,
                                                               body: str, language: str) -> None:
    reply = sms(phone, body)
    assert reply.language == language
    with db.read() as s:
        stored = s.scalars(select(Message).where(Message.direction == "out")).one()
    assert stored.language == language
    text = render_message(stored.template, stored.language, stored.params, "Asia/Tokyo")
    assert text[:4].isascii() == (language == "en"), text  # item names are echoed as written


def test_web_and_phone_confirmations_use_the_residents_language(db: Database, tiny_region: str) -> None:
    from dispatch.requests import ItemRequest
    from dispatch.services.ordering import place_order

    with db.read() as s:
        ids = {code: id_ for code, id_ in s.execute(select(Resident.code, Resident.id))}
    place_order(db, ids["R3"], [ItemRequest("米", 1)], channel="web", now=NOW)
    place_order(db, ids["R1"], [ItemRequest("rice", 1)], channel="phone", now=NOW)
    with db.read() as s:
        languages = {m.phone: m.language for m in s.scalars(select(Message))}
    assert languages == {R3: "en", R1: "ja"}


# --------------------------------------------------------------------------- cancel by number


def test_a_resident_cannot_cancel_someone_elses_order_by_its_number(db: Database, sms) -> None:
    theirs = sms("+817000000002", "注文 パン 1").params["number"]
    reply = sms(R1, f"取消 {theirs}")
    assert reply.template == "nothing_to_cancel"
    with db.read() as s:
        assert s.scalars(select(Order.state)).one() == "confirmed"


def test_cancel_without_a_number_takes_the_latest_open_order(db: Database, sms) -> None:
    older = sms(R1, "注文 パン 1").params["number"]
    newer = sms(R1, "注文 米 1").params["number"]
    assert sms(R1, "CANCEL").params["number"] == newer
    assert sms(R1, "取消").params["number"] == older
    assert sms(R1, "取消").template == "nothing_to_cancel"


# --------------------------------------------------------------------------- nothing is dropped

#: What each parsed command may be answered with (R1 is a resident, not anybody's proxy).
ANSWERS = {
    "Order": {"order_received"},
    "Status": {"status", "status_none"},
    "Cancel": {"cancelled", "nothing_to_cancel", "cancel_not_possible"},
    "Help": {"help"},
    "Stop": {"stopped"},
    "Start": {"started"},
    "Proxy": {"proxy_unknown_resident", "proxy_not_allowed"},
    "Unparseable": {"unparseable"},
}


def test_every_corpus_message_is_stored_answered_and_reviewed_when_not_understood(db: Database,
                                                                               sms) -> None:
    """The whole message corpus through the real service, one resident's phone: every text is
    kept as sent, every one is answered (within three segments, in Japanese), and what was not
    understood waits in the operator's review queue."""
    from dispatch.services.inbound import storable
    from sms.segments import segment_count
    from tests.sms.messages import CASES

    for n, case in enumerate(CASES):
        kind = type(case.expected).__name__
        orders_before = count(db, Order)
        reply = sms(R1, case.text, sid=f"SMcorpus{n:04d}")
        assert reply.template in ANSWERS[kind], (case.id, reply.template)
        assert reply.message_id is not None, case.id
        text = render_message(reply.template, reply.language, reply.params, reply.timezone)
        assert reply.language == "ja" and 1 <= segment_count(text) <= 3, (case.id, text)
        with db.read() as s:
            inbound = s.get(Message, reply.inbound_id)
            assert inbound is not None and inbound.body == storable(case.text), case.id
            reviewed = inbound.review == "pending"
        assert reviewed == (kind in {"Unparseable", "Proxy"}), case.id
        assert count(db, Order) == orders_before + (kind == "Order"), case.id
        if kind == "Stop":
            sms(R1, "開始", sid=f"SMcorpus{n:04d}start")  # opt back in for the next case
    assert count(db, Message, Message.direction == "in") >= len(CASES)
