"""``hakobu backup`` / ``hakobu restore`` (issue 17, item 4): a backup taken while the database is in
use, restored into a fresh database, holds the same custody chain, verified hash by hash."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from dispatch.db import Database
from dispatch.models import HandoffEvent, Order
from dispatch.services.handoffs import verify_custody
from tests.conftest import PG_URL
from tests.dispatch.factories import resident_order
from tests.dispatch.test_custody import journey
from web.cli import main

pytestmark = pytest.mark.db


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database (reached
    with the test's own ``search_path``: the dump recreates the test's schema there)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    name = f"hakobu_restore_{uuid.uuid4().hex[:8]}"
    admin = Database(PG_URL)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _custody_events(db: Database, count: int) -> None:
    """Orders carried from supply point to resident: a chain of hashed events (4 per order)."""
    for number in range(1, count + 1):
        order = resident_order(db, number)
        journey(db, order)


def test_a_backup_restored_into_a_fresh_database_verifies_its_custody_chain(
    db: Database, database_url: str, fresh_url: str, tmp_path: Path
) -> None:
    _custody_events(db, 3)
    before = verify_custody(db)
    assert before.ok and before.checked == 12
    out = tmp_path / "backups" / "hakobu.backup"
    made = CliRunner().invoke(main, ["backup", "--out", str(out), "--database", database_url])
    assert made.exit_code == 0, made.output
    assert f"head seq {before.head_seq} hash {before.head_hash}" in made.output
    assert out.stat().st_mode & 0o077 == 0  # residents' data: readable by its owner only
    restored = CliRunner().invoke(main, ["restore", str(out), "--database", fresh_url])
    assert restored.exit_code == 0, restored.output
    assert (
        f"custody chain ok: 12 event(s), head seq {before.head_seq} hash {before.head_hash}"
        in restored.output
    )
    copy = Database(fresh_url)
    try:
        with copy.read() as s:
            assert s.scalar(select(func.count()).select_from(Order)) == 3
            assert s.scalar(select(func.count()).select_from(HandoffEvent)) == 12
    finally:
        copy.dispose()
    again = CliRunner().invoke(main, ["restore", str(out), "--database", fresh_url])
    assert again.exit_code == 2 and "is not empty" in again.output  # never over a database by accident


def test_a_tampered_backup_is_restored_but_reported_broken(
    db: Database, database_url: str, fresh_url: str, tmp_path: Path
) -> None:
    _custody_events(db, 2)
    out = tmp_path / "hakobu.backup"
    assert CliRunner().invoke(main, ["backup", "--out", str(out), "--database", database_url]).exit_code == 0
    assert CliRunner().invoke(main, ["restore", str(out), "--database", fresh_url]).exit_code == 0
    copy = Database(fresh_url)
    try:
        with copy.write() as s:  # someone edits the restored history
            s.execute(text("UPDATE handoff_event SET proof = 'forged' WHERE seq = 2"))
    finally:
        copy.dispose()
    second = tmp_path / "tampered.backup"
    assert CliRunner().invoke(main, ["backup", "--out", str(second), "--database", fresh_url]).exit_code == 0
    replaced = CliRunner().invoke(main, ["restore", str(second), "--replace", "--database", database_url])
    assert replaced.exit_code == 1 and "BROKEN at seq 2" in replaced.output
