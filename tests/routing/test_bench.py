"""Reading public benchmark files and the ``hakobu bench vrplib`` command.

The instances live outside the repository, in ``../shared/benchmarks/`` (public data, not part of
the project); these tests are skipped with the reason when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vrplib
from click.testing import CliRunner

from routing.bench import bench
from routing.vrplib_io import evaluate, read

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
needs_shared = pytest.mark.skipif(
    not (SHARED / "solomon" / "C101.txt").exists(),
    reason=f"public benchmark instances not found at {SHARED}",
)


@needs_shared
@pytest.mark.parametrize("name", ["C101", "R101", "RC208"])
def test_solomon_best_known_routes_cost_exactly_their_published_value(name: str) -> None:
    # DIMACS convention: distances truncated to one decimal, so the .sol routes re-cost exactly.
    instance = read(SHARED / "solomon" / f"{name}.txt")
    solution = vrplib.read_solution(str(SHARED / "solomon" / f"{name}.sol"))
    evaluation = evaluate(instance, solution["routes"])
    assert evaluation.feasible, evaluation.violations
    assert evaluation.cost == pytest.approx(solution["cost"], abs=1e-9)
    assert instance.best_known == solution["cost"]


@needs_shared
def test_x_instance_uses_rounded_distances_and_a_fleet_larger_than_k() -> None:
    instance = read(SHARED / "x" / "X-n101-k25.vrp")
    solution = vrplib.read_solution(str(SHARED / "x" / "X-n101-k25.sol"))
    evaluation = evaluate(instance, solution["routes"])
    assert evaluation.feasible and evaluation.cost == 27591
    assert evaluation.vehicles == 26  # more routes than the k=25 of the name
    assert len(instance.core.vehicles) >= 26


@needs_shared
def test_evaluate_reports_a_late_arrival() -> None:
    instance = read(SHARED / "solomon" / "C101.txt")
    solution = vrplib.read_solution(str(SHARED / "solomon" / "C101.sol"))
    routes = [list(reversed(solution["routes"][0])), *solution["routes"][1:]]
    evaluation = evaluate(instance, routes)
    assert not evaluation.feasible
    assert "after its window closes" in evaluation.violations[0]


@needs_shared
def test_bench_vrplib_prints_cost_best_known_and_gap() -> None:
    runner = CliRunner()
    result = runner.invoke(
        bench, ["vrplib", str(SHARED / "solomon" / "C101.txt"), "--time-limit", "3"]
    )
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()[:2]
    assert header.split()[:4] == ["instance", "cost", "best-known", "gap"]
    name, cost, best_known, gap, vehicles, runtime, feasible = row.split()
    assert name == "C101" and best_known == "827.3" and feasible == "yes"
    assert float(cost) >= 827.3 and float(gap) >= 0
    assert int(vehicles) >= 10 and float(runtime) > 0


@needs_shared
def test_bench_vrplib_json_lists_every_instance() -> None:
    files = [str(SHARED / "solomon" / "C101.txt"), str(SHARED / "x" / "X-n101-k25.vrp")]
    result = CliRunner().invoke(bench, ["vrplib", *files, "--time-limit", "2", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["name"] for r in rows] == ["C101", "X-n101-k25"]
    assert all(r["feasible"] and r["gap_pct"] is not None for r in rows)
    assert rows[1]["best_known"] == 27591


@needs_shared
@pytest.mark.parametrize("name", ["mtvrptwr/R201R0.5", "mtvrptwr/C2_2_01R0.5", "pcvrptw/C1_10_1"])
def test_rich_best_known_routes_cost_exactly_their_published_value(name: str) -> None:
    """Reloads (a 0 inside a route), release times and prizes not collected, DIMACS convention;
    these .sol files hold the x10 integer cost."""
    instance = read(SHARED / f"{name}.vrp")
    solution = vrplib.read_solution(str(SHARED / f"{name}.sol"))
    evaluation = evaluate(instance, solution["routes"])
    assert evaluation.feasible, evaluation.violations
    assert evaluation.cost == pytest.approx(solution["cost"] / 10, abs=1e-9)
    assert instance.best_known == pytest.approx(solution["cost"] / 10)


@needs_shared
def test_a_trip_leaving_before_a_release_or_a_forgotten_reload_is_caught() -> None:
    instance = read(SHARED / "mtvrptwr" / "R201R0.5.vrp")
    assert instance.release is not None
    routes = vrplib.read_solution(str(SHARED / "mtvrptwr" / "R201R0.5.sol"))["routes"]
    late = int(max(range(1, instance.clients + 1), key=lambda c: instance.release[c]))
    first = next(r for r in routes if late not in r)
    early = [[late, 0, *first], *(r for r in routes if r is not first)]
    early = [[c for c in r if c != late or r is early[0]] for r in early]
    broken = evaluate(instance, early)
    assert not broken.feasible  # the first trip leaves at the depot's opening, before the release
    no_reload = [[c for c in r if c != 0] for r in routes]
    assert any("load" in v for v in evaluate(instance, no_reload).violations)


@needs_shared
def test_bench_vrplib_plans_prize_collecting_and_multi_trip_files() -> None:
    """Every client optional in PCVRPTW (the own search); MTVRPTWR: clients as pickups at the
    depot paired with their deliveries, each reported trip re-checked by the evaluator."""
    files = [str(SHARED / "pcvrptw" / "C1_10_1.vrp"), str(SHARED / "mtvrptwr" / "C201R0.5.vrp")]
    result = CliRunner().invoke(bench, ["vrplib", *files, "--time-limit", "3", "--json"])
    assert result.exit_code == 0, result.output
    prizes, trips = json.loads(result.output)
    assert prizes["name"] == "C1_10_1" and prizes["strategy"] == "SISR" and prizes["feasible"]
    assert prizes["gap_pct"] >= 0 and prizes["vehicles"] <= 100
    assert trips["name"] == "C201R0.5" and trips["best_known"] == pytest.approx(1500.6)
    # One trip per vehicle cannot carry the day: the own search plans reloads at the depot.
    assert trips["strategy"] == "SISR" and trips["feasible"]
    assert trips["gap_pct"] >= 0 and trips["vehicles"] <= 8


def test_bench_vrplib_names_an_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "nonsense.txt"
    bad.write_text("not an instance\n")
    result = CliRunner().invoke(bench, ["vrplib", str(bad)])
    assert result.exit_code != 0
    assert f"cannot read {bad}" in result.output
    assert "Traceback" not in result.output
