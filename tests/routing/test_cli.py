"""The ``solve`` and ``validate`` commands (invoked directly, as the hakobu group will)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from routing import Problem, Solution, problem_to_json, solution_to_json
from routing.cli import commands, solve, validate
from routing.io import dump_json
from tests.routing.tiny import tiny_problem


def test_commands_are_exported() -> None:
    assert [c.name for c in commands] == ["solve", "validate"]


def test_solve_writes_solution_and_geojson(tmp_path: Path) -> None:
    problem_path = tmp_path / "problem.json"
    dump_json(problem_to_json(tiny_problem()), problem_path)
    out, geo = tmp_path / "solution.json", tmp_path / "plan.geojson"
    result = CliRunner().invoke(solve, [str(problem_path), "--time-limit", "1", "--seed", "3",
                                        "--out", str(out), "--geojson", str(geo)])
    assert result.exit_code == 0, result.output
    assert "tiny: 5 of 5 orders served" in result.output
    assert "plan is valid" in result.output
    assert json.loads(out.read_text())["format"] == "hakobu.solution/1"
    assert json.loads(geo.read_text())["type"] == "FeatureCollection"
    again = CliRunner().invoke(validate, [str(problem_path), str(out)])
    assert again.exit_code == 0 and again.output.startswith("plan is valid: 5 orders served")


def test_solve_without_out_prints_json(tmp_path: Path) -> None:
    problem_path = tmp_path / "problem.json"
    dump_json(problem_to_json(tiny_problem()), problem_path)
    result = CliRunner().invoke(solve, [str(problem_path), "--time-limit", "1"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["routes"]


def test_validate_lists_violations_and_exits_1(
    tmp_path: Path, tiny_solution: tuple[Problem, Solution]
) -> None:
    problem, solution = tiny_solution
    data = solution_to_json(solution, problem)
    data["unserved"].append({"order_id": "r1", "reason": "capacity", "detail": ""})
    dump_json(problem_to_json(problem), tmp_path / "p.json")
    dump_json(data, tmp_path / "s.json")
    result = CliRunner().invoke(validate, [str(tmp_path / "p.json"), str(tmp_path / "s.json")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "1 violations:", "- order 'r1' is both delivered and reported unserved"
    ]


def test_bad_input_is_a_clear_error_with_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(solve, [str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    assert "Traceback" not in missing.output

    bad = tmp_path / "bad.json"
    data = problem_to_json(tiny_problem())
    data["orders"][0]["window"] = [100]
    bad.write_text(json.dumps(data))
    result = runner.invoke(solve, [str(bad)])
    assert result.exit_code == 2
    assert "$.orders[0].window: [100] is too short" in result.output

    impossible = tmp_path / "impossible.json"
    data = problem_to_json(tiny_problem())
    data["orders"][1]["weight_kg"] = 99
    impossible.write_text(json.dumps(data))
    result = runner.invoke(solve, [str(impossible)])
    assert result.exit_code == 2
    assert "order 'r2': weight 99 kg is heavier than every vehicle" in result.output

    result = runner.invoke(solve, [str(impossible), "--time-limit", "-1"])
    assert result.exit_code == 2 and "time_limit_s must be > 0" in result.output

    result = runner.invoke(validate, [str(impossible), str(bad)])
    assert result.exit_code == 2 and "impossible.json" in result.output
