"""State columns: stored as the strings they always were, read back as the lifecycle's enums; and
migration 0003, which moves re-plan requests out of ``Batch.reason`` into ``Batch.replan_reason``."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from dispatch.db import Database
from dispatch.lifecycle import BatchState
from dispatch.models import Batch, Hub
from dispatch.schema import current_revision, migrate, upgrade

pytestmark = pytest.mark.db

CUTOFF = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def _hub_id(db: Database) -> str:
    with db.read() as s:
        return s.scalars(select(Hub.id).order_by(Hub.code)).first() or ""


def test_a_state_is_stored_as_its_string_and_read_back_as_its_enum(db: Database, tiny_region: str) -> None:
    with db.write() as s:
        s.add(Batch(hub_id=_hub_id(db), cutoff_at=CUTOFF, state=BatchState.SOLVING))
    with db.read() as s:
        raw = s.execute(text("SELECT state FROM batch")).scalar_one()
        loaded = s.scalars(select(Batch)).one()
    assert type(raw) is str and raw == "solving"
    assert loaded.state is BatchState.SOLVING
    assert loaded.replan_reason is None and loaded.display_reason == ""


def test_a_state_its_enum_does_not_know_is_refused(db: Database, tiny_region: str) -> None:
    with pytest.raises(StatementError, match="'closd' is not a valid BatchState"), db.write() as s:
        s.add(Batch(hub_id=_hub_id(db), cutoff_at=CUTOFF, state="closd"))
        s.flush()
    with db.read() as s:
        assert s.scalars(select(Batch)).all() == []


def test_migration_0003_moves_re_plan_requests_to_their_own_column_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    database = Database(f"sqlite:///{path}")
    try:
        upgrade(database, "0002")
        with sqlite3.connect(path) as raw:  # rows as they were at 0002 (today's models have more columns)
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("INSERT INTO region (id, code, name, crs, timezone, locale, loaded_at, order_seq) "
                        "VALUES ('r1', 'tiny', 'Tiny', 'EPSG:6673', 'Asia/Tokyo', 'ja', "
                        "'2026-12-01 00:00:00', 0)")
            raw.execute("INSERT INTO hub (id, region_id, code, name, kind, drone_port, opens, closes, "
                        "cutoffs, lon, lat, weather_hold) VALUES ('h1', 'r1', 'H1', 'Hub', 'hub', 1, "
                        "'08:00:00', '18:00:00', '[]', 134.8, 35.5, 0)")
            hubs = ["h1"]
            raw.executemany(
                "INSERT INTO batch (id, hub_id, cutoff_at, state, reason, closed_at, attempts) "
                "VALUES (?, ?, ?, ?, ?, '2026-12-01 01:00:00', 1)",
                [("asked", hubs[0], "2026-12-01 01:00:00", "closed", "re-plan: force ground order #4"),
                 ("failed", hubs[0], "2026-12-02 01:00:00", "failed",
                  "planner raised ValueError: no volunteer on shift"),
                 ("solved", hubs[0], "2026-12-03 01:00:00", "solved", "")])
            raw.execute("INSERT INTO plan (id, batch_id, version, state, problem, solution, validation, "
                        "unserved, note, created_at) VALUES ('p1', 'asked', 1, 'proposed', '{}', '{}', "
                        "'{}', '[]', 'solver', '2026-12-01 01:01:00')")
        upgrade(database, "0003")
        assert current_revision(database) == "0003"
        with sqlite3.connect(path) as raw:
            batches = raw.execute("SELECT id, state, reason, replan_reason FROM batch")
            rows = {r[0]: tuple(r[1:]) for r in batches}
        assert rows == {"asked": ("closed", "", "force ground order #4"),
                        "failed": ("failed", "planner raised ValueError: no volunteer on shift", None),
                        "solved": ("solved", "", None)}
        migrate(database, "0002", down=True)
        with sqlite3.connect(path) as raw:
            assert dict(raw.execute("SELECT id, reason FROM batch")) == {
                "asked": "re-plan: force ground order #4",
                "failed": "planner raised ValueError: no volunteer on shift", "solved": ""}
            assert raw.execute("SELECT batch_id FROM plan").fetchall() == [("asked",)]
    finally:
        database.dispose()


