"""Fixtures of the routing tests: solved tiny problems, shared per module (solving takes ~1 s)."""

from __future__ import annotations

import dataclasses

import pytest

from routing import Problem, Solution, SolveParams, solve
from tests.routing.tiny import tiny_drone, tiny_problem

FAST = SolveParams(time_limit_s=1.0, seed=0)


@pytest.fixture(scope="session")
def tiny_solution() -> tuple[Problem, Solution]:
    """The tiny problem with a drone allowed for every order, solved."""
    base = tiny_problem()
    orders = tuple(
        dataclasses.replace(o, modes=o.modes | {"drone"}) for o in base.orders
    )
    problem = tiny_problem(drones=(tiny_drone(),), orders=orders)
    return problem, solve(problem, FAST)
