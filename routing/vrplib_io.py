"""Public benchmark instances (Solomon / Gehring-Homberger VRPTW, VRPLIB CVRP) as core instances.

Files are read with the ``vrplib`` package. Costs follow the conventions of the published
best-known solutions, so a cost computed here compares with the ``.sol`` beside the file:

- Solomon-format VRPTW: the DIMACS convention, distances and travel times truncated to one decimal.
  Matrices hold ``floor(10 * d)`` integers (``scale = 10``); a cost is the matrix sum / 10.
- VRPLIB CVRP (``EUC_2D``, e.g. the X instances of Uchoa et al. 2017): distances rounded to the
  nearest integer (TSPLIB ``nint``); ``scale = 1``. The fleet is *not* fixed at the ``k`` of the
  name (X-n101-k25's best-known solution uses 26 routes): a few spare vehicles are given.
- PyVRP's rich VRPLIB files, DIMACS convention like Solomon (``scale = 10``):
  ``TYPE: PCVRPTW`` (prize-collecting VRPTW: every client optional, its prize the drop penalty;
  cost = distance + prizes not collected) and ``TYPE: MTVRPTWR`` (multi-trip VRPTW with release
  dates: a vehicle may come back to the depot to reload; a trip serving a client leaves the depot
  after the client's release time). In the core a multi-trip client is a pickup at the depot,
  window opening at its release, paired with its delivery, on vehicles that start empty: a route
  that passes the depot again picks up the next trip's goods there. Routes are reported in the
  ``.sol`` convention, a ``0`` between two trips.
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
    kind: str  # "vrptw", "cvrp", "pcvrptw" or "mtvrptwr"
    core: CoreInstance
    scale: int
    coords: np.ndarray
    best_known: float | None
    path: Path
    prize: np.ndarray | None = None  # per client node (pcvrptw), scaled like the matrices
    release: np.ndarray | None = None  # per client node (mtvrptwr), scaled

    @property
    def clients(self) -> int:
        """Number of clients (nodes 1..clients; a multi-trip instance's pickups come after)."""
        return len(self.coords) - 1


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
    if path.suffix == ".vrp" and _vrp_type(path) in {"PCVRPTW", "MTVRPTWR"}:
        bench = _read_rich(path)
    elif path.suffix == ".vrp":
        bench = _read_cvrp(path)
    elif path.suffix == ".txt":
        bench = _read_solomon(path)
    else:
        raise ValueError(f"{path}: expected a Solomon .txt or a VRPLIB .vrp file")
    return bench


def _vrp_type(path: Path) -> str:
    with path.open() as handle:
        for line in itertools.islice(handle, 30):
            key, _, value = line.partition(":")
            if key.strip().upper() == "TYPE":
                return value.strip().upper()
    return ""


def _read_rich(path: Path) -> BenchInstance:
    data = vrplib.read_instance(str(path))
    kind = _vrp_type(path).lower()
    if str(data.get("edge_weight_type", "")).upper() != "EUC_2D":
        raise ValueError(f"{path}: edge weight type {data.get('edge_weight_type')!r}, "
                         "only EUC_2D is supported")
    depots = np.asarray(data.get("depot", [0])).ravel()
    if depots.tolist() != [0]:
        raise ValueError(f"{path}: depots {depots.tolist()}, expected one depot, the first node")
    coords = np.asarray(data["node_coord"], dtype=float)
    n = len(coords)
    windows = np.asarray(data["time_window"], dtype=np.int64) * 10
    service = np.full(n, int(data["service_time"]) * 10, dtype=np.int64)
    service[0] = 0
    demand = np.asarray(data["demand"], dtype=np.int64)
    capacity = int(data["capacity"])
    fleet = int(data["vehicles"])
    dist = truncated_distances(coords)
    bk = _best_known(path)
    bk = None if bk is None else bk / 10  # these .sol files hold the x10 integer cost
    if kind == "pcvrptw":
        prize = np.asarray(data["prize"], dtype=np.int64) * 10
        core = CoreInstance(
            distance=(dist,), duration=(dist,), service=service, demands=demand.reshape(-1, 1),
            windows=windows,
            vehicles=tuple(CoreVehicle(start=0, end=0, capacities=(capacity,))
                           for _ in range(fleet)),
            penalty=(None, *(int(x) for x in prize[1:])),
        )
        return BenchInstance(path.stem, kind, core, 10, coords, bk, path, prize=prize)
    release = np.asarray(data["release_time"], dtype=np.int64) * 10
    index = np.r_[np.arange(n), np.zeros(n - 1, dtype=np.int64)]  # pickups at the depot
    pickup_windows = np.column_stack([release[1:], np.full(n - 1, windows[0, 1])])
    core = CoreInstance(
        distance=(dist[np.ix_(index, index)],), duration=(dist[np.ix_(index, index)],),
        service=np.r_[service, np.zeros(n - 1, dtype=np.int64)],
        demands=np.r_[-demand, demand[1:]].reshape(-1, 1),
        windows=np.r_[windows, pickup_windows],
        vehicles=tuple(CoreVehicle(start=0, end=0, capacities=(capacity,)) for _ in range(fleet)),
        pairs=tuple((n + k - 1, k) for k in range(1, n)),
    )
    return BenchInstance(path.stem, kind, core, 10, coords, bk, path, release=release)


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
    """Cost and feasibility of ``routes`` (client node lists, depot excluded; in a multi-trip
    instance a ``0`` between two trips is a reload at the depot).

    Independent of any solver, so OR-Tools, PyVRP and VROOM results are judged alike: every
    client exactly once (at most once when prize-collecting, whose cost adds the prizes not
    collected), capacity per trip, (VRPTW) time windows with waiting allowed, the depot's closing
    time, and release times (a trip leaves after those of its clients).
    """
    dist = truncated_distances(bench.coords) if bench.scale == 10 else rounded_distances(
        bench.coords)
    timed = bench.kind != "cvrp"
    windows = np.asarray(bench.core.windows)
    service = np.asarray(bench.core.service)
    demand = np.abs(np.asarray(bench.core.demands)[:, 0])
    release = bench.release if bench.release is not None else np.zeros(len(dist), np.int64)
    capacity = bench.core.vehicles[0].capacities[0]
    violations: list[str] = []
    total = 0
    seen: list[int] = []
    used = 0
    for r, route in enumerate(routes):
        if not route:
            continue
        used += 1
        trips = [list(g) for key, g in itertools.groupby(route, key=lambda c: c == 0) if not key]
        t = int(windows[0, 0])
        for trip in trips:
            if demand[trip].sum() > capacity:
                violations.append(f"route {r}: load {demand[trip].sum()} > {capacity}")
            path = [0, *trip, 0]
            total += int(sum(dist[a, b] for a, b in itertools.pairwise(path)))
            if not timed:
                continue
            t = max(t, int(release[trip].max()))
            for a, b in itertools.pairwise(path):
                t = max(t + int(service[a]) + int(dist[a, b]), int(windows[b, 0]))
                if t > windows[b, 1]:
                    violations.append(f"route {r}: node {b} reached at {t / bench.scale} "
                                      f"after its window closes at {windows[b, 1] / bench.scale}")
                    break
        seen.extend(c for c in route if c != 0)
    customers = set(range(1, bench.clients + 1))
    duplicated = {c for c in seen if seen.count(c) > 1}
    missing = customers - set(seen)
    if bench.prize is not None:
        total += int(bench.prize[sorted(missing)].sum())
        missing = set()
    if missing or duplicated or not set(seen) <= customers:
        violations.append(f"customers missing {sorted(missing)[:5]}, repeated {sorted(duplicated)[:5]}")
    return Evaluation(total / bench.scale, used, not violations, tuple(violations))


def core_routes(bench: BenchInstance, result: CoreResult) -> list[list[int]]:
    """A core result's routes as client lists: a multi-trip instance's pickups (at the depot)
    become a ``0`` (reload) wherever they follow a delivery."""
    routes = []
    for route in result.routes:
        out: list[int] = []
        for node in route:
            if node <= bench.clients:
                out.append(int(node))
            elif out and out[-1] != 0:
                out.append(0)
        routes.append(out[:-1] if out and out[-1] == 0 else out)
    return routes


def evaluate_result(bench: BenchInstance, result: CoreResult) -> Evaluation:
    """:func:`evaluate` applied to the routes of a core result."""
    evaluation = evaluate(bench, core_routes(bench, result))
    if result.unserved and evaluation.feasible and bench.prize is None:
        return Evaluation(evaluation.cost, evaluation.vehicles, False,
                          (f"unserved {list(result.unserved)[:5]}",))
    return evaluation
