"""The outbox: queued with the change, sent after commit, retried, dead-lettered, never twice."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Message, Resident
from dispatch.requests import ItemRequest
from dispatch.services import outbox
from dispatch.services.ordering import place_order
from sms.sender import send_due
from sms.service import render_message
from sms.transports import SimulatorTransport, TwilioTransport
from tests.concurrency import at_once
from tests.sms.conftest import TwilioApiDouble

pytestmark = pytest.mark.db
NOW = dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.UTC)


def _resident_id(db: Database, code: str = "R1") -> str:
    with db.read() as s:
        return s.scalars(select(Resident.id).where(Resident.code == code)).one()


def _outbound(db: Database) -> list[Message]:
    with db.read() as s:
        return list(s.scalars(select(Message).where(Message.direction == "out")))


def _twilio(api: TwilioApiDouble) -> TwilioTransport:
    return TwilioTransport("AC" + "0" * 32, "token", "+815000000000", http_client=api)


def test_a_web_order_queues_the_confirmation_and_the_worker_sends_it_once(
        db: Database, tiny_region: str) -> None:
    place_order(db, _resident_id(db), [ItemRequest("米", 1)], channel="web", now=NOW)
    [queued] = _outbound(db)
    assert queued.status == "queued" and queued.template == "order_received"
    api = TwilioApiDouble()
    stats = send_due(db, _twilio(api), now=NOW)
    assert stats.sent == 1 and len(api.requests) == 1
    assert api.requests[0]["data"]["To"] == "+817000000001"
    assert "受け付けました" in api.requests[0]["data"]["Body"]
    [sent] = _outbound(db)
    assert sent.status == "sent" and sent.external_id.startswith("SM") and sent.body
    assert send_due(db, _twilio(api), now=NOW + dt.timedelta(hours=1)).sent == 0
    assert len(api.requests) == 1


def test_rate_limits_are_retried_with_backoff(db: Database, tiny_region: str) -> None:
    place_order(db, _resident_id(db), [ItemRequest("米", 1)], channel="web", now=NOW)
    api = TwilioApiDouble(script=[(429, {"code": 20429, "message": "Too Many Requests"})])
    assert send_due(db, _twilio(api), now=NOW).retried == 1
    [message] = _outbound(db)
    assert message.status == "queued" and message.next_attempt_at > NOW
    assert send_due(db, _twilio(api), now=NOW).sent == 0  # not due yet
    assert send_due(db, _twilio(api), now=message.next_attempt_at).sent == 1
    assert _outbound(db)[0].status == "sent"


def test_an_unsubscribed_recipient_is_dead_lettered_with_the_reason(db: Database,
                                                                    tiny_region: str) -> None:
    place_order(db, _resident_id(db), [ItemRequest("米", 1)], channel="web", now=NOW)
    unsubscribed = {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}
    api = TwilioApiDouble(script=[(400, unsubscribed)])
    assert send_due(db, _twilio(api), now=NOW).dead == 1
    [message] = _outbound(db)
    assert message.status == "dead" and "21610" in message.error
    assert send_due(db, _twilio(api), now=NOW + dt.timedelta(days=1)).sent == 0


def test_the_same_notification_is_never_queued_twice(db: Database, tiny_region: str) -> None:
    with db.write() as s:
        first = outbox.queue(s, "+817000000001", "help", {}, "ja", dedupe_key="k1")
        second = outbox.queue(s, "+817000000001", "help", {}, "ja", dedupe_key="k1")
    assert first is not None and second is None
    assert len(_outbound(db)) == 1


def test_status_callbacks_never_move_a_message_backwards(db: Database, tiny_region: str) -> None:
    place_order(db, _resident_id(db), [ItemRequest("米", 1)], channel="web", now=NOW)
    send_due(db, SimulatorTransport(), now=NOW)
    [message] = _outbound(db)
    sid = message.external_id
    assert outbox.apply_status(db, "simulator", sid, "delivered")
    assert not outbox.apply_status(db, "simulator", sid, "sent")  # late, out of order
    assert not outbox.apply_status(db, "simulator", sid, "queued")
    assert _outbound(db)[0].status == "delivered"


def test_sign_in_codes_do_not_stay_in_the_database_after_sending(db: Database, tiny_region: str) -> None:
    from dispatch.services.signin import issue_login_code

    assert issue_login_code(db, "+817000000001", "pepper", 600, now=NOW)
    [queued] = _outbound(db)
    code = str(queued.params["code"])
    api = TwilioApiDouble()
    assert send_due(db, _twilio(api), now=NOW).sent == 1
    assert code in api.requests[0]["data"]["Body"]  # the resident gets it
    [stored] = _outbound(db)
    assert code not in stored.body and "code" not in stored.params
    assert "••••••" in stored.body


def test_a_confirmed_plan_texts_each_resident_a_pin_that_exists_only_in_the_sms(
        db: Database, tiny_region: str) -> None:
    import re

    from dispatch.models import Order
    from dispatch.services.pins import pin_matches
    from dispatch.services.plans import confirm_plan
    from tests.dispatch.test_plan_edits import NOW as CONFIRM_AT
    from tests.dispatch.test_plan_edits import SETTINGS, planned

    _, plan_id, _ = planned(db)
    confirm_plan(db, plan_id, None, CONFIRM_AT, SETTINGS)
    api = TwilioApiDouble()
    send_due(db, _twilio(api), now=CONFIRM_AT + dt.timedelta(minutes=1))
    planned_texts = [r["data"] for r in api.requests if "暗証番号" in r["data"]["Body"]]
    assert planned_texts, "no resident got an ETA with a PIN"
    with db.read() as s:
        stored = {m.id: m for m in s.scalars(select(Message).where(Message.template == "order_planned"))}
        orders = {o.number: o for o in s.scalars(select(Order))}
    for text in planned_texts:
        number = int(re.search(r"注文#(\d+)", text["Body"]).group(1))
        pin = re.search(r"暗証番号は(\d{4})", text["Body"]).group(1)
        order = orders[number]
        assert pin_matches(order.id, pin, order.pin_hash or "")
        assert all(pin not in m.body and "pin" not in m.params for m in stored.values()
                   if m.order_id == order.id)
    links = [r["data"]["Body"] for r in api.requests if "/courier/login/" in r["data"]["Body"]]
    assert links
    with db.read() as s:
        kept = s.scalars(select(Message.body).where(Message.template == "courier_route_link")).all()
    assert all("/courier/login/" not in body for body in kept)  # single-use links are masked too


# --------------------------------------------------------------------------- retries and dead letters


def _queue_help(db: Database, phone: str = "+817000000001", now: dt.datetime = NOW) -> None:
    with db.write() as s:
        outbox.queue(s, phone, "help", {}, "ja", now=now)


@pytest.mark.parametrize("answer", [(500, {"code": 20500, "message": "Internal Server Error"}),
                                    (503, {"code": 20503, "message": "Service Unavailable"}),
                                    requests.exceptions.ConnectionError("network down")],
                         ids=["500", "503", "unreachable"])
def test_server_errors_and_outages_are_retried(db: Database, tiny_region: str, answer: object) -> None:
    _queue_help(db)
    api = TwilioApiDouble(script=[answer])  # type: ignore[list-item]
    assert send_due(db, _twilio(api), now=NOW).retried == 1
    [message] = _outbound(db)
    assert message.status == "queued" and message.error and message.attempts == 1
    assert send_due(db, _twilio(api), now=message.next_attempt_at).sent == 1
    assert len(api.requests) == 2 and _outbound(db)[0].status == "sent"


def test_backoff_grows_and_a_message_that_never_goes_through_is_dead_lettered(db: Database,
                                                                               tiny_region: str) -> None:
    _queue_help(db)
    api = TwilioApiDouble(script=[(503, {"code": 20503, "message": "busy"})] * outbox.MAX_ATTEMPTS)
    now, waits = NOW, []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        send_due(db, _twilio(api), now=now)
        [message] = _outbound(db)
        assert message.attempts == attempt
        if attempt < outbox.MAX_ATTEMPTS:
            assert message.status == "queued"
            waits.append(message.next_attempt_at.replace(tzinfo=dt.UTC) - now)
            now = message.next_attempt_at.replace(tzinfo=dt.UTC)
    assert message.status == "dead" and "503" in message.error
    assert waits == [dt.timedelta(seconds=outbox.BACKOFF_BASE_S * 2 ** i) for i in range(len(waits))]
    assert send_due(db, _twilio(api), now=now + dt.timedelta(days=1)).sent == 0
    assert len(api.requests) == outbox.MAX_ATTEMPTS


@pytest.mark.parametrize(("status", "code"), [(400, 21211), (400, 21610), (401, 20003), (400, 21614)])
def test_permanent_twilio_errors_are_dead_lettered_at_once(db: Database, tiny_region: str, status: int,
                                                           code: int) -> None:
    _queue_help(db)
    api = TwilioApiDouble(script=[(status, {"code": code, "message": "refused"})])
    assert send_due(db, _twilio(api), now=NOW).dead == 1
    [message] = _outbound(db)
    assert message.status == "dead" and f"code {code}" in message.error
    assert send_due(db, _twilio(api), now=NOW + dt.timedelta(days=1)).sent == 0 and len(api.requests) == 1


def test_concurrent_senders_send_every_message_exactly_once(db: Database, tiny_region: str) -> None:
    phones = [f"+8170000010{i:02d}" for i in range(30)]
    with db.write() as s:
        for phone in phones:
            outbox.queue(s, phone, "help", {}, "ja", now=NOW)
    api = TwilioApiDouble()

    def worker(_: int) -> None:
        while send_due(db, _twilio(api), now=NOW, limit=3).sent:
            pass

    at_once(4, worker)
    assert sorted(r["data"]["To"] for r in api.requests) == sorted(phones)
    assert {m.status for m in _outbound(db)} == {"sent"}


# --------------------------------------------------------------------------- opt-out


def test_a_message_queued_before_stop_is_not_sent_after_it(db: Database, tiny_region: str) -> None:
    from sms.service import receive_sms

    place_order(db, _resident_id(db), [ItemRequest("米", 1)], channel="web", now=NOW)
    receive_sms(db, "twilio", "SMstop", "+817000000001", "STOP", NOW, settings=Settings())
    api = TwilioApiDouble()
    send_due(db, _twilio(api), now=NOW)
    # her language
    assert [r["data"]["Body"] for r in api.requests] == [render_message("stopped", "ja", {}, "UTC")]
    by_template = {m.template: m for m in _outbound(db)}
    assert by_template["order_received"].status == "dead"
    assert "opted out" in by_template["order_received"].error


def test_opted_out_residents_and_couriers_get_nothing_all_day_long(db: Database, tiny_region: str) -> None:
    """Everyone but R3 texts STOP; then a whole day happens (orders, plan confirmed, pick-up,
    delivery, a failure, a cancelled stop, a courier calling off). Only R3 is told anything."""
    import uuid

    from dispatch.models import Volunteer
    from dispatch.services import delivery
    from dispatch.services.disruptions import courier_cancels
    from dispatch.services.ordering import cancel_order
    from sms.service import receive_sms
    from tests.dispatch.factories import CONFIRMED_AT, SETTINGS, confirmed_day, pin_of

    keep = "+817000000003"
    with db.read() as s:
        phones = [*s.scalars(select(Resident.phone)), *s.scalars(select(Volunteer.phone))]
    stopped = [p for p in phones if p != keep]
    for n, phone in enumerate(stopped):
        receive_sms(db, "twilio", f"SMstop{n}", phone, "停止", CONFIRMED_AT - dt.timedelta(hours=3),
                    settings=SETTINGS)
    confirmations = TwilioApiDouble()
    send_due(db, _twilio(confirmations), now=CONFIRMED_AT - dt.timedelta(hours=2))
    assert sorted(r["data"]["To"] for r in confirmations.requests) == sorted(stopped)

    day = confirmed_day(db)
    at = CONFIRMED_AT + dt.timedelta(minutes=10)
    courier = day.courier_with_orders()
    other = day.other_courier(courier)
    delivery.pick_up(db, courier, uuid.uuid4().hex, at, route_id=day.routes[courier])
    first, *rest = day.deliveries[courier]
    delivery.deliver(db, courier, first, pin_of(db, first), uuid.uuid4().hex, at + dt.timedelta(minutes=5))
    if rest:
        delivery.fail(db, courier, rest[0], "nobody_home", uuid.uuid4().hex, at + dt.timedelta(minutes=9))
    assert cancel_order(db, day.deliveries[other][0], "resident called", SETTINGS,
                        now=at + dt.timedelta(minutes=12))
    courier_cancels(db, other, at + dt.timedelta(minutes=15), actor="user:test", settings=SETTINGS)

    templates = {(m.phone, m.template) for m in _outbound(db)}
    to_stopped = {(phone, template) for phone, template in templates if phone in stopped}
    assert to_stopped == {(phone, "stopped") for phone in stopped}  # the one confirmation each
    assert (keep, "order_planned") in templates  # the control resident is told as usual
    api = TwilioApiDouble()
    send_due(db, _twilio(api), now=at + dt.timedelta(hours=1), limit=1000)
    assert api.requests and {r["data"]["To"] for r in api.requests} == {keep}


def test_only_a_commit_that_queued_a_message_wakes_the_sender(db: Database, tiny_region: str) -> None:
    """Issue 13, item 6: the sender's own claims are write transactions; if every commit woke it,
    an idle server would loop on a core. Only commits that queued a message wake it."""
    wakes: list[int] = []
    db.after_commit(outbox.TOPIC, lambda: wakes.append(1))
    resident = _resident_id(db)
    with db.write() as s:  # a write that queues nothing
        s.get(Resident, resident).name = "Renamed"  # type: ignore[union-attr]
    assert wakes == []
    place_order(db, resident, [ItemRequest("米", 1)], channel="web", now=NOW)
    assert wakes == [1]
    assert send_due(db, SimulatorTransport(), now=NOW).sent == 1  # claims and marks: no wake
    assert send_due(db, SimulatorTransport(), now=NOW).sent == 0
    assert wakes == [1]
    with pytest.raises(RuntimeError), db.write() as s:  # queued, then rolled back: no wake
        outbox.queue(s, "+817000000001", "help", {}, "ja", now=NOW)
        raise RuntimeError("rolled back")
    assert wakes == [1]
