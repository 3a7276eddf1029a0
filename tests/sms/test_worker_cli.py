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
