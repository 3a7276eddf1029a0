"""From batch to plan: build a ``routing.Problem`` from the database, solve, validate, store.

:func:`plan_batch` is what the solve worker runs (``dispatch.services.solving.PlanBatch``). It
may run more than once for the same batch (a retry, a re-plan): each run stores a new plan version
and supersedes the proposed ones before it. Edits and confirmation are in
:mod:`dispatch.services.plans`. See ``docs/planning.md``.
"""

from __future__ import annotations

from dispatch.planning.build import Built, batch_orders, build_problem, horizon_of
from dispatch.planning.run import plan_batch, solve_built

__all__ = ["Built", "batch_orders", "build_problem", "horizon_of", "plan_batch", "solve_built"]
