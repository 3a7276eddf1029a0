"""Reading a stored plan version back fast (issue 16, item 8): a road network shared by equal road
sets, and the schema check skipped for JSON that routing wrote itself."""

from __future__ import annotations

import pytest

from routing import ProblemError, problem_from_json, problem_to_json, solution_from_json, solve
from routing.travel import shared_network
from tests.routing.tiny import tiny_problem


def test_equal_road_sets_share_one_network_and_other_ones_do_not() -> None:
    problem = tiny_problem()
    again = problem_from_json(problem_to_json(problem))  # a new Road tuple with the same content
    assert again.roads is not problem.roads
    network = shared_network(problem.roads, problem.crs)
    assert shared_network(again.roads, again.crs) is network
    assert shared_network(problem.roads, problem.crs, snap_max_m=50) is not network
    assert shared_network(problem.roads[:-1], problem.crs) is not network


def test_a_stored_problem_reads_back_the_same_without_the_schema_check() -> None:
    problem = tiny_problem()
    stored = problem_to_json(problem)
    assert problem_from_json(stored, check_schema=False) == problem_from_json(stored)
    broken = {**stored, "vehicles": "not a list"}
    with pytest.raises(ProblemError):
        problem_from_json(broken)  # outside JSON is still checked by default


def test_a_stored_solution_reads_back_the_same_without_the_schema_check() -> None:
    from routing import solution_to_json

    problem = tiny_problem()
    stored = solution_to_json(solve(problem), problem)
    assert solution_from_json(stored, check_schema=False) == solution_from_json(stored)
