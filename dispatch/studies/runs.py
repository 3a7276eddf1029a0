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
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.models import ScenarioRun, utcnow
from dispatch.workers import ProcessPool, watch_parent

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


def submit_run(db: Database, spec: str, name: str = "", user_id: str | None = None, *,
               local: bool = True) -> str:
    """Record a ``queued`` run of the scenario file ``spec`` (already checked) and return its id.

    ``local``: this process's own pool will run it, so the run dies with this process (a task
    engine's queue outlives it: no pid is recorded then)."""
    with db.write() as s:
        run = ScenarioRun(name=name[:200], spec=spec, state="queued", progress={}, reason="",
                          pid=os.getpid() if local else None, host=_host() if local else "",
                          created_by=user_id)
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


def requeue_run(db: Database, run_id: str) -> bool:
    """Put a run whose worker died back to ``queued`` (a task engine retrying its job); False when
    it is not ``running`` (never started, or already over)."""
    with db.write() as s:
        done = s.execute(update(ScenarioRun).where(ScenarioRun.id == run_id, ScenarioRun.state == "running")
                         .values(state="queued", progress={}).returning(ScenarioRun.id)).first()
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


def _worker_main(db_url: str, run_id: str, parent: int) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s scenario[{os.getpid()}] %(message)s")
    watch_parent(parent)
    execute_run(db_url, run_id)


class ScenarioRunPool(ProcessPool):
    """At most ``workers`` scenario runs at a time, each in its own worker process
    (:class:`dispatch.workers.ProcessPool`); one pool per web process (created on the first
    submission). A run that times out, whose worker dies, or that the web process's shutdown stops
    is marked failed with the reason."""

    job = "run"

    def __init__(self, db_url: str, *, workers: int = 1, hard_timeout_s: float = DEFAULT_HARD_TIMEOUT_S,
                 max_waiting: int = MAX_WAITING) -> None:
        super().__init__(workers=workers, hard_timeout_s=hard_timeout_s, max_waiting=max_waiting)
        self.db_url = db_url

    @property
    def queued_for_s(self) -> float:
        """How long a run may wait here before it counts as abandoned (every slot busy to the end)."""
        return queued_limit_s(self.workers, self.max_waiting or 0, self.hard_timeout_s)

    def target(self, key: str) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return _worker_main, (self.db_url, key)

    def ended(self, key: str, failure: str | None, *, stopped: bool) -> None:
        if failure is None:
            return
        reason = f"the web process {failure}" if stopped else failure
        db = Database(self.db_url)
        try:
            if fail_run(db, key, reason):
                log.warning("scenario run %s failed: %s", key, reason)
        finally:
            db.dispose()

