"""Orders that need a trained courier (issue 15, item 4): only a courier with the skill carries
them, none is reported unserved with the reason, and the validator refuses a plan that breaks it."""

from __future__ import annotations

import dataclasses

from routing import problem_from_json, problem_to_json, solve, validate
from tests.routing.conftest import FAST
from tests.routing.tiny import tiny_problem


def _needing(problem, order_id: str, skill: str):  # type: ignore[no-untyped-def]
    orders = tuple(dataclasses.replace(o, needs=frozenset({skill})) if o.id == order_id else o
                   for o in problem.orders)
    return dataclasses.replace(problem, orders=orders)


def test_an_order_needing_medicine_training_goes_to_the_trained_courier() -> None:
    base = tiny_problem()
    car, bike = base.vehicles
    problem = _needing(dataclasses.replace(base, vehicles=(car, dataclasses.replace(
        bike, skills=frozenset({"medicine"})))), "r1", "medicine")
    solution = solve(problem, FAST)
    carrier = {st.order_id: r.vehicle_id for r in solution.routes for st in r.stops}
    assert carrier["r1"] == "bike1"
    assert validate(problem, solution).ok


def test_without_a_trained_courier_the_order_is_unserved_with_the_reason() -> None:
    problem = _needing(tiny_problem(), "r1", "welfare")
    solution = solve(problem, FAST)
    [unserved] = [u for u in solution.unserved if u.order_id == "r1"]
    assert unserved.reason == "no_eligible_vehicle" and "training" in unserved.detail
    assert "r1" not in solution.served


def test_the_validator_refuses_an_untrained_courier_and_the_json_keeps_skills() -> None:
    plain = tiny_problem()
    solution = solve(plain, FAST)
    carrier = next(r for r in solution.routes if r.stops)
    order_id = carrier.stops[0].order_id
    strict = _needing(plain, order_id, "medicine")
    report = validate(strict, solution)
    assert not report.ok and any("trained in medicine" in v for v in report.violations)
    again = problem_from_json(problem_to_json(strict))
    assert again.order(order_id).needs == frozenset({"medicine"})
