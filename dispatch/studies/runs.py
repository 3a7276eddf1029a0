"""Scenario runs in background worker processes: the planner page never solves inside a request.

A scenario re-plans a day twice (10–25 s on Tajima). Run inside a web request it would hold a server
thread that long; the project's rule is that solving never blocks the web process (the batch solver
runs in worker processes too, :class:`dispatch.services.solving.SolvePool`). So the page only checks
the scenario (fast), inserts a :class:`ScenarioRun` row and hands its id to :class:`ScenarioRunPool`:

- one fresh ``spawn``-ed process per run (no inherited threads, connections or locks), at most
  ``workers`` at a time per web process; more wait ``queued``;
- the worker moves the row ``queued → running``, writes its progress and a heartbeat every
  :data:`HEARTBEAT_S`, and ends it ``done`` with the comparison (KPIs, plans as GeoJSON) or ``failed``
  with the error;
- the pool kills a worker still running after ``hard_timeout_s`` and marks the run failed with the
  reason; a worker that dies (killed, crashed) is marked failed with its exit;
- a row left ``queued`` or ``running`` by a process that died with its web server is marked failed
  when next looked at (:func:`settle`): a dead pid on this host, or no heartbeat for :data:`STALE_S`.

Every end is a conditional ``UPDATE`` on the state, so a late worker cannot overwrite a failure.
The CLI (``hakobu scenario run``) keeps running in the foreground: :func:`run_scenario` is the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select, update

from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.models import ScenarioRun, utcnow

log = logging.getLogger(__name__)

#: How often a running worker says it is alive.
HEARTBEAT_S = 2.0
#: A running run without a heartbeat for this long has no live worker behind it.
STALE_S = 30.0
#: The web page's hard limit for one run (base and scenario together).
DEFAULT_HARD_TIMEOUT_S = 300.0
#: Runs kept in the list of recent runs.
RECENT = 10
#: Runs that may wait for a slot in one web process, besides those running.
MAX_WAITING = 4

ACTIVE = ("queued", "running")


def _host() -> str:
    return socket.gethostname()


def submit_run(db: Database, spec: str, name: str = "", user_id: str | None = None) -> str:
    """Record a ``queued`` run of the scenario file ``spec`` (already checked) and return its id."""
    with db.write() as s:
        run = ScenarioRun(name=name[:200], spec=spec, state="queued", progress={}, reason="",
                          pid=os.getpid(), host=_host(), created_by=user_id)
        s.add(run)
        s.flush()
        return run.id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _stale_reason(run: ScenarioRun, now: dt.datetime, queued_for_s: float) -> str | None:
    """Why an unfinished run has no live process behind it, or None when it may still be alive."""
    local = run.host == _host() and run.pid is not None
    if run.state == "running":
        if local and not _alive(run.pid):  # type: ignore[arg-type]
            return f"the worker process (pid {run.pid}) is gone; it stopped without finishing"
        beat = run.heartbeat_at or run.started_at or run.created_at
        if (now - beat).total_seconds() > STALE_S:
            return (f"the worker process stopped answering (no sign of life for "
                    f"{(now - beat).total_seconds():.0f} s); it stopped without finishing")
    elif run.state == "queued":
        if local and not _alive(run.pid):  # type: ignore[arg-type]
            return f"the web process that queued it (pid {run.pid}) stopped before the run started"
        if (now - run.created_at).total_seconds() > queued_for_s:
            return f"still queued after {queued_for_s:.0f} s: no worker took it"
    return None


def queued_limit_s(workers: int = 1, max_waiting: int = MAX_WAITING,
                   hard_timeout_s: float = DEFAULT_HARD_TIMEOUT_S) -> float:
    """How long a run may stay queued before it counts as abandoned: every run ahead of it (and
    itself) using its whole hard timeout, plus a margin of one more."""
    return (max_waiting // workers + 2) * hard_timeout_s


def settle(db: Database, run_id: str, *, queued_for_s: float | None = None) -> ScenarioRun:
    """The run as it is now; one left unfinished by a dead process is marked failed first."""
    with db.write() as s:
        run = s.get(ScenarioRun, run_id)
        if run is None:
            raise NotFound(f"scenario run {run_id!r} does not exist")
        if run.state in ACTIVE:
            reason = _stale_reason(run, utcnow(), queued_limit_s() if queued_for_s is None else queued_for_s)
            if reason is not None:
                run.state, run.reason, run.finished_at = "failed", reason, utcnow()
        s.flush()
        s.expunge(run)
        return run


def recent_runs(db: Database, limit: int = RECENT, *, queued_for_s: float | None = None) -> list[ScenarioRun]:
    """The newest runs (any planner's: planners share their studies), settled."""
    with db.read() as s:
        ids = list(s.scalars(select(ScenarioRun.id).order_by(ScenarioRun.created_at.desc()).limit(limit)))
    return [settle(db, run_id, queued_for_s=queued_for_s) for run_id in ids]


def fail_run(db: Database, run_id: str, reason: str) -> bool:
    """Mark an unfinished run failed (seen from outside: crash, timeout); False if already over."""
    with db.write() as s:
        done = s.execute(update(ScenarioRun).where(ScenarioRun.id == run_id, ScenarioRun.state.in_(ACTIVE))
                         .values(state="failed", reason=reason, finished_at=utcnow())
                         .returning(ScenarioRun.id)).first()
    return done is not None


def _claim(db: Database, run_id: str) -> str | None:
    """``queued → running`` by this process; the spec, or None when the run is not queued."""
    with db.write() as s:
        return s.scalar(update(ScenarioRun).where(ScenarioRun.id == run_id, ScenarioRun.state == "queued")
                        .values(state="running", pid=os.getpid(), host=_host(), started_at=utcnow(),
                                heartbeat_at=utcnow(), progress={"step": "snapshot"})
                        .returning(ScenarioRun.spec))


def _update_running(db: Database, run_id: str, **values: Any) -> bool:
    with db.write() as s:
        done = s.execute(update(ScenarioRun).where(ScenarioRun.id == run_id, ScenarioRun.state == "running")
                         .values(heartbeat_at=utcnow(), **values).returning(ScenarioRun.id)).first()
    return done is not None


def result_document(result: Any) -> dict[str, Any]:
    """What the page needs from a :class:`~dispatch.studies.scenarios.ScenarioResult`, as JSON."""
    from dispatch.studies.kpis import HEADLINE

    return {
        "name": result.scenario.name,
        "date": result.scenario.date.isoformat(),
        "hub": result.scenario.hub,
        "keys": [key for _label, key in HEADLINE],
        "comparison": [list(row) for row in result.comparison()],
        "base": {"batches": result.base.batches, "seconds": result.base.seconds,
                 "plan": result.base.plan_geojson},
        "scenario": {"batches": result.changed.batches, "seconds": result.changed.seconds,
                     "plan": result.changed.plan_geojson},
    }


def execute_run(db_url: str, run_id: str) -> str:
    """Run one queued scenario to its end in this process; return its final state.

    Any error (a file that no longer parses, a hub deleted since, the solver raising) ends the run
    ``failed`` with the error's text; nothing is raised, so the caller sees a clean exit.
    """
    from dispatch.studies.scenario_spec import ScenarioError, parse
    from dispatch.studies.scenarios import run_scenario

    db = Database(db_url)
    stop = threading.Event()
    try:
        spec = _claim(db, run_id)
        if spec is None:
            return settle(db, run_id).state

        def beat() -> None:
            while not stop.wait(HEARTBEAT_S):
                _update_running(db, run_id)

        threading.Thread(target=beat, name="scenario-heartbeat", daemon=True).start()

        def progress(step: str, done: int = 0, total: int = 0) -> None:
            _update_running(db, run_id, progress={"step": step, "done": done, "total": total})

        try:
            result = run_scenario(db, parse(spec, "scenario"), progress=progress)
        except ScenarioError as error:
            fail_run(db, run_id, "; ".join(p.removeprefix("scenario: ") for p in error.problems))
            return "failed"
        except Exception as error:
            log.exception("scenario run %s failed", run_id)
            fail_run(db, run_id, f"{type(error).__name__}: {error}")
            return "failed"
        progress("saving")
        stop.set()
        with db.write() as s:
            done = s.execute(update(ScenarioRun).where(ScenarioRun.id == run_id,
                                                       ScenarioRun.state == "running")
                             .values(state="done", result=result_document(result), finished_at=utcnow(),
                                     heartbeat_at=utcnow(), progress={"step": "done"})
                             .returning(ScenarioRun.id)).first()
        return "done" if done else settle(db, run_id).state
    finally:
        stop.set()
        db.dispose()


def describe_exit(exitcode: int | None) -> str:
    """A reason for a worker process that ended without finishing its run."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the worker process was killed by {name} during the run"
    return f"the worker process exited with code {exitcode} during the run"


def _watch_parent(parent: int, interval_s: float = 0.5) -> None:
    """Exit when the web process that started this worker dies: no one enforces its timeout then,
    and the run is marked failed when next looked at (no heartbeat)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(db_url: str, run_id: str, parent: int) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s scenario[{os.getpid()}] %(message)s")
    _watch_parent(parent)
    execute_run(db_url, run_id)


class ScenarioRunPool:
    """At most ``workers`` scenario runs at a time, each in a fresh ``spawn``-ed process.

    One per web process (created on the first submission). A run still going after
    ``hard_timeout_s`` is killed and marked failed; a worker that dies is marked failed with its exit.
    """

    def __init__(self, db_url: str, *, workers: int = 1, hard_timeout_s: float = DEFAULT_HARD_TIMEOUT_S,
                 max_waiting: int = MAX_WAITING) -> None:
        self.db_url = db_url
        self.workers = workers
        self.hard_timeout_s = hard_timeout_s
        self.max_waiting = max_waiting
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scenario")
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._processes: dict[str, Any] = {}
        self._closing = False

    @property
    def queued_for_s(self) -> float:
        """How long a run may wait here before it counts as abandoned (every slot busy to the end)."""
        return queued_limit_s(self.workers, self.max_waiting, self.hard_timeout_s)

    def has_room(self) -> bool:
        with self._lock:
            return not self._closing and len(self._in_flight) < self.workers + self.max_waiting

    def submit(self, run_id: str) -> bool:
        """Queue the run here; False when the pool is full or closing (the caller says so)."""
        with self._lock:
            if self._closing or run_id in self._in_flight or \
                    len(self._in_flight) >= self.workers + self.max_waiting:
                return False
            self._in_flight.add(run_id)
        self._threads.submit(self._run, run_id)
        return True

    def in_flight(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._in_flight)

    def pid_of(self, run_id: str) -> int | None:
        with self._lock:
            process = self._processes.get(run_id)
        return None if process is None else process.pid

    def wait_idle(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.in_flight():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def shutdown(self) -> None:
        """Kill running workers (their runs are marked failed) and stop."""
        with self._lock:
            self._closing = True
            processes = list(self._processes.values())
        for process in processes:
            process.kill()
        self._threads.shutdown(wait=True, cancel_futures=True)

    def _run(self, run_id: str) -> None:
        try:
            self._run_in_process(run_id)
        except Exception:
            log.exception("scenario run %s: could not run the worker", run_id)
            db = Database(self.db_url)
            try:
                fail_run(db, run_id, "could not start a worker process")
            finally:
                db.dispose()
        finally:
            with self._lock:
                self._in_flight.discard(run_id)
                self._processes.pop(run_id, None)

    def _run_in_process(self, run_id: str) -> None:
        context = multiprocessing.get_context("spawn")
        process = context.Process(target=_worker_main, name=f"scenario-{run_id}", daemon=True,
                                  args=(self.db_url, run_id, os.getpid()))
        with self._lock:
            closing = self._closing
            if not closing:
                process.start()
                self._processes[run_id] = process
        if closing:
            reason = "the web process stopped before the run started"
        else:
            process.join(self.hard_timeout_s)
            if process.is_alive():
                process.kill()
                process.join()
                reason = f"timed out: still running after {self.hard_timeout_s:g} s, killed"
            elif process.exitcode == 0:
                process.close()
                return
            else:
                reason = describe_exit(process.exitcode)
            if self._closing:
                reason = "the web process stopped during the run"
            process.close()
        db = Database(self.db_url)
        try:
            if fail_run(db, run_id, reason):
                log.warning("scenario run %s failed: %s", run_id, reason)
        finally:
            db.dispose()
