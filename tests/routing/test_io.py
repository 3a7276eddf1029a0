"""JSON form of problems and solutions: round trips, schema errors with their JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import shapely

from routing import (
    Order,
    Place,
    ProblemError,
    Zone,
    load_problem,
    problem_from_json,
    problem_to_json,
    solution_from_json,
    solution_to_json,
)
from routing.io import dump_json, schema
from tests.routing.tiny import HOUR, ll, tiny_drone, tiny_problem


def rich_problem():
    base = tiny_problem()
    post = Place("post", *ll(-1800, 10))
    extra = Order("p1", 1.5, ll(2500, 0), (HOUR, 2 * HOUR), "post", parcels=2, service_s=30,
                  priority=1, drop=ll(2500, 600), modes=frozenset({"car", "drone"}))
    circle = Zone("event", shapely.Point(ll(-500, 1500)), buffer_m=120.0)
    return tiny_problem(
        supply_points=(post,),
        drones=(tiny_drone(),),
        orders=(*base.orders, extra),
        zones=(*base.zones, circle),
    )


def test_problem_round_trips_through_json() -> None:
    p = rich_problem()
    data = json.loads(json.dumps(problem_to_json(p)))
    assert data["format"] == "hakobu.problem/1"
    assert data["t0"] == "2026-05-01T09:00:00+09:00"
    assert problem_from_json(data) == p


def test_problem_file_round_trip(tmp_path: Path) -> None:
    p = rich_problem()
    path = tmp_path / "problem.json"
    dump_json(problem_to_json(p), path)
    assert load_problem(path) == p


def test_defaults_apply_to_optional_fields() -> None:
    data = problem_to_json(tiny_problem())
    for o in data["orders"]:
        for key in ("parcels", "service_s", "priority", "drop", "modes"):
            o.pop(key)
    del data["weights"], data["supply_points"], data["pickup_service_s"]
    p = problem_from_json(data)
    assert p.orders[0].parcels == 1 and p.orders[0].priority == 2
    assert p.orders[0].modes == frozenset({"walk", "bicycle", "car", "drone"})


def test_schema_errors_name_the_json_path() -> None:
    data = problem_to_json(tiny_problem())
    data["orders"][3]["weight_kg"] = -1
    data["vehicles"][0]["mode"] = "tractor"
    del data["hub"]["lat"]
    with pytest.raises(ProblemError) as exc:
        problem_from_json(data)
    problems = exc.value.problems
    assert "$.orders[3].weight_kg: -1 is less than the minimum of 0" in problems
    assert any(p.startswith("$.vehicles[0].mode: 'tractor' is not one of") for p in problems)
    assert "$.hub: 'lat' is a required property" in problems


def test_semantic_errors_name_the_object_after_the_schema_passes() -> None:
    data = problem_to_json(tiny_problem())
    data["orders"][0]["origin"] = "nowhere"
    with pytest.raises(ProblemError, match="order 'r1': origin place 'nowhere' does not exist"):
        problem_from_json(data)
    data = problem_to_json(tiny_problem())
    data["t0"] = "2026-13-01T09:00:00+09:00"
    with pytest.raises(ProblemError, match=r"\$.t0: '2026-13-01T09:00:00\+09:00' is not an ISO 8601"):
        problem_from_json(data)


def test_invalid_json_file_names_the_file_and_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "hakobu.problem/1",\n  "crs": }')
    with pytest.raises(ProblemError, match=r"broken.json:2:10: invalid JSON"):
        load_problem(path)
    with pytest.raises(ProblemError, match="cannot read"):
        load_problem(tmp_path / "missing.json")


def test_solution_round_trips_through_json(tiny_solution) -> None:
    problem, solution = tiny_solution
    data = json.loads(json.dumps(solution_to_json(solution, problem)))
    assert data["routes"][0]["start_iso"].endswith("+09:00")
    assert solution_from_json(data) == solution
    # Without the problem, ISO strings are left out and the rest is the same.
    assert solution_from_json(solution_to_json(solution)) == solution


def test_solution_schema_errors_name_the_path(tiny_solution) -> None:
    problem, solution = tiny_solution
    data = copy.deepcopy(solution_to_json(solution, problem))
    data["routes"][0]["stops"][0]["kind"] = "teleport"
    data["unserved"].append({"order_id": "r9", "reason": "bad luck"})
    with pytest.raises(ProblemError) as exc:
        solution_from_json(data)
    assert any(p.startswith("$.routes[0].stops[0].kind: 'teleport'") for p in exc.value.problems)
    assert any(p.startswith("$.unserved[0].reason: 'bad luck'") for p in exc.value.problems)


def test_schemas_are_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    for name in ("problem", "solution"):
        Draft202012Validator.check_schema(schema(name))


def test_the_documented_example_loads_and_solves() -> None:
    from routing import SolveParams, solve, validate

    doc = (Path(__file__).resolve().parents[2] / "docs" / "problem-format.md").read_text()
    example = doc.split("### Example\n\n```json\n", 1)[1].split("```", 1)[0]
    problem = problem_from_json(json.loads(example))
    assert [o.id for o in problem.orders] == ["r2", "r7"]
    solution = solve(problem, SolveParams(time_limit_s=1))
    assert validate(problem, solution).ok
    assert solution.served == {"r2", "r7"}
