"""Solving closed batches in worker processes, with a visible ``failed`` state and retry.

States of a batch: ``closed`` (queued) → ``solving`` → ``solved`` | ``failed``. Only a ``closed``
batch can be claimed for a solve, by one conditional ``UPDATE``; every claim bumps ``attempts``, and
the end of a solve is written only if the batch is still in *that* attempt, so a stale worker can
never overwrite a newer one. ``retry_batch`` puts a failed batch back to ``closed``.

The seam for a task engine is :func:`solve_batch`: a plain function of ``(db_url, batch_id)`` that
any worker can run. :class:`SolvePool` is the in-process engine used by ``hakobu scheduler``: a
bounded set of solver processes, one fresh process per solve. Not a ``ProcessPoolExecutor``, because
that can neither stop a task that runs too long nor tell which task killed a worker (it breaks the
whole pool); a process per solve can be killed on timeout and its exit code names the crash.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import BATCH_PENDING, BatchState, transition
from dispatch.models import Batch, utcnow
from dispatch.phrases import Phrase
from dispatch.workers import ProcessPool, watch_parent

log = logging.getLogger(__name__)

#: ``planner(db, batch_id)`` builds and stores the plan of a batch (``dispatch.planning.plan_batch``).
Planner = Callable[[Database, str], object]

#: An interrupted solve (its scheduler died) is re-queued automatically until this many attempts.
MAX_AUTOMATIC_ATTEMPTS = 3


@dataclass(frozen=True)
class PlanBatch:
    """The real planner with the deployment's solver time limit (``Settings.solve_time_limit_s``).

    A picklable value, so a solve pool can send it to its worker process; OR-Tools is imported
    only when a solve runs.
    """

    time_limit_s: float

    def __call__(self, db: Database, batch_id: str) -> object:
        from dispatch.planning import plan_batch  # type: ignore[import-not-found, unused-ignore]

        return plan_batch(db, batch_id, time_limit_s=self.time_limit_s)


def solve_batch(db_url: str, batch_id: str, planner: Planner) -> str:
    """Solve one ``closed`` batch: ``solving``, then ``solved`` or ``failed`` with the reason.

    Returns the batch's state afterwards. A batch that is not ``closed`` (already being solved, or
    done) is left alone, so running this twice for one batch solves it once.
    """
    db = Database(db_url)
    try:
        attempt = claim_for_solving(db, batch_id)
        if attempt is None:
            return batch_state(db, batch_id)
        started = time.perf_counter()
        try:
            result = planner(db, batch_id)
        except Exception as error:
            log.exception("batch %s: planner failed", batch_id)
            reason = f"planner raised {type(error).__name__}: {error}"
            _finish(db, batch_id, attempt, BatchState.FAILED, reason, time.perf_counter() - started)
            return BatchState.FAILED
        _finish(db, batch_id, attempt, BatchState.SOLVED, "", time.perf_counter() - started)
        log.info("batch %s solved (attempt %d): %s", batch_id, attempt, result)
        return BatchState.SOLVED
    finally:
        db.dispose()


def claim_for_solving(db: Database, batch_id: str) -> int | None:
    """Move ``closed → solving`` and return the attempt number, or None if not ``closed``."""
    with db.write() as session:
        return session.scalar(
            update(Batch).where(Batch.id == batch_id, Batch.state == BatchState.CLOSED)
            .values(state=BatchState.SOLVING, attempts=Batch.attempts + 1)  # replan_reason stays
            .returning(Batch.attempts)
        )


def _finish(db: Database, batch_id: str, attempt: int, state: BatchState, reason: str,
            seconds: float) -> bool:
    """``solving`` → ``state`` if still in ``attempt``; a requested re-plan is answered either way."""
    with db.write() as session:
        done = session.execute(
            update(Batch).where(Batch.id == batch_id, Batch.state == BatchState.SOLVING,
                                Batch.attempts == attempt)
            .values(state=state, reason=reason, replan_reason=None, solve_seconds=seconds,
                    solved_at=utcnow() if state == BatchState.SOLVED else None)
            .returning(Batch.id)
        ).first()
    return done is not None


def mark_failed(db: Database, batch_id: str, reason: str) -> bool:
    """Record a failure seen from outside the solve (crash, timeout); False if already finished."""
    with db.write() as session:
        done = session.execute(
            update(Batch).where(Batch.id == batch_id, Batch.state.in_(BATCH_PENDING))
            .values(state=BatchState.FAILED, reason=reason, replan_reason=None).returning(Batch.id)
        ).first()
    return done is not None


def release_batch(db: Database, batch_id: str) -> bool:
    """Put a ``solving`` batch back in the queue (``closed``): its solve was stopped, not failed."""
    with db.write() as session:
        done = session.execute(
            update(Batch).where(Batch.id == batch_id, Batch.state == BatchState.SOLVING)
            .values(state=BatchState.CLOSED).returning(Batch.id)
        ).first()
    return done is not None


def batch_state(db: Database, batch_id: str) -> BatchState:
    with db.read() as session:
        state = session.scalar(select(Batch.state).where(Batch.id == batch_id))
    if state is None:
        raise NotFound(f"batch {batch_id!r} does not exist")
    return state


def retry_batch(db: Database, batch_id: str) -> None:
    """Queue a ``failed`` batch again (``closed``); its orders stay in it. Other states are refused."""
    with db.write() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise NotFound(f"batch {batch_id!r} does not exist")
        if batch.state != BatchState.FAILED:
            raise DomainError("batch %(batch_id)s is %(state)s; only a failed batch can be retried",
                              batch_id=batch_id, state=batch.state)
        transition(batch, BatchState.CLOSED)
        batch.reason = ""


def requeue_interrupted(db: Database, max_attempts: int = MAX_AUTOMATIC_ATTEMPTS, *,
                        batch_ids: Collection[str] | None = None) -> list[str]:
    """Deal with batches left ``solving`` by a process that died: every one, or those of ``batch_ids``.

    Call it only when no live solve can be behind them: with the in-process executor, on taking the
    scheduler's leader lock (whoever holds it runs every solve); with a task engine, in the retried
    job of a batch (the engine's lock keeps a batch's jobs one at a time). A batch is queued again
    (``closed``) while it has had fewer than ``max_attempts`` attempts, and marked ``failed``
    otherwise so that a person looks at it.
    """
    query = select(Batch).where(Batch.state == BatchState.SOLVING).order_by(Batch.cutoff_at)
    if batch_ids is not None:
        query = query.where(Batch.id.in_(list(batch_ids)))
    with db.write() as session:
        stuck = session.scalars(query).all()
        for batch in stuck:
            if batch.attempts < max_attempts:
                transition(batch, BatchState.CLOSED)  # its replan_reason (a requested re-plan) still holds
            else:
                transition(batch, BatchState.FAILED)
                batch.replan_reason = None
                batch.reason = Phrase("interrupted %(count)s times (scheduler stopped during the solve)",
                                      {"count": batch.attempts}).stored()
        return [batch.id for batch in stuck]


def pending_batches(db: Database) -> list[str]:
    """Ids of the ``closed`` batches waiting for a solve, oldest cutoff first."""
    with db.read() as session:
        query = select(Batch.id).where(Batch.state == BatchState.CLOSED).order_by(Batch.cutoff_at)
        return list(session.scalars(query))


def _worker_main(db_url: str, batch_id: str, planner: Planner, parent: int) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s solve[{os.getpid()}] %(message)s")
    watch_parent(parent)  # a solve belongs to a live leader
    solve_batch(db_url, batch_id, planner)


class SolvePool(ProcessPool):
    """The scheduler's solves, each in its own worker process (:class:`dispatch.workers.ProcessPool`).

    A solve that times out or whose process dies leaves its batch ``failed`` with the reason; one
    stopped by a shutdown goes back to the queue (``closed``) for the next leader.
    """

    job = "solve"

    def __init__(self, db: Database, planner: Planner, *, workers: int = 2,
                 hard_timeout_s: float = 120.0) -> None:
        super().__init__(workers=workers, hard_timeout_s=hard_timeout_s)
        self._db = db
        self._planner = planner

    def target(self, key: str) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return _worker_main, (self._db.url, key, self._planner)

    def ended(self, key: str, failure: str | None, *, stopped: bool) -> None:
        if stopped:
            if release_batch(self._db, key):
                log.info("batch %s: solve stopped by shutdown; queued again", key)
        elif failure is not None and mark_failed(self._db, key, failure):
            log.warning("batch %s failed: %s", key, failure)
