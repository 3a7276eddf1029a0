"""The in-process executor: the embedded default, with no broker and nothing else to start.

Solves run in the scheduler's own bounded pool of worker processes
(:class:`dispatch.services.solving.SolvePool`), scenario runs in the web process's
(:class:`dispatch.studies.runs.ScenarioRunPool`); a process that queues nothing of a kind has no
pool for it. Whoever holds the scheduler's leader lock runs every solve, so on taking the lead a
batch still ``solving`` has no live solve behind it and is queued again.
"""

from __future__ import annotations

from dispatch.db import Database
from dispatch.services.solving import SolvePool, requeue_interrupted
from dispatch.studies.runs import ScenarioRunPool


class LocalQueue:
    """:class:`dispatch.tasks.TaskQueue` over this process's worker pools."""

    engine = "local"

    def __init__(self, db: Database, *, solves: SolvePool | None = None,
                 runs: ScenarioRunPool | None = None) -> None:
        self._db = db
        self.solves = solves
        self.runs = runs

    @property
    def queued_for_s(self) -> float | None:
        return None if self.runs is None else self.runs.queued_for_s

    def solve(self, batch_id: str) -> bool:
        if self.solves is None:
            raise RuntimeError("this process has no solve pool (solves are queued by the scheduler)")
        return self.solves.submit(batch_id)

    def run_scenario(self, run_id: str) -> bool:
        if self.runs is None:
            raise RuntimeError("this process has no scenario pool")
        return self.runs.submit(run_id)

    def has_room(self) -> bool:
        return self.runs is not None and self.runs.has_room()

    def recover_interrupted(self) -> list[str]:
        return requeue_interrupted(self._db)

    def shutdown(self) -> None:
        for pool in (self.solves, self.runs):
            if pool is not None:
                pool.shutdown()
