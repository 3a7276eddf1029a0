"""Permits in the routing library: a zone needing authorisation is crossed only under a valid
permit covering it, the drone and its category; the validator checks that from the permits."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from routing import Permit, SolveParams, solve, validate
from routing.problem import Order, Problem, ProblemError, Zone
from tests.routing.tiny import HOUR, ll, square, tiny_drone, tiny_problem

#: The tiny region's zone Z as a densely inhabited district: crossable under a permit.
DID = Zone("Z", square(1250, 310, 100), buffer_m=50.0, category="did")
#: Straight flight hub (0, 0) -> r2's drop point (2500, 600): right through Z.
STRAIGHT_M = math.hypot(2500, 600)


def permit(**overrides: object) -> Permit:
    fields: dict[str, object] = dict(
        id="P-1",
        zones=frozenset({"Z"}),
        drones=frozenset({"d1"}),
        categories=frozenset({"did", "bvlos"}),
        valid_from=-HOUR,
        valid_until=24 * HOUR,
    )
    fields.update(overrides)
    return Permit(**fields)  # type: ignore[arg-type]


def drone_problem(*permits: Permit) -> Problem:
    """r2 by drone only (its drop point lies beyond Z), nobody else to deliver."""
    r2 = Order("r2", 2.0, ll(2500, 0), (0, 4 * HOUR), "hub", drop=ll(2500, 600), modes=frozenset({"drone"}))
    return tiny_problem(
        vehicles=(), roads=(), drones=(tiny_drone(),), orders=(r2,), zones=(DID,), permits=permits
    )


def out_leg_m(problem: Problem) -> int:
    solution = solve(problem, SolveParams(time_limit_s=1, seed=0, solution_limit=50))
    assert not solution.unserved
    (sortie,) = solution.routes
    report = validate(problem, solution)
    assert report.ok, str(report)
    return next(st.distance_m for st in sortie.stops if st.kind == "delivery")


def test_without_a_permit_the_drone_flies_around_the_zone() -> None:
    assert out_leg_m(drone_problem()) > STRAIGHT_M + 10


def test_a_valid_covering_permit_lets_the_drone_fly_straight_through() -> None:
    assert out_leg_m(drone_problem(permit())) == pytest.approx(STRAIGHT_M, abs=2)


@pytest.mark.parametrize(
    "why",
    [
        {"valid_until": HOUR},  # expires during the batch
        {"drones": frozenset({"d9"})},  # another aircraft
        {"categories": frozenset({"bvlos"})},  # not over a DID
        {"zones": frozenset({"elsewhere"})},  # another area
    ],
)
def test_a_permit_not_covering_the_whole_flight_keeps_the_zone_an_obstacle(why: dict[str, object]) -> None:
    assert out_leg_m(drone_problem(permit(**why))) > STRAIGHT_M + 10


def test_the_validator_checks_the_permits_itself() -> None:
    covered = drone_problem(permit())
    solution = solve(covered, SolveParams(time_limit_s=1, seed=0, solution_limit=50))
    assert validate(covered, solution).ok
    expired = replace(covered, permits=(permit(valid_until=0),))
    report = validate(expired, solution)
    assert not report.ok
    assert any("zone 'Z' (did) with no valid permit covering this drone" in v for v in report.violations)
    prohibited = replace(covered, zones=(replace(DID, category=None),))
    assert any("flies through no-fly zone 'Z'" in v for v in validate(prohibited, solution).violations)


def test_a_malformed_permit_is_named() -> None:
    with pytest.raises(ProblemError, match="permit 'P-1': valid_until is before valid_from"):
        drone_problem(permit(valid_from=10, valid_until=5))
    with pytest.raises(ProblemError, match=r"permit 'P-1': unknown categories \['sky'\]"):
        drone_problem(permit(categories=frozenset({"sky"})))


def test_permits_and_zone_categories_survive_the_json_form() -> None:
    from routing import problem_from_json, problem_to_json

    problem = drone_problem(permit())
    again = problem_from_json(problem_to_json(problem))
    assert again.permits == problem.permits
    assert again.zones[0].category == "did"
