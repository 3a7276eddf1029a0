"""Standing orders and proxy commands by SMS (issue 15): the Japanese and English corpora read by
the parser, then sent in order through Twilio's signed webhook to the app served by a real HTTP
server on 127.0.0.1, each answered with its exact TwiML text; the reminder of the day before is
answered with 取消 and that occurrence is skipped, once."""

from __future__ import annotations

import datetime as dt
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from dispatch.db import Database
from dispatch.models import Message, Order, Proxy, Resident, StandingOccurrence, StandingOrder
from dispatch.services import proxies, standing
from sms.parser import parse
from sms.service import render_message
from tests.sms.conftest import TWILIO_TOKEN, twilio_inbound, twilio_signature
from tests.sms.standing_messages import EN, JA, Case
from web import create_app

TOKYO = ZoneInfo("Asia/Tokyo")
SENDERS = {
    "ja": {"resident": "+817000000001", "proxy": "+819011110002", "stranger": "+819099990000"},
    "en": {"resident": "+817000000003", "proxy": "+819011110003", "stranger": "+819099990000"},
}
WEEKDAYS = {"mon": 0, "tue": 1, "fri": 4}


@pytest.mark.parametrize("case", JA + EN, ids=lambda c: c.text)
def test_the_parser_reads_each_text_as_the_corpus_says(case: Case) -> None:
    assert parse(case.text) == case.reading


@pytest.fixture
def live(db: Database, database_url: str, tiny_region: str) -> Iterator[str]:
    """The app on the tiny region behind werkzeug's threaded server on a free port (no public
    URL: the signature is checked against the URL called, which is what Twilio signs), with R2's
    and R3's proxies registered as an operator would."""
    now = dt.datetime.now(dt.UTC)
    with db.write() as s:
        for code, phone in (("R2", SENDERS["ja"]["proxy"]), ("R3", SENDERS["en"]["proxy"])):
            resident = s.scalars(select(Resident).where(Resident.code == code)).one()
            proxies.save_proxy(
                s,
                resident,
                name="家族",
                phone=phone,
                relation="family",
                user_id=None,
                consent=proxies.Consent("本人", "paper", now),
                now=now,
            )
    app = create_app(
        {
            "database_url": database_url,
            "secret_key": "k",
            "TESTING": True,
            "twilio_auth_token": TWILIO_TOKEN,
            "outbox_worker": False,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    app.extensions["hakobu"].db.dispose()


def _send(base: str, phone: str, body: str, sid: str) -> str:
    path = "/sms/twilio/inbound"
    params = twilio_inbound(sid=sid, body=body, phone=phone)
    response = requests.post(
        base + path,
        data=params,
        timeout=10,
        headers={"X-Twilio-Signature": twilio_signature(path, params, base=base)},
    )
    assert response.status_code == 200, response.text
    return "".join(m.text or "" for m in ET.fromstring(response.text).findall("Message"))


def _first_after_today(weekday: int, language: str) -> str:
    """The first ``weekday`` after today (Tokyo), as a reply writes the day."""
    today = dt.datetime.now(TOKYO).date()
    day = today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    if day == today + dt.timedelta(days=1):
        return "tomorrow" if language == "en" else "明日"
    return day.strftime("on %b %d") if language == "en" else f"{day.month}月{day.day}日"


@pytest.mark.db
@pytest.mark.parametrize(("language", "corpus"), [("ja", JA), ("en", EN)])
def test_each_text_through_the_signed_webhook_gets_its_exact_answer(
    live: str, db: Database, language: str, corpus: tuple[Case, ...]
) -> None:
    days = {name: _first_after_today(number, language) for name, number in WEEKDAYS.items()}
    for n, case in enumerate(corpus):
        sid = f"SM{language}{n:030d}"
        answer = _send(live, SENDERS[language][case.sender], case.text, sid)
        assert answer == case.reply.format(**days), case.text
        with db.read() as s:
            inbound = s.scalars(select(Message).where(Message.external_id == sid)).one()
        assert (inbound.review == "pending") == case.review, case.text
    with db.read() as s:
        rows = {
            (r.code, so.state, so.channel, so.proxy_id is not None, so.weekday, so.every_weeks, so.part)
            for so, r in s.execute(
                select(StandingOrder, Resident).join(Resident, Resident.id == StandingOrder.resident_id)
            )
        }
    expected = {
        "ja": {
            ("R1", "stopped", "sms", False, 1, 1, "any"),
            ("R2", "paused", "proxy", True, 4, 2, "morning"),
        },
        "en": {
            ("R3", "stopped", "sms", False, 4, 2, "morning"),
            ("R3", "active", "proxy", True, 0, 3, "any"),
        },
    }
    assert rows == expected[language]


@pytest.mark.db
def test_the_reminder_is_answered_with_cancel_and_that_day_is_skipped_once(live: str, db: Database) -> None:
    phone = "+817000000004"  # R4
    today = dt.datetime.now(TOKYO).date()
    tomorrow = today + dt.timedelta(days=1)
    _send(live, phone, f"定期 豆腐2 毎週{'月火水木金土日'[tomorrow.weekday()]}曜", "SM" + "r" * 32)
    evening = dt.datetime.combine(today, standing.REMIND_AT, TOKYO)
    placed = standing.run_due(db, now=evening)
    assert len(placed.placed) == 1 and standing.run_due(db, now=evening + dt.timedelta(hours=1)).placed == []
    with db.read() as s:
        reminder = s.scalars(select(Message).where(Message.template == "standing_reminder")).one()
    text = render_message(reminder.template, reminder.language, reminder.params, "Asia/Tokyo", evening)
    number = placed.placed[0]
    assert text == f"明日 豆腐×2 をお届けします(注文#{number})。不要なら 取消 と返信してください。"
    assert _send(live, phone, "取消", "SM" + "s" * 32) == f"注文#{number}を取り消しました。"
    with db.read() as s:
        [occurrence] = s.scalars(select(StandingOccurrence)).all()
        order = s.get(Order, occurrence.order_id)
    assert (occurrence.day, occurrence.outcome, order.state, order.channel) == (
        tomorrow,
        "placed",
        "cancelled",
        "standing",
    )


@pytest.mark.db
def test_a_revoked_proxy_cannot_change_a_standing_order(live: str, db: Database) -> None:
    proxy_phone = SENDERS["ja"]["proxy"]
    _send(live, proxy_phone, "代理 R2 定期 米2 毎週火曜", "SM" + "p" * 32)
    with db.write() as s:
        proxy = s.scalars(select(Proxy).where(Proxy.phone == proxy_phone)).one()
        proxies.revoke(s, proxy, user_id=None, now=dt.datetime.now(dt.UTC))
    answer = _send(live, proxy_phone, "代理 R2 定期 終了", "SM" + "q" * 32)
    assert answer == "この番号からR2さんの代理注文はできません。ハブにご相談ください。"
    with db.read() as s:
        assert s.scalars(select(StandingOrder.state)).one() == "active"
