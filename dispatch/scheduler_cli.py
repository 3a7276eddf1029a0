"""``hakobu scheduler`` (leader or standby, in the foreground) and ``hakobu batch list|retry``.

Also runnable on its own: ``python -m dispatch.scheduler_cli scheduler --database URL``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import signal
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select

from dispatch.cli import database_option, fail, open_db
from dispatch.config import settings_from_env
from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.lifecycle import BATCH_PENDING, BatchState
from dispatch.models import Batch, Hub, Order, Region
from dispatch.scheduler import BatchScheduler, Clock, leader_lock_for
from dispatch.services.solving import PlanBatch, Planner, SolvePool, batch_state, retry_batch
from dispatch.tasks import TaskQueue, check_engine, task_queue
from dispatch.tasks.local import LocalQueue


def _planner(reference: str | None, time_limit_s: float) -> Planner:
    """``module:function`` → the function; none given: the real planner with ``time_limit_s``."""
    if not reference:
        return PlanBatch(time_limit_s)
    module, _, name = reference.partition(":")
    if not name:
        raise click.BadParameter(f"{reference!r} is not module:function", param_hint="--planner")
    function: Planner = getattr(importlib.import_module(module), name)
    return function


def _clock(fake_now: str | None) -> Clock:
    """Real UTC time, or time running at real speed from ``fake_now`` (tests and simulations)."""
    if not fake_now:
        return lambda: dt.datetime.now(dt.UTC)
    start = dt.datetime.fromisoformat(fake_now)
    if start.tzinfo is None:
        raise click.BadParameter(f"{fake_now!r} has no UTC offset", param_hint="--fake-now")
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)


def _hard_timeout(db_settings_limit: float, given: float | None) -> float:
    return given if given is not None else 2 * db_settings_limit + 60


planner_option = click.option("--planner", default=None, hidden=True,
                              help="module:function used instead of dispatch.planning.plan_batch.")
hard_timeout_option = click.option(
    "--hard-timeout", "hard_timeout_s", type=float, default=None,
    help="Kill a solve after this many seconds (default: 2 × solve_time_limit_s + 60).")


@click.command("scheduler")
@database_option
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True,
              help="Solves running at the same time (one process each) with the in-process executor "
                   "(HAKOBU_TASK_ENGINE=local); a task engine's workers are started on their own.")
@click.option("--poll", "poll_s", type=float, default=3.0, show_default=True,
              help="Seconds between a standby's attempts to become leader.")
@click.option("--tick", "tick_s", type=float, default=30.0, show_default=True,
              help="Seconds between sweeps (job sync, close early, missed cutoffs, queued solves).")
@hard_timeout_option
@planner_option
@click.option("--fake-now", default=None, hidden=True, help="Start the clock at this ISO instant.")
def scheduler_command(database_url: str | None, workers: int, poll_s: float, tick_s: float,
                      hard_timeout_s: float | None, planner: str | None, fake_now: str | None) -> None:
    """Run the batch scheduler in the foreground: leader if no other one runs, else standby."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = settings_from_env()
    db = open_db(database_url)
    planner_function = _planner(planner, settings.solve_time_limit_s)
    timeout = _hard_timeout(settings.solve_time_limit_s, hard_timeout_s)

    def make_queue() -> TaskQueue:
        return task_queue(db, settings, local=lambda: LocalQueue(db, solves=SolvePool(
            db, planner_function, workers=workers, hard_timeout_s=timeout)))

    try:
        check_engine(db, settings)
    except DomainError as error:
        fail(str(error))
    service = BatchScheduler(db, settings, make_queue=make_queue, clock=_clock(fake_now),
                             poll_s=poll_s, tick_s=tick_s)
    stop = threading.Event()

    def on_signal(_number: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.run(stop)
    db.dispose()


@click.group("batch")
def batch_group() -> None:
    """Batches of orders closed at the hubs' cutoffs."""


@batch_group.command("list")
@database_option
@click.option("--hub", "hub_code", default=None, help="Only this hub (code).")
@click.option("--state", type=click.Choice([s.value for s in BatchState]), default=None)
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
def batch_list(database_url: str | None, hub_code: str | None, state: str | None, limit: int) -> None:
    """Newest batches first: id, hub, cutoff (local time), state, attempts, orders, reason."""
    db = open_db(database_url)
    orders = select(func.count()).where(Order.batch_id == Batch.id).scalar_subquery()
    query = (select(Batch, Hub.code, Region.timezone, orders).join(Hub, Batch.hub_id == Hub.id)
             .join(Region, Hub.region_id == Region.id).order_by(Batch.cutoff_at.desc()).limit(limit))
    if hub_code:
        query = query.where(Hub.code == hub_code)
    if state:
        query = query.where(Batch.state == state)
    try:
        with db.read() as session:
            rows = session.execute(query).all()
    finally:
        db.dispose()
    for batch, code, timezone, count in rows:
        cutoff = batch.cutoff_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
        seconds = "" if batch.solve_seconds is None else f"{batch.solve_seconds:.1f}s"
        click.echo(f"{batch.id}  {code:<12} {cutoff}  {batch.state:<7} attempts={batch.attempts} "
                   f"orders={count} {seconds} {batch.display_reason}".rstrip())
    if not rows:
        click.echo("no batches")


@batch_group.command("retry")
@click.argument("batch_id")
@database_option
@hard_timeout_option
@planner_option
@click.option("--wait", "wait_s", type=float, default=600.0, show_default=True,
              help="When a scheduler is running, wait this long for it to finish the solve.")
def batch_retry(batch_id: str, database_url: str | None, hard_timeout_s: float | None,
                planner: str | None, wait_s: float) -> None:
    """Re-run the solve of a failed batch: here if no scheduler runs, else by the running leader."""
    db = open_db(database_url)
    try:
        _retry(db, batch_id, hard_timeout_s, planner, wait_s)
    finally:
        db.dispose()


def _retry(db: Database, batch_id: str, hard_timeout_s: float | None, planner: str | None,
           wait_s: float) -> None:
    try:
        retry_batch(db, batch_id)
    except DomainError as error:
        fail(str(error))
    settings = settings_from_env()
    lock = leader_lock_for(db)
    if check_engine(db, settings) != "local":  # the task engine's workers solve it
        tasks = task_queue(db, settings, local=lambda: LocalQueue(db))
        try:
            tasks.solve(batch_id)
        finally:
            tasks.shutdown()
        click.echo(f"batch {batch_id} queued for the task workers")
        _wait_for(db, batch_id, wait_s)
    elif lock.acquire():  # no scheduler: solve here, holding the lock so none starts meanwhile
        try:
            limit = settings.solve_time_limit_s
            timeout = _hard_timeout(limit, hard_timeout_s)
            pool = SolvePool(db, _planner(planner, limit), workers=1, hard_timeout_s=timeout)
            pool.submit(batch_id)
            pool.wait_idle(timeout + 30)
            pool.shutdown()
        finally:
            lock.release()
    else:
        click.echo(f"batch {batch_id} queued for the running scheduler")
        _wait_for(db, batch_id, wait_s)
    _report(db, batch_id)


def _wait_for(db: Database, batch_id: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while batch_state(db, batch_id) in BATCH_PENDING and time.monotonic() < deadline:
        time.sleep(0.5)


def _report(db: Database, batch_id: str) -> None:
    with db.read() as session:
        batch = session.get(Batch, batch_id)
    assert batch is not None
    click.echo(f"batch {batch_id}: {batch.state} (attempt {batch.attempts}) {batch.display_reason}".rstrip())
    if batch.state == BatchState.FAILED:
        raise SystemExit(1)


commands = [scheduler_command, batch_group]

if __name__ == "__main__":
    click.Group("hakobu", commands={c.name or "": c for c in commands})()
