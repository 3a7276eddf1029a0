"""Click commands ``solve`` and ``validate`` (the ``hakobu`` group in ``web/cli.py`` adds them).

Exit status: 0 success; 1 ``validate`` found violations (or ``solve`` produced a plan the
validator rejects); 2 bad input (unreadable or malformed JSON, impossible problem, bad option),
always with a one-line-per-problem message and no traceback.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import NoReturn

import click

from routing.io import dump_json, load_problem, load_solution, solution_to_json
from routing.params import ParamsError, SolveParams
from routing.problem import Problem, ProblemError
from routing.solution import Solution

SNAP_OPTION = click.option(
    "--snap-max-m", "snap_max_m", type=float, default=500.0, show_default=True,
    help="Homes and places farther than this from every road are an error (metres).",
)


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _summary(problem: Problem, solution: Solution) -> str:
    couriers = sum(1 for r in solution.routes if r.mode != "drone")
    sorties = Counter(r.kind for r in solution.routes if r.mode == "drone")
    lines = [
        f"{problem.name or 'problem'}: {len(solution.served)} of {len(problem.orders)} orders "
        f"served, {couriers} couriers, {sorties['direct']} direct and {sorties['shuttle']} "
        f"shuttle drone sorties",
        f"cost {solution.cost.total} (time {solution.cost.time}, distance "
        f"{solution.cost.distance}, volunteers {solution.cost.fixed}, unserved "
        f"{solution.cost.unserved}); km "
        + (", ".join(f"{m} {km:.1f}" for m, km in sorted(solution.km_by_mode.items())) or "0"),
        f"runtime {solution.runtime_s:.1f} s",
    ]
    for u in solution.unserved:
        lines.append(f"unserved {u.order_id}: {u.reason} ({u.detail})")
    return "\n".join(lines)


@click.command("solve")
@click.argument("problem_path", metavar="PROBLEM.json", type=click.Path(dir_okay=False))
@click.option("--time-limit", "time_limit", type=float, default=10.0, show_default=True,
              help="Search budget in seconds (travel matrices come on top).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the solution JSON here (default: standard output).")
@click.option("--geojson", "geojson_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the plan as GeoJSON (WGS84) here.")
@click.option("--batch-id", default=None, help="batch_id in the GeoJSON (default: problem name).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Parallel search starts (processes).")
@SNAP_OPTION
def solve(
    problem_path: str,
    time_limit: float,
    seed: int,
    out_path: str | None,
    geojson_path: str | None,
    batch_id: str | None,
    workers: int,
    snap_max_m: float,
) -> None:
    """Plan PROBLEM.json (see docs/problem-format.md) and validate the plan."""
    from routing.geojson import plan_geojson
    from routing.solve import solve as run_solve
    from routing.validate import validate

    try:
        params = SolveParams(time_limit_s=time_limit, seed=seed, workers=workers,
                             snap_max_m=snap_max_m)
        problem = load_problem(problem_path)
        solution = run_solve(problem, params)
    except (ProblemError, ParamsError) as exc:
        _fail(str(exc))
    report = validate(problem, solution, snap_max_m=snap_max_m)
    data = solution_to_json(solution, problem)
    try:
        if out_path:
            dump_json(data, out_path)
        else:
            click.echo(json.dumps(data, indent=1, ensure_ascii=False))
        if geojson_path:
            batch = batch_id or problem.name or "batch"
            dump_json(plan_geojson(problem, solution, batch, snap_max_m=snap_max_m), geojson_path)
    except OSError as exc:
        _fail(f"cannot write output: {exc.strerror} ({exc.filename})")
    click.echo(_summary(problem, solution), err=not out_path)
    if not report.ok:
        click.echo(f"the plan fails validation:\n{report}", err=True)
        sys.exit(1)
    click.echo("plan is valid", err=not out_path)


@click.command("validate")
@click.argument("problem_path", metavar="PROBLEM.json", type=click.Path(dir_okay=False))
@click.argument("solution_path", metavar="SOLUTION.json", type=click.Path(dir_okay=False))
@SNAP_OPTION
def validate(problem_path: str, solution_path: str, snap_max_m: float) -> None:
    """Check SOLUTION.json against every constraint of PROBLEM.json (exit 1 on violations)."""
    from routing.validate import validate as run_validate

    try:
        problem = load_problem(problem_path)
    except ProblemError as exc:
        _fail(f"{Path(problem_path).name}: {exc}")
    try:
        solution = load_solution(solution_path)
    except ProblemError as exc:
        _fail(f"{Path(solution_path).name}: {exc}")
    report = run_validate(problem, solution, snap_max_m=snap_max_m)
    if report.ok:
        click.echo(f"plan is valid: {len(solution.served)} orders served, "
                   f"{len(solution.unserved)} unserved")
        return
    click.echo(f"{len(report.violations)} violations:")
    click.echo(str(report))
    sys.exit(1)


commands = [solve, validate]
