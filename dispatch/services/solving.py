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

import datetime as dt
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select, update

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.models import Batch, utcnow

log = logging.getLogger(__name__)

#: ``planner(db, batch_id)`` builds and stores the plan of a batch (``dispatch.planning.plan_batch``).
Planner = Callable[[Database, str], object]

#: An interrupted solve (its scheduler died) is re-queued automatically until this many attempts.
MAX_AUTOMATIC_ATTEMPTS = 3


def default_planner(db: Database, batch_id: str) -> object:
    """The real planner, imported only when a solve runs (it pulls in OR-Tools)."""
    from dispatch.planning import plan_batch  # type: ignore[import-not-found, unused-ignore]

    return plan_batch(db, batch_id)


def solve_batch(db_url: str, batch_id: str, planner: Planner | None = None) -> str:
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
            result = (planner or default_planner)(db, batch_id)
        except Exception as error:
            log.exception("batch %s: planner failed", batch_id)
            reason = f"planner raised {type(error).__name__}: {error}"
            _finish(db, batch_id, attempt, "failed", reason, time.perf_counter() - started)
            return "failed"
        _finish(db, batch_id, attempt, "solved", "", time.perf_counter() - started)
        log.info("batch %s solved (attempt %d): %s", batch_id, attempt, result)
        return "solved"
    finally:
        db.dispose()


def claim_for_solving(db: Database, batch_id: str) -> int | None:
    """Move ``closed → solving`` and return the attempt number, or None if not ``closed``."""
    with db.write() as session:
        return session.scalar(
            update(Batch).where(Batch.id == batch_id, Batch.state == "closed")
            .values(state="solving", attempts=Batch.attempts + 1)  # reason: why a re-plan was asked
            .returning(Batch.attempts)
        )


def _finish(db: Database, batch_id: str, attempt: int, state: str, reason: str, seconds: float) -> bool:
    with db.write() as session:
        done = session.execute(
            update(Batch).where(Batch.id == batch_id, Batch.state == "solving", Batch.attempts == attempt)
            .values(state=state, reason=reason, solve_seconds=seconds,
                    solved_at=utcnow() if state == "solved" else None)
            .returning(Batch.id)
        ).first()
    return done is not None


def mark_failed(db: Database, batch_id: str, reason: str) -> bool:
    """Record a failure seen from outside the solve (crash, timeout); False if already finished."""
    with db.write() as session:
        done = session.execute(
            update(Batch).where(Batch.id == batch_id, Batch.state.in_(("closed", "solving")))
            .values(state="failed", reason=reason).returning(Batch.id)
        ).first()
    return done is not None


def release_batch(db: Database, batch_id: str) -> bool:
    """Put a ``solving`` batch back in the queue (``closed``): its solve was stopped, not failed."""
    with db.write() as session:
        done = session.execute(
            update(Batch).where(Batch.id == batch_id, Batch.state == "solving")
            .values(state="closed").returning(Batch.id)
        ).first()
    return done is not None


def batch_state(db: Database, batch_id: str) -> str:
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
        if batch.state != "failed":
            raise DomainError(f"batch {batch_id} is {batch.state}; only a failed batch can be retried")
        batch.state, batch.reason = "closed", ""


def requeue_interrupted(db: Database, max_attempts: int = MAX_AUTOMATIC_ATTEMPTS) -> list[str]:
    """Deal with batches left ``solving`` by a scheduler that died; call only while holding the lock.

    Whoever holds the leader lock runs every solve, so at the moment it takes the lock a ``solving``
    batch has no live solve behind it. It is queued again (``closed``) while it has had fewer than
    ``max_attempts`` attempts, and marked ``failed`` otherwise so that a person looks at it.
    """
    with db.write() as session:
        stuck = session.scalars(select(Batch).where(Batch.state == "solving").order_by(Batch.cutoff_at)).all()
        for batch in stuck:
            if batch.attempts < max_attempts:
                batch.state = "closed"  # its reason (a requested re-plan) still holds
            else:
                batch.state = "failed"
                batch.reason = f"interrupted {batch.attempts} times (scheduler stopped during the solve)"
        return [batch.id for batch in stuck]


def pending_batches(db: Database) -> list[str]:
    """Ids of the ``closed`` batches waiting for a solve, oldest cutoff first."""
    with db.read() as session:
        query = select(Batch.id).where(Batch.state == "closed").order_by(Batch.cutoff_at)
        return list(session.scalars(query))


def describe_exit(exitcode: int | None) -> str:
    """A reason for a worker process that ended without finishing its solve."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"worker process killed by {name} during the solve"
    return f"worker process exited with code {exitcode} during the solve"


def _watch_parent(parent: int, interval_s: float = 0.5) -> None:
    """Exit this worker when its parent (the scheduler) dies: its solve belongs to a dead leader."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(db_url: str, batch_id: str, planner: Planner | None, parent: int) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s solve[{os.getpid()}] %(message)s")
    _watch_parent(parent)
    solve_batch(db_url, batch_id, planner)


class SolvePool:
    """At most ``workers`` solves at a time, each in a fresh ``spawn``-ed process.

    ``spawn`` rather than ``fork``: the scheduler has threads and open database connections, and a
    forked child would also inherit the leader's lock file descriptor and keep the lock alive after
    the leader dies. A solve running longer than ``hard_timeout_s`` is killed and marked failed.
    """

    def __init__(self, db: Database, *, workers: int = 2, planner: Planner | None = None,
                 hard_timeout_s: float = 120.0) -> None:
        self._db = db
        self._planner = planner
        self._hard_timeout_s = hard_timeout_s
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="solve")
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._processes: dict[str, Any] = {}
        self._closing = False

    def submit(self, batch_id: str) -> bool:
        """Queue a solve of ``batch_id``; False if it is already queued or running here."""
        with self._lock:
            if self._closing or batch_id in self._in_flight:
                return False
            self._in_flight.add(batch_id)
        self._threads.submit(self._run, batch_id)
        return True

    def in_flight(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._in_flight)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def shutdown(self) -> None:
        """Stop: kill running solves and leave their batches queued for the next leader."""
        with self._lock:
            self._closing = True
            processes = list(self._processes.values())
        for process in processes:
            process.kill()
        self._threads.shutdown(wait=True, cancel_futures=True)

    def _run(self, batch_id: str) -> None:
        try:
            self._solve_in_process(batch_id)
        except Exception:
            log.exception("batch %s: could not run the solve", batch_id)
        finally:
            with self._lock:
                self._in_flight.discard(batch_id)
                self._processes.pop(batch_id, None)

    def _solve_in_process(self, batch_id: str) -> None:
        context = multiprocessing.get_context("spawn")
        process = context.Process(target=_worker_main, name=f"solve-{batch_id}", daemon=True,
                                  args=(self._db.url, batch_id, self._planner, os.getpid()))
        with self._lock:
            if self._closing:
                return
            process.start()
            self._processes[batch_id] = process
        started = dt.datetime.now(dt.UTC)
        process.join(self._hard_timeout_s)
        if process.is_alive():
            process.kill()
            process.join()
            reason = f"timed out: still running after {self._hard_timeout_s:g} s, killed"
        elif process.exitcode == 0:
            return
        else:
            reason = describe_exit(process.exitcode)
        if self._closing:
            if release_batch(self._db, batch_id):
                log.info("batch %s: solve stopped by shutdown; queued again", batch_id)
            return
        if mark_failed(self._db, batch_id, reason):
            log.warning("batch %s failed after %s: %s", batch_id, dt.datetime.now(dt.UTC) - started, reason)
