"""Persistence: migrations equal the models, SQLite runs with its safety pragmas, times stay UTC."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Base, Region
from dispatch.schema import include_object

pytestmark = pytest.mark.db


def test_migrations_produce_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite pragmas only apply to the SQLite backend")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def _region(code: str) -> Region:
    return Region(code=code, name=code, crs="EPSG:6673", timezone="Asia/Tokyo", locale="ja_JP")


def test_aware_times_round_trip_as_utc(db: Database) -> None:
    tokyo = dt.datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    with db.write() as s:
        region = _region("r")
        region.loaded_at = tokyo
        s.add(region)
    with db.read() as s:
        loaded = s.scalars(select(Region)).one().loaded_at
    assert loaded == tokyo
    assert loaded.utcoffset() == dt.timedelta(0)


def test_naive_times_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.write() as s:
        region = _region("n")
        region.loaded_at = dt.datetime(2026, 1, 1)
        s.add(region)
        s.flush()


def test_a_failed_write_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        s.add(_region("gone"))
        s.flush()
        raise RuntimeError("boom")
    with db.read() as s:
        assert s.scalars(select(Region)).all() == []


def test_concurrent_writers_serialise_without_lost_updates(db: Database) -> None:
    """Ten threads each read-modify-write the same row; BEGIN IMMEDIATE / row locks keep all ten."""
    with db.write() as s:
        s.add(_region("counter"))

    def bump() -> None:
        with db.write() as s:
            region = s.scalars(select(Region).with_for_update()).one()
            region.name = str(int(region.name) + 1) if region.name.isdigit() else "1"

    threads = [threading.Thread(target=bump) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as s:
        assert s.scalars(select(Region)).one().name == "10"


def test_ids_are_22_url_safe_characters_that_never_read_as_a_command_line_option() -> None:
    import string

    from dispatch.ids import new_id

    ids = [new_id() for _ in range(4000)]  # ~125 would start with '-' or '_' if not redrawn
    alphabet = set(string.ascii_letters + string.digits + "-_")
    assert all(len(i) == 22 and set(i) <= alphabet and i[0].isalnum() for i in ids)
    assert len(set(ids)) == len(ids)
