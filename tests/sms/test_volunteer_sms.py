"""Volunteers text their availability (issue 15, item 3): the corpus read by the parser, then sent
through Twilio's signed webhook to the app served by a real HTTP server on 127.0.0.1, with the
exact TwiML answer and the stored availability checked for each text."""

from __future__ import annotations

import datetime as dt
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from dispatch.db import Database
from dispatch.models import Availability, Message
from sms.volunteer_parser import Answer, Available, parse
from tests.dispatch.volunteer_region import load_volunteer_region, volunteers
from tests.sms.conftest import TWILIO_TOKEN, twilio_inbound, twilio_signature
from tests.sms.volunteer_messages import EN, JA, Case
from web import create_app

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("case", JA + EN, ids=lambda c: c.text)
def test_the_parser_reads_each_volunteer_text_as_the_corpus_says(case: Case) -> None:
    assert parse(case.text) == case.reading


def test_a_residents_order_is_not_an_availability() -> None:
    assert not isinstance(parse("注文 米 2"), Available | Answer)
    assert not isinstance(parse("ORDER rice 2 tomorrow morning"), Available | Answer)


@pytest.fixture
def live(db: Database, database_url: str, tmp_path: Path) -> Iterator[tuple[str, Flask]]:
    """The app on the volunteer region, served by werkzeug's threaded server on a free port.

    No ``public_url``: the webhook then checks the signature against the URL it was called at,
    which is what Twilio signs.
    """
    load_volunteer_region(db, tmp_path)
    app = create_app({"database_url": database_url, "secret_key": "k", "TESTING": True,
                      "twilio_auth_token": TWILIO_TOKEN, "outbox_worker": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(5)
    app.extensions["hakobu"].db.dispose()


def _send(base: str, phone: str, body: str, sid: str) -> str:
    path = "/sms/twilio/inbound"
    params = twilio_inbound(sid=sid, body=body, phone=phone)
    response = requests.post(base + path, data=params, timeout=10,
                             headers={"X-Twilio-Signature": twilio_signature(path, params, base=base)})
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.text)
    return "".join(m.text or "" for m in root.findall("Message"))


def _expected_day(reading: Available, today: dt.date) -> dt.date:
    if reading.weekday is not None:
        return today + dt.timedelta(days=(reading.weekday - today.weekday()) % 7)
    return today + dt.timedelta(days=reading.day_offset or 0)


@pytest.mark.db
@pytest.mark.parametrize(("language", "corpus"), [("ja", JA), ("en", EN)])
def test_each_text_through_the_signed_webhook_gets_its_exact_answer_and_is_stored(
        live: tuple[str, Flask], db: Database, language: str, corpus: tuple[Case, ...]) -> None:
    base, _app = live
    volunteer = volunteers(db)["V3" if language == "ja" else "V4"]  # V3 texts in ja, V4 in en
    for n, case in enumerate(corpus):
        today = dt.datetime.now(TOKYO).date()
        with db.write() as s:  # each case on its own: no earlier word for the day
            for row in s.scalars(select(Availability)):
                s.delete(row)
        answer = _send(base, volunteer.phone, case.text, f"SM{language}{n:030d}")
        if case.reply is not None:
            assert answer == case.reply, case.text
        with db.read() as s:
            rows = s.scalars(select(Availability).where(Availability.volunteer_id == volunteer.id)).all()
            reading = case.reading
            if isinstance(reading, Available):
                [row] = rows
                assert (row.day, row.start, row.end, row.off) == (
                    _expected_day(reading, today), reading.start, reading.end, reading.off), case.text
            else:
                assert rows == [], case.text
            if not isinstance(reading, Available | Answer):  # kept for an operator
                sid = f"SM{language}{n:030d}"
                inbound = s.scalars(select(Message).where(Message.external_id == sid)).one()
                assert inbound.review == "pending" and inbound.volunteer_id == volunteer.id


@pytest.mark.db
def test_an_unsigned_volunteer_text_is_refused_and_nothing_is_stored(
        live: tuple[str, Flask], db: Database) -> None:
    base, _app = live
    params = twilio_inbound(body="明日 9時から12時", phone=volunteers(db)["V3"].phone)
    response = requests.post(base + "/sms/twilio/inbound", data=params, timeout=10,
                             headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403
    with db.read() as s:
        assert s.scalars(select(Availability)).all() == []


@pytest.mark.db
def test_a_later_text_for_the_same_day_replaces_the_earlier_one(live: tuple[str, Flask],
                                                                db: Database) -> None:
    base, _app = live
    phone = volunteers(db)["V3"].phone
    _send(base, phone, "明日 9時から12時", "SM" + "a" * 32)
    assert _send(base, phone, "明日 休み", "SM" + "b" * 32) == "明日はお休みと受け付けました。"
    with db.read() as s:
        [row] = s.scalars(select(Availability)).all()
        assert row.off and row.start is None


@pytest.mark.db
def test_help_and_stop_from_a_volunteer(live: tuple[str, Flask], db: Database) -> None:
    base, _app = live
    phone = volunteers(db)["V4"].phone  # writes in English
    assert _send(base, phone, "HELP", "SM" + "c" * 32) == (
        "Text e.g.: tomorrow 9-12 / Saturday off / YES or NO to a call-out.")
    assert _send(base, phone, "STOP", "SM" + "d" * 32).startswith("You will get no more messages")
