"""The task interface: solves, re-plans and scenario runs handed to whatever runs them.

Two engines stand behind one small interface, :class:`TaskQueue`, chosen by the setting
``HAKOBU_TASK_ENGINE`` (see ``docs/tasks.md`` for the measurement behind the choice):

* ``local`` (the default, and the only one on SQLite): the in-process executor
  (:class:`dispatch.tasks.local.LocalQueue`): solves in the scheduler's own worker processes,
  scenario runs in the web process's. No broker, nothing else to start: ``make demo`` and a
  single-box deployment.
* ``procrastinate``: tasks in PostgreSQL, the application database itself
  (:mod:`dispatch.tasks.engine`), run by any number of ``procrastinate … worker`` processes on any
  number of machines.

A re-plan is a solve: the batch goes back to ``closed`` with its reason and is queued like any other
(:func:`dispatch.services.solving.pending_batches`). A task may run twice (a retry after its worker
died, a second scheduler queueing the same batch): the batch claim
(:func:`dispatch.services.solving.claim_for_solving`) makes the second one a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import ConfigError

#: The engines ``HAKOBU_TASK_ENGINE`` may name.
ENGINES = ("local", "procrastinate")


class TaskQueue(Protocol):
    """Where the scheduler and the web pages hand their long jobs."""

    #: The engine's name, as ``HAKOBU_TASK_ENGINE`` says it.
    engine: str
    #: How long a scenario run may wait before it counts as abandoned (None: the default limit).
    queued_for_s: float | None

    def solve(self, batch_id: str) -> bool:
        """Queue the solve of a ``closed`` batch; False when it is already queued or refused."""

    def run_scenario(self, run_id: str) -> bool:
        """Queue a ``queued`` scenario run; False when refused (full, shutting down)."""

    def has_room(self) -> bool:
        """Whether a new scenario run would be accepted now."""

    def recover_interrupted(self) -> list[str]:
        """On becoming the scheduler's leader: deal with solves left half-done by a dead process;
        the ids of the batches put back in the queue (or failed)."""

    def shutdown(self) -> None: ...


def check_engine(db: Database, settings: Settings) -> str:
    """The engine ``settings`` ask for, refused when this database cannot carry it."""
    engine = settings.task_engine
    if engine not in ENGINES:
        raise ConfigError(f"setting 'task_engine': {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "procrastinate" and db.dialect != "postgresql":
        raise ConfigError("setting 'task_engine': procrastinate keeps its tasks in PostgreSQL; "
                          f"this database is {db.dialect} (use 'local')")
    return engine


def task_queue(db: Database, settings: Settings, *,
               local: Callable[[], TaskQueue]) -> TaskQueue:
    """The deployment's queue: ``local()`` for the in-process executor (its caller knows how many
    worker processes it may use), else the PostgreSQL task queue."""
    if check_engine(db, settings) == "local":
        return local()
    from dispatch.tasks.engine import ProcrastinateQueue

    return ProcrastinateQueue(db.url)
