"""Migrations on a database that is in use: a hub upgrading Hakobu has routes, stops and custody
rows that point at each other, and SQLite's table rebuilds (batch mode) must keep every one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.models import HandoffEvent, Route, Stop
from dispatch.schema import current_revision, migrate
from tests.dispatch.factories import confirmed_day

pytestmark = pytest.mark.db


def _counts(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Route, Stop, HandoffEvent))


def test_a_confirmed_day_survives_the_route_table_rebuild_down_and_up(db: Database, tiny_region: str) -> None:
    confirmed_day(db)
    before = _counts(db)
    assert before[0] > 0 and before[1] > 0  # routes with stops that reference them
    head = current_revision(db)
    migrate(db, "0013", down=True)  # 0014 rebuilds `route` (drops its bus-trip column)
    migrate(db, "head")
    assert current_revision(db) == head
    assert _counts(db) == before
