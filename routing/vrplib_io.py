"""Public benchmark instances (Solomon / Gehring-Homberger VRPTW, VRPLIB CVRP) as core instances.

Files are read with the ``vrplib`` package. Costs follow the conventions of the published
best-known solutions, so a cost computed here compares with the ``.sol`` beside the file:

- Solomon-format VRPTW: the DIMACS convention, distances and travel times truncated to one decimal.
  Matrices hold ``floor(10 * d)`` integers (``scale = 10``); a cost is the matrix sum / 10.
- VRPLIB CVRP (``EUC_2D``, e.g. the X instances of Uchoa et al. 2017): distances rounded to the
  nearest integer (TSPLIB ``nint``); ``scale = 1``. The fleet is *not* fixed at the ``k`` of the
  name (X-n101-k25's best-known solution uses 26 routes): a few spare vehicles are given.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vrplib

from routing.core import CoreInstance, CoreResult, CoreVehicle


@dataclass(frozen=True)
class BenchInstance:
    """One benchmark instance: the core instance plus what is needed to report a cost.

    ``coords`` are the file's coordinates (row 0 is the depot); ``scale`` divides a matrix cost
    into the published unit; ``best_known`` is the cost in the ``.sol`` beside the file, if any.
    """

    name: str
    kind: str  # "vrptw" or "cvrp"
    core: CoreInstance
    scale: int
    coords: np.ndarray
    best_known: float | None
    path: Path


def truncated_distances(coords: np.ndarray) -> np.ndarray:
    """Euclidean distances x10, truncated (DIMACS convention for Solomon instances)."""
    diff = coords[:, None, :] - coords[None, :, :]
    # The small epsilon keeps exact decimals (e.g. 10 * 2.3) from flooring one unit too low.
    return np.floor(10.0 * np.sqrt((diff**2).sum(axis=-1)) + 1e-9).astype(np.int64)


def rounded_distances(coords: np.ndarray) -> np.ndarray:
    """Euclidean distances rounded to the nearest integer (TSPLIB ``EUC_2D`` nint)."""
    diff = coords[:, None, :] - coords[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(axis=-1)) + 0.5).astype(np.int64)


def read(path: str | Path) -> BenchInstance:
    """Read a Solomon ``.txt`` or a VRPLIB ``.vrp`` file (with its ``.sol``, when present).

    Raises
    ------
    ValueError
        If the file is neither format, or a CVRP file uses another edge weight type than EUC_2D.
    """
    path = Path(path)
    if path.suffix == ".vrp":
        bench = _read_cvrp(path)
    elif path.suffix == ".txt":
        bench = _read_solomon(path)
    else:
        raise ValueError(f"{path}: expected a Solomon .txt or a VRPLIB .vrp file")
    return bench


def _best_known(path: Path) -> float | None:
    sol = path.with_suffix(".sol")
    if not sol.exists():
        return None
    return float(vrplib.read_solution(str(sol))["cost"])


def _read_solomon(path: Path) -> BenchInstance:
    data = vrplib.read_instance(str(path), instance_format="solomon")
    coords = np.asarray(data["node_coord"], dtype=float)
    dist = truncated_distances(coords)
    windows = np.asarray(data["time_window"], dtype=np.int64) * 10
    service = np.asarray(data["service_time"], dtype=np.int64) * 10
    demand = np.asarray(data["demand"], dtype=np.int64).reshape(-1, 1)
    capacity = int(data["capacity"])
    vehicles = tuple(
        CoreVehicle(start=0, end=0, capacities=(capacity,)) for _ in range(int(data["vehicles"]))
    )
    core = CoreInstance(
        distance=(dist,),
        duration=(dist,),
        service=service,
        demands=demand,
        windows=windows,
        vehicles=vehicles,
    )
    return BenchInstance(path.stem, "vrptw", core, 10, coords, _best_known(path), path)


def _read_cvrp(path: Path) -> BenchInstance:
    data = vrplib.read_instance(str(path))
    if str(data.get("edge_weight_type", "")).upper() != "EUC_2D":
        raise ValueError(f"{path}: edge weight type {data.get('edge_weight_type')!r}, "
                         "only EUC_2D is supported")
    depot = int(np.asarray(data.get("depot", [0])).ravel()[0])
    if depot != 0:
        raise ValueError(f"{path}: depot {depot}, expected the first node")
    coords = np.asarray(data["node_coord"], dtype=float)
    dist = rounded_distances(coords)
    n = len(coords)
    demand = np.asarray(data["demand"], dtype=np.int64).reshape(-1, 1)
    capacity = int(data["capacity"])
    min_routes = math.ceil(int(demand.sum()) / capacity)
    fleet = min(n - 1, min_routes + max(2, math.ceil(0.2 * min_routes)))
    core = CoreInstance(
        distance=(dist,),
        duration=(np.zeros_like(dist),),
        service=np.zeros(n, dtype=np.int64),
        demands=demand,
        windows=np.zeros((n, 2), dtype=np.int64),
        vehicles=tuple(CoreVehicle(start=0, end=0, capacities=(capacity,)) for _ in range(fleet)),
        horizon=0,
    )
    return BenchInstance(path.stem, "cvrp", core, 1, coords, _best_known(path), path)


@dataclass(frozen=True)
class Evaluation:
    """A solution re-costed and re-checked from the instance data alone."""

    cost: float
    vehicles: int
    feasible: bool
    violations: tuple[str, ...]


def evaluate(bench: BenchInstance, routes: list[list[int]] | tuple[tuple[int, ...], ...]) -> Evaluation:
    """Cost and feasibility of ``routes`` (customer node lists, depot excluded).

    Independent of any solver, so OR-Tools, PyVRP and VROOM results are judged alike: every
    customer exactly once, capacity, and (VRPTW) time windows with waiting allowed.
    """
    core = bench.core
    dist = np.asarray(core.distance[0])
    dur = np.asarray(core.duration[0])
    windows = np.asarray(core.windows)
    service = np.asarray(core.service)
    demand = np.asarray(core.demands)[:, 0]
    capacity = core.vehicles[0].capacities[0]
    violations: list[str] = []
    total = 0
    seen: list[int] = []
    used = 0
    for r, route in enumerate(routes):
        if not route:
            continue
        used += 1
        path = [0, *route, 0]
        total += int(sum(dist[a, b] for a, b in itertools.pairwise(path)))
        if demand[list(route)].sum() > capacity:
            violations.append(f"route {r}: load {demand[list(route)].sum()} > {capacity}")
        if bench.kind == "vrptw":
            t = int(windows[0, 0])
            for a, b in itertools.pairwise(path):
                t = max(t + int(service[a]) + int(dur[a, b]), int(windows[b, 0]))
                if t > windows[b, 1]:
                    violations.append(f"route {r}: node {b} reached at {t / bench.scale} "
                                      f"after its window closes at {windows[b, 1] / bench.scale}")
                    break
        seen.extend(route)
    customers = set(range(1, core.num_nodes))
    if sorted(seen) != sorted(customers):
        missing = customers - set(seen)
        duplicated = {c for c in seen if seen.count(c) > 1}
        violations.append(f"customers missing {sorted(missing)[:5]}, repeated {sorted(duplicated)[:5]}")
    return Evaluation(total / bench.scale, used, not violations, tuple(violations))


def evaluate_result(bench: BenchInstance, result: CoreResult) -> Evaluation:
    """:func:`evaluate` applied to the routes of a core result."""
    evaluation = evaluate(bench, result.routes)
    if result.unserved and evaluation.feasible:
        return Evaluation(evaluation.cost, evaluation.vehicles, False,
                          (f"unserved {list(result.unserved)[:5]}",))
    return evaluation
