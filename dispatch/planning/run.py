"""``plan_batch``: read the batch, solve outside any transaction, store the result as a new version.

The solve runs between two short transactions (a read, then a write) so a long search never holds
SQLite's write lock. An order cancelled while the solver ran stays in the stored plan but keeps its
state; :func:`dispatch.services.plans.confirm_plan` refuses a plan with such an order.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

import routing
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import PlanState
from dispatch.models import Batch, Plan
from dispatch.planning.build import Built, build_problem, named_orders, without_orders
from dispatch.planning.bus import save_bus_legs, take_bus_legs
from dispatch.planning.store import plan_summary, save_version

log = logging.getLogger(__name__)


def solve_built(built: Built, params: routing.SolveParams) -> tuple[Built, routing.Solution]:
    """Solve ``built.problem``; orders the solver rejects by name (e.g. a home too far from every
    road) are excluded with the solver's message and the rest is solved again."""
    for _ in range(len(built.problem.orders) + 1):
        try:
            return built, routing.solve(built.problem, params)
        except routing.ProblemError as error:
            bad = named_orders(error.problems)
            if not bad:
                raise
            built = without_orders(built, bad)
    raise AssertionError("unreachable: every round removes an order")


def plan_batch(db: Database, batch_id: str, *, time_limit_s: float,
               solution_limit: int | None = None, user_id: str | None = None) -> str:
    """Plan batch ``batch_id`` and store the result as a new proposed version; return the plan id.

    ``time_limit_s`` is the deployment's ``Settings.solve_time_limit_s`` (the entry point reads
    it); tests pass a small one (and a ``solution_limit`` for determinism). Raises
    :class:`DomainError` when the batch already has a confirmed plan (re-planning a dispatched
    batch is a disruption, not a re-plan).
    """
    params = routing.SolveParams(time_limit_s=time_limit_s, seed=0, solution_limit=solution_limit)
    with db.read() as session:
        batch = _batch(session, batch_id)
        built, bus_legs = take_bus_legs(session, batch, build_problem(session, batch), params)
    built, solution = solve_built(built, params)
    with db.write() as session:
        batch = _batch(session, batch_id)
        # A re-plan requested by a person or a disruption says why (Batch.replan_reason).
        note = batch.replan_reason if batch.replan_reason is not None else "solver"
        plan = save_version(session, batch, built.problem, solution, built.excluded,
                            note=note, user_id=user_id, flight_notes=built.notes,
                            weather=built.weather)
        if bus_legs:
            save_bus_legs(session, plan, built.problem.t0, bus_legs)
        log.info("batch %s planned: %s", batch_id, plan_summary(plan))
        return plan.id


def _batch(session: Session, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"batch {batch_id!r} does not exist")
    confirmed = session.scalars(
        select(Plan.version).where(Plan.batch_id == batch_id, Plan.state == PlanState.CONFIRMED)).first()
    if confirmed is not None:
        raise DomainError("batch %(batch_id)s already has a confirmed plan (version %(confirmed)s)",
                          batch_id=batch_id, confirmed=confirmed)
    return batch
