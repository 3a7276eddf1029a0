"""Solves and scenario runs as procrastinate tasks, kept in the application's PostgreSQL database.

Why procrastinate: ``docs/tasks.md`` (it needs nothing beyond the database Hakobu already has, and
its locks match a batch's one-at-a-time rule). Workers are procrastinate's own command::

    HAKOBU_DATABASE_URL=postgresql+psycopg://… procrastinate --app=dispatch.tasks.worker.app worker

on any number of machines; each runs one task at a time (``concurrency`` 1: a solve keeps a core
busy). The scheduler and the web pages only defer.

* **One solve per batch at a time.** A solve job carries ``lock`` and ``queueing_lock`` =
  ``batch:<id>``: procrastinate never runs two jobs of one batch together and keeps at most one
  waiting, so the scheduler's sweep may offer the same waiting batch every tick.
* **A worker killed mid-solve** (``kill -9``, a lost machine) stops its heartbeat; after
  ``task_stalled_after_s`` the periodic :data:`RECOVER_TASK`, run by any live worker, puts the
  job back to ``todo`` (its ``attempts`` counts one more). Run again, the task first takes the batch
  back from the dead attempt (:func:`dispatch.services.solving.requeue_interrupted`, the same rule
  as after a dead scheduler: failed after three), then solves it through the batch claim, so a
  batch gets one plan version per solve, however often its job ran.
* Finished jobs are deleted (``delete_jobs="successful"``); failed ones stay for the queue's
  failure count. A batch whose planner failed is a *successful* task: the failure is the batch's
  (``failed`` with its reason, retried by a person).
"""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url

from dispatch.config import settings_from_env
from dispatch.db import Database

log = logging.getLogger(__name__)

#: Queues: solves (and re-plans) before scenario runs, maintenance for the stalled-job sweep.
SOLVES, SCENARIOS, MAINTENANCE = "solves", "scenarios", "maintenance"
SOLVE_TASK = "hakobu.solve_batch"
RUN_TASK = "hakobu.scenario_run"
RECOVER_TASK = "hakobu.retry_stalled"
#: How often a live worker looks for jobs of dead workers (cron with a seconds column).
RECOVER_CRON = "* * * * * */5"


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL ``postgresql+psycopg://…`` as libpq reads it (options such as a
    ``search_path`` kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def batch_lock(batch_id: str) -> str:
    return f"batch:{batch_id}"


def build_app(url: str) -> App:
    """A procrastinate app on the database ``url`` with Hakobu's tasks (for workers and deferrers)."""
    stalled_s = settings_from_env().task_stalled_after_s
    app = App(connector=PsycopgConnector(conninfo=libpq_url(url)), worker_defaults={
        "queues": [SOLVES, SCENARIOS, MAINTENANCE], "concurrency": 1, "delete_jobs": "successful",
        "update_heartbeat_interval": max(stalled_s / 6, 0.5), "stalled_worker_timeout": stalled_s,
    })

    @app.task(name=SOLVE_TASK, queue=SOLVES, pass_context=True)
    def solve(context: JobContext, batch_id: str) -> str:
        return _solve(url, batch_id, retried=bool(context.job.attempts))

    @app.task(name=RUN_TASK, queue=SCENARIOS, pass_context=True)
    def scenario_run(context: JobContext, run_id: str) -> str:
        return _scenario(url, run_id, retried=bool(context.job.attempts))

    @app.periodic(cron=RECOVER_CRON, periodic_id="stalled")
    @app.task(name=RECOVER_TASK, queue=MAINTENANCE, queueing_lock=RECOVER_TASK, pass_context=True)
    async def retry_stalled(context: JobContext, timestamp: int) -> int:
        manager = context.app.job_manager
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_s)
        for job in stalled:
            log.warning("job %s (%s %s) lost its worker; retrying it", job.id, job.task_name, job.task_kwargs)
            await manager.retry_job(job)
        return len(list(stalled))

    return app


def _solve(url: str, batch_id: str, *, retried: bool) -> str:
    from dispatch.services.solving import PlanBatch, requeue_interrupted, solve_batch

    if retried:  # the previous run of this job died with its worker: take the batch back from it
        db = Database(url)
        try:
            requeue_interrupted(db, batch_ids=[batch_id])
        finally:
            db.dispose()
    return str(solve_batch(url, batch_id, PlanBatch(settings_from_env().solve_time_limit_s)))


def _scenario(url: str, run_id: str, *, retried: bool) -> str:
    from dispatch.studies.runs import execute_run, requeue_run

    if retried:
        db = Database(url)
        try:
            requeue_run(db, run_id)
        finally:
            db.dispose()
    return execute_run(url, run_id)


class ProcrastinateQueue:
    """:class:`dispatch.tasks.TaskQueue` that defers jobs for the procrastinate workers."""

    engine = "procrastinate"
    queued_for_s = None

    def __init__(self, url: str) -> None:
        self._app = build_app(url)
        self._app.open()

    def _defer(self, task: str, lock: str | None, **kwargs: Any) -> bool:
        try:
            self._app.configure_task(task, lock=lock, queueing_lock=lock).defer(**kwargs)
        except AlreadyEnqueued:
            return False
        return True

    def solve(self, batch_id: str) -> bool:
        return self._defer(SOLVE_TASK, batch_lock(batch_id), batch_id=batch_id)

    def run_scenario(self, run_id: str) -> bool:
        return self._defer(RUN_TASK, None, run_id=run_id)

    def has_room(self) -> bool:
        return True  # the queue is in the database: a run waits there for the next free worker

    def recover_interrupted(self) -> list[str]:
        return []  # solves belong to the workers, which retry a dead worker's jobs themselves

    def shutdown(self) -> None:
        self._app.close()
