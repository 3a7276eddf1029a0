"""The per-hub batch scheduler: one leader process runs APScheduler, every other one waits.

* **Leadership.** APScheduler 3 must run in exactly one process. A process first takes the leader
  lock (:func:`leader_lock_for`): a PostgreSQL advisory lock held on a dedicated connection, or an
  exclusive ``flock`` on a file beside the SQLite database. Both die with the process, so a standby
  polling every ``poll_s`` seconds takes over within that time.
* **Jobs.** One cron job per hub and cutoff (local time, the region's timezone) in a
  ``SQLAlchemyJobStore`` on the application database, kept equal to the ``hub`` table by
  :func:`sync_jobs`; plus an in-memory *sweep* every ``tick_s`` seconds that re-syncs the jobs,
  carries on orders that missed their day (:mod:`dispatch.services.continuity`), closes due cutoffs
  (a safety net for the cron jobs), closes hubs early when full and queues waiting solves.
* **Catch-up.** On taking the lead, a sweep runs before anything else: every cutoff missed while no
  leader ran is closed in order (:func:`dispatch.services.batching.due_cutoffs`), and solves
  interrupted by the previous leader's death are queued again (by the in-process executor; a task
  engine's workers recover their own, :meth:`dispatch.tasks.TaskQueue.recover_interrupted`).
* Jobs are one-liners calling services; the solves are handed to the task queue
  (:mod:`dispatch.tasks`): the leader's own worker processes, or a task engine's workers.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from dispatch.config import Settings
from dispatch.db import Database, make_engine
from dispatch.lifecycle import BatchState
from dispatch.models import Hub, Region, utcnow
from dispatch.services import callouts, standing
from dispatch.services.batching import (
    CloseResult,
    close_due_batches,
    close_early_if_full,
    parse_cutoff,
)
from dispatch.services.continuity import carry_over_hub
from dispatch.services.solving import pending_batches
from dispatch.tasks import TaskQueue

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

#: Table of APScheduler's own job store (created by APScheduler, not by our migrations).
JOBS_TABLE = "apscheduler_jobs"
#: First key of the PostgreSQL advisory lock ("HAKB"); the second is a hash of the schema name.
ADVISORY_NAMESPACE = 0x48414B42


class LeaderLock(Protocol):
    """Held by at most one process per application database; released when the process dies."""

    def acquire(self) -> bool:
        """Try once, without waiting; True if this process now holds the lock."""

    def alive(self) -> bool:
        """True while the lock is still held (the PostgreSQL connection can be lost)."""

    def release(self) -> None: ...


class FileLeaderLock:
    """An exclusive ``flock`` on ``path``; the kernel drops it when the holder dies, even by kill -9."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def acquire(self) -> bool:
        handle = self.path.open("a+")  # non-inheritable: spawned solver processes do not keep it
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def alive(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLeaderLock:
    """``pg_try_advisory_lock`` on a dedicated connection kept for the leader's lifetime.

    The key is (``ADVISORY_NAMESPACE``, hash of ``current_schema()``): one leader per application
    schema, so several Hakobu databases (or test schemas) on one server do not block each other.
    """

    def __init__(self, url: str) -> None:
        self._engine = make_engine(url, poolclass=NullPool)
        self._connection: Connection | None = None

    def _key_sql(self, function: str) -> Any:
        return text(f"SELECT {function}(:ns, hashtext(current_schema()))").bindparams(ns=ADVISORY_NAMESPACE)

    def acquire(self) -> bool:
        connection = self._engine.connect()
        got = bool(connection.execute(self._key_sql("pg_try_advisory_lock")).scalar())
        connection.commit()
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def alive(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            log.exception("leader lock connection lost")
            return False
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(self._key_sql("pg_advisory_unlock"))
            self._connection.commit()
            self._connection.close()
        except Exception:
            log.warning("could not unlock cleanly; the lock ends with the connection")
        self._connection = None
        self._engine.dispose()


def leader_lock_for(db: Database) -> LeaderLock:
    """The leader lock of ``db``: a file ``<database>.scheduler.lock`` on SQLite, advisory on PostgreSQL."""
    if db.dialect != "sqlite":
        return AdvisoryLeaderLock(db.url)
    path = make_url(db.url).database
    if not path or path == ":memory:":
        raise ValueError(f"the scheduler needs a SQLite file, not {db.url!r}")
    return FileLeaderLock(Path(path).with_name(Path(path).name + ".scheduler.lock"))


@dataclass(frozen=True)
class CutoffJob:
    """One cron job: ``hub_id`` closes at local ``cutoff`` (``"HH:MM"``) in ``timezone``."""

    hub_id: str
    cutoff: str
    timezone: str

    @property
    def job_id(self) -> str:
        return f"cutoff:{self.hub_id}:{self.cutoff}"


def desired_jobs(db: Database) -> dict[str, CutoffJob]:
    """The cutoff jobs the ``hub`` table asks for, by job id."""
    with db.read() as session:
        rows = session.execute(
            select(Hub.id, Hub.cutoffs, Region.timezone).join(Region, Hub.region_id == Region.id)
        ).all()
    jobs = [CutoffJob(hub_id, cutoff, timezone) for hub_id, cutoffs, timezone in rows for cutoff in cutoffs]
    return {job.job_id: job for job in jobs}


def sync_jobs(scheduler: BackgroundScheduler, db: Database, misfire_grace_s: int) -> tuple[int, int]:
    """Make the stored cutoff jobs equal to :func:`desired_jobs`; returns (added, removed)."""
    wanted = desired_jobs(db)
    present = {job.id: str(job.trigger.timezone) for job in scheduler.get_jobs(jobstore="default")}
    removed = [job_id for job_id in present if job_id not in wanted]
    for job_id in removed:
        scheduler.remove_job(job_id, jobstore="default")
    added = [job for job_id, job in wanted.items() if present.get(job_id) != job.timezone]
    for job in added:
        time_of_day = parse_cutoff(job.cutoff)
        scheduler.add_job(
            "dispatch.scheduler:run_cutoff_job", CronTrigger(
                hour=time_of_day.hour, minute=time_of_day.minute, timezone=ZoneInfo(job.timezone)),
            args=[job.hub_id], id=job.job_id, name=f"close {job.hub_id} at {job.cutoff}",
            jobstore="default", replace_existing=True,
            # Late runs still count (see docs/scheduler.md): several missed runs collapse into one,
            # which closes every due cutoff of the hub anyway.
            misfire_grace_time=misfire_grace_s, coalesce=True, max_instances=1,
        )
    return len(added), len(removed)


_active: BatchScheduler | None = None


def run_cutoff_job(hub_id: str) -> None:
    """APScheduler entry point of a cutoff job (stored by reference, so it must stay importable)."""
    if _active is not None:
        _active.close_hub(hub_id)


def _run_sweep() -> None:
    if _active is not None:
        _active.sweep()


class BatchScheduler:
    """The scheduler process: standby until it holds the leader lock, then APScheduler + solves.

    ``clock`` is the time the services see (a test or simulation can start it elsewhere);
    APScheduler's cron jobs use real time, and the sweep closes due cutoffs by ``clock``.
    """

    def __init__(self, db: Database, settings: Settings, *, make_queue: Callable[[], TaskQueue],
                 clock: Clock = utcnow, poll_s: float = 3.0, tick_s: float = 30.0,
                 lock: LeaderLock | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.poll_s = poll_s
        self.tick_s = tick_s
        self.lock = lock or leader_lock_for(db)
        self._make_queue = make_queue
        self._tasks: TaskQueue | None = None
        self._scheduler: BackgroundScheduler | None = None

    def run(self, stop: threading.Event) -> None:
        """Wait as standby, lead while holding the lock, until ``stop`` is set."""
        announced = False
        while not stop.is_set():
            if self.lock.acquire():
                log.info("became leader")
                try:
                    self._lead(stop)
                finally:
                    self.lock.release()
                announced = False
            else:
                if not announced:
                    log.info("standby: another scheduler is the leader; retrying every %gs", self.poll_s)
                    announced = True
                stop.wait(self.poll_s)

    def _lead(self, stop: threading.Event) -> None:
        global _active
        self._tasks = tasks = self._make_queue()
        requeued = tasks.recover_interrupted()
        if requeued:
            log.warning("interrupted solves found: %s", ", ".join(requeued))
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.db.engine, tablename=JOBS_TABLE),
                       "memory": MemoryJobStore()},
            job_defaults={"coalesce": True, "misfire_grace_time": self.settings.misfire_grace_s,
                          "max_instances": 1},
            timezone=dt.UTC,
        )
        _active = self
        try:
            self._scheduler.start()
            try:
                self.sweep()  # the catch-up: before the first sweep job, close what was missed
            except Exception:
                log.exception("catch-up sweep failed; the next sweep retries")
            self._scheduler.add_job(_run_sweep, "interval", seconds=self.tick_s, id="sweep",
                                    jobstore="memory", replace_existing=True)
            while not stop.wait(self.poll_s):
                if not self.lock.alive():
                    log.error("lost the leader lock; stepping down")
                    break
        finally:
            _active = None
            self._scheduler.shutdown(wait=False)
            tasks.shutdown()
            self._tasks = None
            log.info("stopped leading")

    def close_hub(self, hub_id: str) -> list[CloseResult]:
        """Close every due cutoff of one hub and queue the new batches' solves."""
        results = close_due_batches(self.db, hub_id, now=self.clock())
        for result in results:
            self._queue(result)
        return results

    def sweep(self) -> None:
        """Sync jobs, close due cutoffs and full hubs, queue every waiting solve."""
        started = time.monotonic()
        if self._scheduler is not None:
            added, removed = sync_jobs(self._scheduler, self.db, self.settings.misfire_grace_s)
            if added or removed:
                log.info("cutoff jobs synced: %d added, %d removed", added, removed)
        self._queue_pending()  # oldest first: a solve re-queued after a crash goes before new ones
        try:  # standing orders: the day before's reminder and order, before any cutoff closes
            placed = standing.run_due(self.db, now=self.clock())
            if placed.placed or placed.closed:
                log.info("standing orders: %d placed, %d skipped (hub closed)", len(placed.placed),
                         len(placed.closed))
        except Exception:
            log.exception("standing orders failed; next sweep retries")
        for hub_id, is_open in self._hubs():
            try:  # first carry on what missed its day, so the residents hear of the new day now
                carry_over_hub(self.db, hub_id, now=self.clock(), settings=self.settings)
                self.close_hub(hub_id)
                if is_open:
                    early = close_early_if_full(self.db, hub_id, self.settings.close_early_orders,
                                                now=self.clock())
                    if early is not None:
                        self._queue(early)
            except Exception:
                log.exception("hub %s: closing failed; next sweep retries", hub_id)
        self._queue_pending()
        try:  # short batches text available volunteers; unanswered call-outs go to the next one
            called = callouts.sweep(self.db, self.clock(), self.settings)
            if called:
                log.info("called out %d volunteer(s)", called)
        except Exception:
            log.exception("call-outs failed; next sweep retries")
        log.debug("sweep took %.2fs", time.monotonic() - started)

    def _queue_pending(self) -> None:
        if self._tasks is not None:
            for batch_id in pending_batches(self.db):
                self._tasks.solve(batch_id)

    def _hubs(self) -> list[tuple[str, bool]]:
        """(hub id, open now) of every hub with cutoffs; close-early only applies while open."""
        now = self.clock()
        with self.db.read() as session:
            rows = session.execute(
                select(Hub.id, Hub.cutoffs, Hub.opens, Hub.closes, Region.timezone)
                .join(Region, Hub.region_id == Region.id).order_by(Hub.code)
            ).all()
        hubs = []
        for hub_id, cutoffs, opens, closes, timezone in rows:
            if cutoffs:
                local = now.astimezone(ZoneInfo(timezone)).time()
                hubs.append((hub_id, opens <= local < closes))
        return hubs

    def _queue(self, result: CloseResult) -> None:
        if result.created:
            log.info("batch %s closed: hub %s cutoff %s, %d orders", result.batch_id, result.hub_id,
                     result.cutoff_at.isoformat(), len(result.order_ids))
        if result.state == BatchState.CLOSED and self._tasks is not None:
            self._tasks.solve(result.batch_id)
