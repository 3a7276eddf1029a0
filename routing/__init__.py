"""Hakobu routing: plan couriers and drones for one hub batch (a pure library).

Build a :class:`Problem` (or load one with :func:`problem_from_json`), call
``solve(problem, SolveParams(...))`` for a :class:`Solution`, check it with :func:`validate` and
export it with :func:`plan_geojson`. :mod:`routing.repair` changes a solved plan a little without
solving again (time a route, remove orders, cheapest feasible insertion). Only ``routing.core``
imports OR-Tools; nothing here imports ``dispatch``.
"""

from routing import repair
from routing.geojson import plan_geojson
from routing.io import (
    load_problem,
    load_solution,
    problem_from_json,
    problem_to_json,
    solution_from_json,
    solution_to_json,
)
from routing.params import ParamsError, SolveParams
from routing.permits import CATEGORIES, Permit
from routing.problem import (
    ALL_MODES,
    DRONE,
    GROUND_MODES,
    Drone,
    Order,
    Place,
    Problem,
    ProblemError,
    Road,
    Vehicle,
    Weights,
    Zone,
    carries,
)
from routing.solution import REASONS, Cost, Result, Route, Solution, Stop, Unserved
from routing.solve import solve
from routing.validate import ValidationReport, sortie_permits, validate

__all__ = [
    "ALL_MODES",
    "CATEGORIES",
    "DRONE",
    "GROUND_MODES",
    "REASONS",
    "Cost",
    "Drone",
    "Order",
    "ParamsError",
    "Permit",
    "Place",
    "Problem",
    "ProblemError",
    "Result",
    "Road",
    "Route",
    "Solution",
    "SolveParams",
    "Stop",
    "Unserved",
    "ValidationReport",
    "Vehicle",
    "Weights",
    "Zone",
    "carries",
    "load_problem",
    "load_solution",
    "plan_geojson",
    "problem_from_json",
    "problem_to_json",
    "repair",
    "solution_from_json",
    "solution_to_json",
    "solve",
    "sortie_permits",
    "validate",
]
