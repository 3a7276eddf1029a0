"""Gap to best-known of Hakobu's solver core, PyVRP and VROOM on the public VRPTW / CVRP instances.

Every solver gets the same instance (same integer matrices), the same wall-clock budget and one
thread; up to ``--jobs`` runs go at once (default 2, one per core of the reference machine). Each
solution is re-costed and re-checked independently (:func:`routing.vrplib_io.evaluate`).

Best-known costs: the ``.sol`` beside each file (Solomon and X: distance-only, published
conventions; MTVRPTWR and PCVRPTW: distance, plus the prizes not collected, DIMACS); for the
Gehring-Homberger files without a ``.sol``, the SINTEF routes re-costed under
the DIMACS convention listed in ``bks.csv`` (an upper bound: a negative gap is possible).

Results are merged into ``benchmarks/results/vrplib_gaps_<budget>s.json`` (one row per instance
and solver, replaced when re-run) and the table ``vrplib_gaps_<budget>s.md`` is rewritten from it,
so sets can be run at different times::

    python benchmarks/vrplib_gaps.py --set solomon --budget 10
    python benchmarks/vrplib_gaps.py --set gh --set x --budget 30 --limit 4
    python benchmarks/vrplib_gaps.py --set mtvrptwr --set pcvrptw --budget 10 \
        --solvers hakobu,pyvrp,ortools
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from reference import EXTRA_SOLVERS, SOLVERS  # noqa: E402

from routing.vrplib_io import evaluate, read  # noqa: E402

SHARED = REPO.parent / "shared" / "benchmarks"
RESULTS = REPO / "benchmarks" / "results"
ALL_SOLVERS = {**SOLVERS, **EXTRA_SOLVERS}
SETS = {
    "solomon": ("solomon", "*.txt"),
    "gh": ("gehring_homberger", "*.txt"),
    "x": ("x", "*.vrp"),
    "mtvrptwr": ("mtvrptwr", "*.vrp"),
    "pcvrptw": ("pcvrptw", "*.vrp"),
}
#: Sets VROOM's adapter does not model (prizes, reloads and release times): it is not run there.
RICH = {"mtvrptwr", "pcvrptw"}


def instance_files(sets: list[str], limit: int | None, names: set[str] | None) -> list[tuple[str, Path]]:
    files = []
    for name in sets:
        folder, pattern = SETS[name]
        paths = sorted((SHARED / folder).glob(pattern))
        paths = [p for p in paths if not p.name.endswith(".sintef_bks.txt")]
        if names:
            paths = [p for p in paths if p.stem in names]
        files.extend((name, p) for p in paths[:limit])
    return files


def upper_bounds() -> dict[str, float]:
    """DIMACS re-costs of the SINTEF Gehring-Homberger routes (from ``bks.csv``)."""
    table = SHARED / "bks.csv"
    if not table.exists():
        return {}
    with table.open(newline="") as handle:
        return {row["instance"]: float(row["bks"]) for row in csv.DictReader(handle)
                if row["set"] == "gehring_homberger_dimacs_recost"}


def run_one(task: tuple[str, str, Path, float, int]) -> dict[str, object]:
    set_name, solver, path, budget, seed = task
    bench = read(path)
    run = ALL_SOLVERS[solver](bench, budget, seed=seed)
    evaluation = evaluate(bench, run.routes)
    return {
        "set": set_name,
        "instance": bench.name,
        "solver": solver,
        "budget_s": budget,
        "cost": round(evaluation.cost, 1),
        "vehicles": evaluation.vehicles,
        "feasible": evaluation.feasible,
        "violations": list(evaluation.violations[:3]),
        "runtime_s": round(run.runtime_s, 2),
        "note": run.note,
        "best_known": bench.best_known,
    }


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def merge(path: Path, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    old = json.loads(path.read_text())["rows"] if path.exists() else []
    fresh = {(r["instance"], r["solver"]) for r in rows}
    kept = [r for r in old if (r["instance"], r["solver"]) not in fresh]
    return sorted(kept + rows, key=lambda r: (list(SETS).index(r["set"]), r["instance"], r["solver"]))


def gap(row: dict[str, object]) -> float | None:
    bks = row.get("best_known")
    if not bks or not row["feasible"]:
        return None
    return 100.0 * (float(row["cost"]) - float(bks)) / float(bks)


Summary = tuple[str, str, int, float | None, int]


def summary(rows: list[dict[str, object]], solvers: list[str]) -> list[Summary]:
    """(set, solver, instances, mean gap over feasible runs with a BKS, infeasible runs)."""
    out = []
    for set_name in SETS:
        for solver in solvers:
            mine = [r for r in rows if r["set"] == set_name and r["solver"] == solver]
            if not mine:
                continue
            gaps = [g for r in mine if (g := gap(r)) is not None]
            out.append((set_name, solver, len(mine), statistics.fmean(gaps) if gaps else None,
                        sum(1 for r in mine if not r["feasible"])))
    return out


def markdown(rows: list[dict[str, object]], budget: float, meta: dict[str, object]) -> str:
    solvers = [s for s in ALL_SOLVERS if any(r["solver"] == s for r in rows)]
    lines = [
        f"# Gap to best-known at {budget:g} s per instance (one thread each; hakobu2w: two processes)",
        "",
        f"Generated by `python benchmarks/vrplib_gaps.py` (last run {meta['when']}, commit "
        f"{meta['commit']}, command `{meta['command']}`, load average {meta.get('load', '?')} "
        "on 2 cores). Gaps are % above the best-known "
        "cost; costs are re-computed from the instance data for every solver. Gehring-Homberger "
        "best-known values other than C1_2_1 are DIMACS re-costs of SINTEF routes (upper bounds).",
        "",
        "## Mean gap per set",
        "",
        "| set | solver | instances | mean gap % | infeasible |",
        "|---|---|---:|---:|---:|",
    ]
    for set_name, solver, count, mean, infeasible in summary(rows, solvers):
        shown = "-" if mean is None else f"{mean:.2f}"
        lines.append(f"| {set_name} | {solver} | {count} | {shown} | {infeasible} |")
    lines += ["", "## Per instance", "",
              "| set | instance | best-known | " + " | ".join(f"{s} cost | {s} gap % | {s} routes"
                                                        for s in solvers) + " |",
              "|---|---|---:|" + "---:|---:|---:|" * len(solvers)]
    by_instance: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
    for r in rows:
        by_instance.setdefault((str(r["set"]), str(r["instance"])), {})[str(r["solver"])] = r
    for (set_name, instance), runs in by_instance.items():
        bks = next((r["best_known"] for r in runs.values() if r["best_known"]), None)
        cells = []
        for s in solvers:
            r = runs.get(s)
            if r is None:
                cells.append("| | ")
                continue
            g = gap(r)
            shown = "infeasible" if not r["feasible"] else "-" if g is None else f"{g:.2f}"
            cells.append(f"{r['cost']} | {shown} | {r['vehicles']}")
        lines.append(f"| {set_name} | {instance} | {bks or '-'} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="sets", action="append", choices=list(SETS),
                        help="instance set (repeatable; default: all)")
    parser.add_argument("--budget", dest="budgets", action="append", type=float,
                        help="seconds per instance and solver (repeatable; default: 10 and 30)")
    parser.add_argument("--limit", type=int, default=None, help="first N instances of each set")
    parser.add_argument("--instances", default="", help="comma-separated instance names")
    parser.add_argument("--solvers", default=",".join(SOLVERS),
                        help=f"comma-separated, from {', '.join(ALL_SOLVERS)} (default: the first 3)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one thread each)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not SHARED.exists():
        print(f"benchmark instances not found at {SHARED}: nothing to do")
        return 0
    sets = args.sets or list(SETS)
    budgets = args.budgets or [10.0, 30.0]
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = [s for s in solvers if s not in ALL_SOLVERS]
    if unknown:
        parser.error(f"unknown solver(s) {unknown}; choose from {list(ALL_SOLVERS)}")
    names = {n.strip() for n in args.instances.split(",") if n.strip()} or None
    files = instance_files(sets, args.limit, names)
    bounds = upper_bounds()
    command = "python benchmarks/vrplib_gaps.py " + " ".join(argv if argv is not None else sys.argv[1:])
    RESULTS.mkdir(parents=True, exist_ok=True)
    for budget in budgets:
        tasks = [(s, solver, p, budget, args.seed) for s, p in files for solver in solvers
                 if not (solver == "vroom" and s in RICH)]
        load_before = os.getloadavg()[0]
        rows = []
        with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
            for row in pool.map(run_one, tasks):
                if row["best_known"] is None and row["instance"] in bounds:
                    row["best_known"] = bounds[str(row["instance"])]
                rows.append(row)
                g = gap(row)
                print(f"{budget:>5g}s {row['instance']:<12} {row['solver']:<7} cost {row['cost']:>10} "
                      f"gap {'-' if g is None else f'{g:6.2f}'} routes {row['vehicles']:>3} "
                      f"{'feasible' if row['feasible'] else 'INFEASIBLE'} {row['runtime_s']:>6}s",
                      flush=True)
        meta = {"when": datetime.datetime.now().isoformat(timespec="minutes"),
                "commit": git_commit(), "command": command.strip(),
                "load": f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"}
        stem = f"vrplib_gaps_{budget:g}s"
        merged = merge(RESULTS / f"{stem}.json", rows)
        (RESULTS / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": merged}, indent=1))
        (RESULTS / f"{stem}.md").write_text(markdown(merged, budget, meta))
        print(f"\nbudget {budget:g} s (this run and earlier rows kept in {stem}.json):")
        for set_name, solver, count, mean, infeasible in summary(merged, solvers):
            shown = "-" if mean is None else f"{mean:.2f} %"
            print(f"  {set_name:<8} {solver:<7} {count:>3} instances  mean gap {shown:>8}  "
                  f"infeasible {infeasible}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
