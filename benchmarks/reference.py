"""Solver adapters for the benchmark scripts: Hakobu's core, PyVRP and VROOM on one instance.

Every adapter receives the same :class:`routing.vrplib_io.BenchInstance` (the same integer
matrices: x10 truncated distances for Solomon/Gehring-Homberger, rounded ones for X) and a
wall-clock budget, runs single-threaded, and returns the routes it found as lists of node
numbers; the caller re-costs and re-checks them with :func:`routing.vrplib_io.evaluate`, so no
solver's own objective is trusted. PyVRP and VROOM are benchmark-only dependencies
(``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from routing.core import CoreParams, solve_core
from routing.vrplib_io import BenchInstance, core_routes


@dataclass(frozen=True)
class Run:
    routes: list[list[int]]
    runtime_s: float
    note: str = ""


def run_hakobu(bench: BenchInstance, budget_s: float, seed: int = 0, workers: int = 1,
               engine: str = "auto") -> Run:
    started = time.perf_counter()
    result = solve_core(bench.core, CoreParams(time_limit_s=budget_s, seed=seed, workers=workers,
                                               engine=engine))
    routes = [r for r in core_routes(bench, result) if r]
    return Run(routes, time.perf_counter() - started, result.strategy)


def run_ortools(bench: BenchInstance, budget_s: float, seed: int = 0) -> Run:
    """Hakobu's OR-Tools path alone (``engine="ortools"``): the reference of the own search."""
    return run_hakobu(bench, budget_s, seed=seed, engine="ortools")


def run_pyvrp_rich(bench: BenchInstance, budget_s: float, seed: int = 0) -> Run:
    """PyVRP on a PCVRPTW / MTVRPTWR file, read by PyVRP itself (DIMACS rounding: the same x10
    truncated integers as Hakobu's matrices); reloads come back as ``0`` between trips."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    data = pyvrp.read(str(bench.path), round_func="dimacs")
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(budget_s), seed=seed, display=False,
                         collect_stats=False)
    routes = []
    for route in result.best.routes():
        out: list[int] = []
        trip = 0
        for a in route.schedule():
            if a.is_client():  # clients are numbered from 0 in PyVRP, from 1 in the file
                if a.trip != trip and out:
                    out.append(0)
                trip = a.trip
                out.append(int(a.idx) + 1)
        routes.append(out)
    return Run(routes, time.perf_counter() - started)


def run_pyvrp(bench: BenchInstance, budget_s: float, seed: int = 0) -> Run:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    if bench.kind in {"pcvrptw", "mtvrptwr"}:
        return run_pyvrp_rich(bench, budget_s, seed)

    core = bench.core
    windows = np.asarray(core.windows)
    service = np.asarray(core.service)
    demand = np.asarray(core.demands)[:, 0]
    big = np.iinfo(np.int64).max
    vrptw = bench.kind == "vrptw"
    locations = [pyvrp.Location(float(x), float(y)) for x, y in bench.coords]
    clients = [
        pyvrp.Client(
            location=i,
            delivery=[int(demand[i])],
            service_duration=int(service[i]),
            tw_early=int(windows[i, 0]) if vrptw else 0,
            tw_late=int(windows[i, 1]) if vrptw else big,
        )
        for i in range(1, core.num_nodes)
    ]
    depot = pyvrp.Depot(location=0, tw_early=int(windows[0, 0]) if vrptw else 0,
                        tw_late=int(windows[0, 1]) if vrptw else big)
    vehicle_type = pyvrp.VehicleType(
        num_available=len(core.vehicles),
        capacity=[int(core.vehicles[0].capacities[0])],
        tw_early=int(windows[0, 0]) if vrptw else 0,
        tw_late=int(windows[0, 1]) if vrptw else big,
    )
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=[depot],
        vehicle_types=[vehicle_type],
        distance_matrices=[np.asarray(core.distance[0], dtype=np.int64)],
        duration_matrices=[np.asarray(core.duration[0], dtype=np.int64)],
    )
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(budget_s), seed=seed, display=False,
                         collect_stats=False)
    # Clients are numbered from 0 in PyVRP and sit at locations 1..n (the depot is location 0).
    routes = [[int(a.idx) + 1 for a in route if a.is_client()] for route in result.best.routes()]
    return Run(routes, time.perf_counter() - started)


def run_vroom(bench: BenchInstance, budget_s: float, seed: int = 0) -> Run:
    import vroom

    core = bench.core
    windows = np.asarray(core.windows)
    service = np.asarray(core.service)
    demand = np.asarray(core.demands)[:, 0]
    vrptw = bench.kind == "vrptw"
    problem = vroom.Input()
    dist = np.asarray(core.distance[0], dtype=np.uint32)
    # VROOM needs a duration matrix; for CVRP the durations are irrelevant (no windows).
    dur = np.asarray(core.duration[0], dtype=np.uint32) if vrptw else dist
    problem.set_durations_matrix("car", dur)
    problem.set_costs_matrix("car", dist)
    capacity = int(core.vehicles[0].capacities[0])
    for v in range(len(core.vehicles)):
        problem.add_vehicle(vroom.Vehicle(
            id=v, start=0, end=0, capacity=[capacity],
            time_window=vroom.TimeWindow(int(windows[0, 0]), int(windows[0, 1])) if vrptw else None,
        ))
    for i in range(1, core.num_nodes):
        problem.add_job(vroom.Job(
            id=i, location=i, default_service=int(service[i]), delivery=[int(demand[i])],
            time_windows=[vroom.TimeWindow(int(windows[i, 0]), int(windows[i, 1]))] if vrptw else (),
        ))
    started = time.perf_counter()
    import datetime

    solution = problem.solve(exploration_level=5, nb_threads=1,
                             timeout=datetime.timedelta(seconds=budget_s))
    runtime = time.perf_counter() - started
    frame = solution.routes
    routes = []
    for _, steps in frame[frame["type"] == "job"].groupby("vehicle_id", sort=True):
        routes.append([int(i) for i in steps["id"]])
    return Run(routes, runtime)


def run_hakobu_two_workers(bench: BenchInstance, budget_s: float, seed: int = 0) -> Run:
    """The product's setting on a 2-core machine: one start per process (not single-threaded)."""
    return run_hakobu(bench, budget_s, seed=seed, workers=2)


#: The compared solvers, one thread each (the default of ``vrplib_gaps.py``).
SOLVERS: dict[str, Callable[..., Run]] = {
    "hakobu": run_hakobu,
    "pyvrp": run_pyvrp,
    "vroom": run_vroom,
}
#: Extra columns on request: ``hakobu2w`` uses two processes (``--jobs 1``); ``ortools`` is
#: Hakobu's OR-Tools path alone, one thread.
EXTRA_SOLVERS: dict[str, Callable[..., Run]] = {"hakobu2w": run_hakobu_two_workers,
                                               "ortools": run_ortools}
