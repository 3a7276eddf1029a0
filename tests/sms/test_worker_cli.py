"""``hakobu sms worker``: the outbox sender as its own process."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Message
from dispatch.services import outbox
from web.cli import main

pytestmark = pytest.mark.db


def test_worker_once_sends_what_is_due_through_the_configured_transport(db: Database,
                                                                        database_url: str) -> None:
    with db.write() as s:
        outbox.queue(s, "+817000000201", "help", {}, "ja")
    result = CliRunner().invoke(main, ["sms", "worker", "--once", "--database", database_url],
                                env={"HAKOBU_SMS_TRANSPORT": "simulator"})
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    with db.read() as s:
        message = s.scalars(select(Message)).one()
    assert message.status == "sent" and message.body.startswith("使い方")


def test_an_unknown_transport_is_a_clear_error(database_url: str) -> None:
    result = CliRunner().invoke(main, ["sms", "worker", "--once", "--database", database_url],
                                env={"HAKOBU_SMS_TRANSPORT": "carrier-pigeon"})
    assert result.exit_code == 2
    assert "unknown SMS transport 'carrier-pigeon'" in result.output


def test_problems_lists_dead_letters_and_stuck_messages_without_phone_numbers(db: Database,
                                                                              database_url: str) -> None:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    with db.write() as s:
        dead = outbox.queue(s, "+817000000301", "order_received", {"number": 7}, "ja", now=now)
        stuck = outbox.queue(s, "+817000000302", "help", {}, "ja", now=now)
        fine = outbox.queue(s, "+817000000303", "help", {}, "ja", now=now)
        s.flush()
        ids = (dead.id, stuck.id, fine.id)
    with db.write() as s:
        first, second, third = (s.get(Message, i) for i in ids)
        first.status, first.error, first.updated_at = "dead", "twilio 400 code 21610: unsubscribed", now
        second.status, second.updated_at = "sending", now - dt.timedelta(minutes=30)
        third.status, third.updated_at = "sending", now - dt.timedelta(minutes=1)  # still being sent
    result = CliRunner().invoke(main, ["sms", "problems", "--database", database_url])
    assert result.exit_code == 0, result.output
    assert ids[0] in result.output and "21610" in result.output
    assert ids[1] in result.output and "(no error recorded)" in result.output
    assert ids[2] not in result.output
    assert "2 message(s) need attention" in result.output and "+81" not in result.output


def test_problems_says_so_when_all_is_well(database_url: str) -> None:
    result = CliRunner().invoke(main, ["sms", "problems", "--database", database_url])
    assert result.exit_code == 0 and "nothing needs attention" in result.output
