"""Solves on the task engine: real ``procrastinate … worker`` processes on the test's PostgreSQL
schema, real OR-Tools solves of the Tajima sample, one worker killed with SIGKILL mid-solve.

procrastinate keeps its queue in PostgreSQL, so these tests need ``HAKOBU_TEST_DATABASE_URL``; the
SQLite pass checks instead that the embedded default refuses the engine it cannot carry.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import ConfigError
from dispatch.models import Batch, Hub, Plan, Resident
from dispatch.requests import ItemRequest
from dispatch.services.batching import close_batch
from dispatch.services.ordering import place_order
from dispatch.tasks import check_engine
from dispatch.tasks.engine import ProcrastinateQueue
from tests.conftest import PG_URL, TAJIMA
from tests.processes import LoggedProcess, wait_for

pytestmark = pytest.mark.db

TOKYO = ZoneInfo("Asia/Tokyo")
CUTOFF = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)
needs_postgres = pytest.mark.skipif(not PG_URL, reason="procrastinate keeps its tasks in PostgreSQL: "
                                                       "set HAKOBU_TEST_DATABASE_URL")


def test_the_embedded_default_needs_no_broker_and_refuses_procrastinate_on_sqlite(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the SQLite pass checks this; PostgreSQL carries procrastinate")
    assert check_engine(db, Settings()) == "local"
    with pytest.raises(ConfigError, match="procrastinate keeps its tasks in PostgreSQL"):
        check_engine(db, Settings(task_engine="procrastinate"))
    with pytest.raises(ConfigError, match="not one of local, procrastinate"):
        check_engine(db, Settings(task_engine="celery"))


def tajima_cutoff(db: Database, orders_per_hub: int) -> list[str]:
    """Tajima loaded, ``orders_per_hub`` orders at each hub with cutoffs, every batch closed at 10:00."""
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region

    load_region(db, read_region(TAJIMA))
    with db.read() as s:
        hubs = [h.id for h in s.scalars(select(Hub).order_by(Hub.code)) if h.cutoffs]
        residents = {hub: list(s.scalars(select(Resident.id).where(Resident.hub_id == hub)
                                         .order_by(Resident.code).limit(orders_per_hub))) for hub in hubs}
    for hub in hubs:
        for resident in residents[hub]:
            place_order(db, resident, [ItemRequest("米", 1)], channel="web",
                        now=CUTOFF - dt.timedelta(hours=1))
    return [close_batch(db, hub, CUTOFF, now=CUTOFF).batch_id for hub in hubs]


class Worker(LoggedProcess):
    """``procrastinate --app=dispatch.tasks.worker.app worker``, the engine's own command."""

    def __init__(self, name: str, database_url: str, tmp_path: Path, env: dict[str, str]) -> None:
        super().__init__(
            [sys.executable, "-m", "procrastinate", "--app=dispatch.tasks.worker.app", "worker",
             f"--name={name}"],
            tmp_path / f"{name}.log", {**os.environ, **env, "HAKOBU_DATABASE_URL": database_url})


@pytest.fixture
def start_worker(database_url: str, db: Database, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(name: str, **env: str) -> Worker:
        worker = Worker(name, database_url, tmp_path, env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop(20)
    with db.engine.begin() as conn:  # the test schema's truncation knows only our own tables
        conn.execute(text("TRUNCATE procrastinate_jobs, procrastinate_workers, procrastinate_events, "
                          "procrastinate_periodic_defers RESTART IDENTITY CASCADE"))


def solving(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).where(Batch.state == "solving")) or 0)


@needs_postgres
def test_two_workers_solve_a_cutoff_and_a_killed_workers_batch_is_solved_once_by_the_other(
        db: Database, database_url: str, start_worker: Callable[..., Worker]) -> None:
    batch_ids = tajima_cutoff(db, orders_per_hub=6)
    queue = ProcrastinateQueue(database_url)
    try:
        assert all(queue.solve(batch_id) for batch_id in batch_ids)
        assert not queue.solve(batch_ids[0]), "a waiting batch is queued once"
    finally:
        queue.shutdown()
    env = {"HAKOBU_SOLVE_TIME_LIMIT_S": "3", "HAKOBU_TASK_STALLED_AFTER_S": "3"}
    doomed, survivor = start_worker("doomed", **env), start_worker("survivor", **env)
    workers = (doomed, survivor)
    wait_for(lambda: solving(db) == 2, 90, "both workers solving", workers)
    doomed.kill()

    def states() -> dict[str, str]:
        with db.read() as s:
            return {b.id: b.state for b in s.scalars(select(Batch).where(Batch.id.in_(batch_ids)))}

    wait_for(lambda: set(states().values()) == {"solved"}, 120, "every batch solved", workers)
    with db.read() as s:
        plans = dict(s.execute(select(Plan.batch_id, func.count()).where(Plan.batch_id.in_(batch_ids))
                               .group_by(Plan.batch_id)).all())
        attempts = sorted(s.scalars(select(Batch.attempts).where(Batch.id.in_(batch_ids))))
    assert plans == dict.fromkeys(batch_ids, 1), "one plan version per batch, the killed one's included"
    assert attempts == [1] * (len(batch_ids) - 1) + [2], "the killed worker's batch was claimed twice"
    assert "lost its worker; retrying it" in survivor.log()
    with db.engine.connect() as conn:
        failed = conn.execute(text("SELECT count(*) FROM procrastinate_jobs "
                                   "WHERE status = 'failed'")).scalar()
    assert failed == 0
