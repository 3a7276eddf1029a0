"""``hakobu bench vrplib FILE...``: Hakobu's solver core on public VRPTW / CVRP instances and on
PyVRP's rich VRPLIB files (prize-collecting PCVRPTW, multi-trip MTVRPTWR with release times).

Prints, per instance, the cost under the instance's published convention (see
:mod:`routing.vrplib_io`), the best-known cost when a ``.sol`` lies beside the file, the gap, the
number of routes, the runtime and whether the solution passed an independent check.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from routing.core import ENGINES, CoreParams, solve_core
from routing.vrplib_io import BenchInstance, evaluate_result, read


@dataclass(frozen=True)
class BenchRow:
    """One instance's outcome; ``gap_pct`` is ``None`` without a best-known cost."""

    name: str
    cost: float
    best_known: float | None
    gap_pct: float | None
    vehicles: int
    runtime_s: float
    feasible: bool
    strategy: str


def gap_pct(cost: float, best_known: float | None) -> float | None:
    """Percentage above the best-known cost (negative when better)."""
    if not best_known:
        return None
    return 100.0 * (cost - best_known) / best_known


def solve_instance(bench: BenchInstance, params: CoreParams) -> BenchRow:
    """Solve one benchmark instance with the core and judge the result independently."""
    result = solve_core(bench.core, params)
    evaluation = evaluate_result(bench, result)
    return BenchRow(
        name=bench.name,
        cost=round(evaluation.cost, 1),
        best_known=bench.best_known,
        gap_pct=gap_pct(evaluation.cost, bench.best_known),
        vehicles=evaluation.vehicles,
        runtime_s=round(result.runtime_s, 2),
        feasible=evaluation.feasible,
        strategy=result.strategy,
    )


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@click.group()
def bench() -> None:
    """Routing benchmarks on public instances."""


@bench.command("vrplib")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--time-limit", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds per instance.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Parallel starts (processes) per instance.")
@click.option("--engine", default="auto", show_default=True, type=click.Choice(ENGINES),
              help="auto: the own search wherever it models the instance; ortools: OR-Tools alone.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of a table.")
def vrplib_command(
    files: tuple[Path, ...], time_limit: float, seed: int, workers: int, engine: str,
    as_json: bool,
) -> None:
    """Solve Solomon (.txt) and VRPLIB (.vrp: CVRP, PCVRPTW, MTVRPTWR) FILES and compare with
    best-known costs."""
    params = CoreParams(time_limit_s=time_limit, seed=seed, workers=workers, engine=engine)
    instances = []
    for path in files:
        try:
            instances.append(read(path))
        except Exception as error:  # any parser failure becomes a message naming the file
            raise click.ClickException(f"cannot read {path}: {error}") from error
    rows = []
    if not as_json:
        click.echo(f"{'instance':<14}{'cost':>10}{'best-known':>12}{'gap %':>8}"
                   f"{'vehicles':>10}{'runtime s':>11}  feasible")
    for instance in instances:
        row = solve_instance(instance, params)
        rows.append(row)
        if not as_json:
            click.echo(f"{row.name:<14}{row.cost:>10.1f}{_fmt(row.best_known, 1):>12}"
                       f"{_fmt(row.gap_pct, 2):>8}{row.vehicles:>10}{row.runtime_s:>11.1f}  "
                       f"{'yes' if row.feasible else 'NO'}")
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        gaps = [row.gap_pct for row in rows if row.gap_pct is not None]
        if len(gaps) > 1:
            click.echo(f"mean gap {sum(gaps) / len(gaps):.2f} % over {len(gaps)} instances")


commands = [bench]
