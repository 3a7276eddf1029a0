"""Matrix-level rich VRP solver on OR-Tools: the only module of Hakobu that imports ortools.

CONTRACT between this module and the rest of ``routing/`` (agreed interface; ``routing/model.py``
compiles a geographic ``routing.Problem`` into a :class:`CoreInstance`). Units are the caller's
(routing uses metres and seconds).

- ``CoreVehicle``: start/end node, travel ``profile`` (index into the matrices), capacities (one
  per demand column), fixed cost (paid only if used), shift (``earliest_start``, ``latest_end``),
  ``max_duration`` (end - start), ``max_distance`` (route length limit: a drone sortie's range).
- ``CoreInstance``: per-profile int64 distance and duration matrices (an entry >= UNREACHABLE is a
  forbidden arc), service time per node (added when leaving it), demands (N, D) possibly negative,
  windows (N, 2), vehicles, per-node allowed vehicles (None = any), per-node drop penalty (None =
  mandatory; ignored for vehicle start/end nodes), pickup/delivery pairs (same vehicle, pickup
  first, both or neither), ``sequence`` constraints (v1, v2, gap): end time of v1 + gap <= start
  time of v2 (chains drone sorties modelled as one vehicle each), arc cost =
  distance_weight*distance + time_weight*duration, horizon (default: max window end), and
  ``initial_load_free`` (capacity cumul at a vehicle's start free in [0, cap], so depot-loaded
  parcels can be delivered with negative demand beside pickup/delivery pairs; else start load 0).
- ``CoreParams``: validated: time limit, seed, solution limit (OR-Tools: deterministic for a seed
  when set), ``iterations`` (the own search: deterministic for a seed when set), first-solution
  strategy names tried as starts ("auto" = chosen per problem), metaheuristic,
  workers (parallel starts in separate processes).
- ``CoreResult``: per-vehicle routes (visited nodes, excluding start/end), start and end times,
  service start time of every served node, unserved optional nodes, objective, feasible flag,
  runtime, and which start produced it.

How the search runs (see ``benchmarks/README.md`` for the measurements behind these choices):

- Mandatory visits are modelled as optional with a drop penalty larger than any solution's cost
  (a "big M"), so an insertion heuristic always has a first solution even under tight time
  windows; a result that still drops a mandatory node is reported with ``feasible=False`` and the
  node in ``unserved``. The reported ``objective`` never contains the big M.
- A *start* is a first-solution strategy. Each worker builds the model once and races its starts
  (each runs the metaheuristic for a fifth of the budget), then improves the race's best solution
  until the deadline; workers run in separate processes (starts are dealt round-robin) and the
  best objective wins, ties going to the earlier start (so a run with ``solution_limit`` is
  deterministic).
- On every instance :func:`sisr_applies` accepts (the VRPLIB benchmarks, and the product's
  batches: drone sorties with their range, chained sorties as time slots, releases, pairs picked
  up at the hub or on the way at a supply point, multi-trip reloads at the depot) our own
  ruin-and-recreate search (:class:`_Sisr`, string removals and greedy insertion with blinks
  under simulated annealing, compiled with numba in :mod:`routing.sisr`) has the whole budget,
  from nothing: measured, it ends closer to best-known alone than after an OR-Tools phase, whose
  routes it cannot leave on some instances (Solomon C204: a fourth route), and on the Tajima
  batches it costs about half of OR-Tools' plan at 300 orders (benchmarks/README.md). Its
  stopping rule is the clock, or with ``iterations`` a fixed number of iterations (a
  deterministic run); with only a ``solution_limit`` (and no ``iterations``) or
  ``engine="ortools"`` OR-Tools plans, and it is the fallback when greedy insertion cannot fit a
  mandatory visit.
- ``sequence`` chains (a drone's sorties) are enforced by disjoint time slots per chained vehicle
  (:func:`sequence_slots`), cumul bounds that OR-Tools' heuristics and filters see; a constraint
  between two vehicles' cumuls made every first solution fail on batches of 150+ orders.
- Schedules are tightened by the solution finalizer: each vehicle leaves as late as its route
  allows (no idle waiting at the first stop) and returns as early as possible.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import multiprocessing
import time

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing import sisr

UNREACHABLE: int = 10**9

_FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
_METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic
#: First-solution strategies accepted in :attr:`CoreParams.first_solution` (besides ``"auto"``).
FIRST_SOLUTION_STRATEGIES: tuple[str, ...] = tuple(
    name
    for name in _FIRST_SOLUTION.Value.DESCRIPTOR.values_by_name
    if name not in {"UNSET", "AUTOMATIC", "EVALUATOR_STRATEGY", "SWEEP"}
)
#: Metaheuristics accepted in :attr:`CoreParams.metaheuristic`; ``ITERATED_LOCAL_SEARCH`` is
#: OR-Tools' ruin-and-recreate iterated local search (``use_iterated_local_search``).
METAHEURISTICS: tuple[str, ...] = (
    *(name for name in _METAHEURISTIC.Value.DESCRIPTOR.values_by_name if name != "UNSET"),
    "ITERATED_LOCAL_SEARCH",
)
#: ``CoreParams.engine``: "auto" = the own search wherever :func:`sisr_applies`, else OR-Tools;
#: "ortools" = OR-Tools always (the reference the own search is measured against).
ENGINES: tuple[str, ...] = ("auto", "ortools")
_LNS_TIME_LIMIT_MS = 30
_RACE_SHARE = 0.2  # of the budget, per start, when a worker races several starts
_UNLIMITED = 10**15  # capacity of a dimension without a limit


@dataclasses.dataclass(frozen=True)
class CoreVehicle:
    start: int
    end: int
    profile: int = 0
    capacities: tuple[int, ...] = ()
    fixed_cost: int = 0
    earliest_start: int = 0
    latest_end: int | None = None
    max_duration: int | None = None
    max_distance: int | None = None


@dataclasses.dataclass(frozen=True)
class CoreInstance:
    distance: tuple[np.ndarray, ...]
    duration: tuple[np.ndarray, ...]
    service: np.ndarray
    demands: np.ndarray
    windows: np.ndarray
    vehicles: tuple[CoreVehicle, ...]
    allowed: tuple[tuple[int, ...] | None, ...] = ()
    penalty: tuple[int | None, ...] = ()
    pairs: tuple[tuple[int, int], ...] = ()
    sequence: tuple[tuple[int, int, int], ...] = ()
    distance_weight: int = 1
    time_weight: int = 0
    horizon: int | None = None
    initial_load_free: bool = False

    @property
    def num_nodes(self) -> int:
        """Number of nodes N (rows of every matrix)."""
        return int(np.asarray(self.distance[0]).shape[0])


@dataclasses.dataclass(frozen=True)
class CoreParams:
    time_limit_s: float = 5.0
    seed: int = 0
    solution_limit: int | None = None
    first_solution: tuple[str, ...] = ("auto",)
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    workers: int = 1
    iterations: int | None = None
    engine: str = "auto"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; use one of {', '.join(ENGINES)}")
        if self.iterations is not None and self.iterations < 1:
            raise ValueError(f"iterations must be None or >= 1, got {self.iterations!r}")
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed!r}")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError(f"solution_limit must be None or >= 1, got {self.solution_limit!r}")
        if isinstance(self.first_solution, str) or not self.first_solution:
            raise ValueError(
                f"first_solution must be a non-empty tuple of names, got {self.first_solution!r}"
            )
        for name in self.first_solution:
            if name != "auto" and name not in FIRST_SOLUTION_STRATEGIES:
                raise ValueError(
                    f"unknown first-solution strategy {name!r}; use 'auto' or one of "
                    f"{', '.join(FIRST_SOLUTION_STRATEGIES)}"
                )
        if self.metaheuristic not in METAHEURISTICS:
            raise ValueError(
                f"unknown metaheuristic {self.metaheuristic!r}; "
                f"use one of {', '.join(METAHEURISTICS)}"
            )
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers!r}")


@dataclasses.dataclass(frozen=True)
class CoreResult:
    routes: tuple[tuple[int, ...], ...]
    start_times: tuple[int, ...]
    arrival: dict[int, int] = dataclasses.field(default_factory=dict)
    end_times: tuple[int, ...] = ()
    unserved: tuple[int, ...] = ()
    objective: int = 0
    feasible: bool = False
    runtime_s: float = 0.0
    strategy: str = ""


# --------------------------------------------------------------------------------------------
# validation and preprocessing


def validate_instance(instance: CoreInstance) -> None:
    """Raise ``ValueError`` naming the first inconsistent field of ``instance``."""
    n = instance.num_nodes
    if not instance.distance or len(instance.distance) != len(instance.duration):
        raise ValueError(
            f"need one distance and one duration matrix per profile, got "
            f"{len(instance.distance)} and {len(instance.duration)}"
        )
    for p, (dist, dur) in enumerate(zip(instance.distance, instance.duration, strict=True)):
        for what, mat in (("distance", dist), ("duration", dur)):
            shape = np.asarray(mat).shape
            if shape != (n, n):
                raise ValueError(
                    f"{what} matrix of profile {p} has shape {shape}, expected {(n, n)}"
                )
            if (np.asarray(mat) < 0).any():
                raise ValueError(f"{what} matrix of profile {p} has a negative entry")
    if np.asarray(instance.service).shape != (n,):
        raise ValueError(f"service has shape {np.asarray(instance.service).shape}, expected ({n},)")
    demands = np.asarray(instance.demands)
    if demands.ndim != 2 or demands.shape[0] != n:
        raise ValueError(f"demands has shape {demands.shape}, expected ({n}, D)")
    windows = np.asarray(instance.windows)
    if windows.shape != (n, 2):
        raise ValueError(f"windows has shape {windows.shape}, expected ({n}, 2)")
    bad = np.flatnonzero(windows[:, 0] > windows[:, 1])
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"node {i} has a window that closes before it opens: {windows[i].tolist()}"
        )
    if not instance.vehicles:
        raise ValueError("the instance has no vehicle")
    n_vehicles = len(instance.vehicles)
    for v, veh in enumerate(instance.vehicles):
        for what, node in (("start", veh.start), ("end", veh.end)):
            if not 0 <= node < n:
                raise ValueError(f"vehicle {v} has {what} node {node} outside 0..{n - 1}")
        if not 0 <= veh.profile < len(instance.distance):
            raise ValueError(f"vehicle {v} has profile {veh.profile}, but there are "
                             f"{len(instance.distance)} profiles")
        if len(veh.capacities) != demands.shape[1]:
            raise ValueError(f"vehicle {v} has {len(veh.capacities)} capacities for "
                             f"{demands.shape[1]} demand columns")
        if veh.latest_end is not None and veh.latest_end < veh.earliest_start:
            raise ValueError(f"vehicle {v} has a shift that ends ({veh.latest_end}) before it "
                             f"starts ({veh.earliest_start})")
    for what, seq in (("allowed", instance.allowed), ("penalty", instance.penalty)):
        if seq and len(seq) != n:
            raise ValueError(f"{what} has {len(seq)} entries for {n} nodes")
    for i, vehicles in enumerate(instance.allowed):
        if vehicles is not None and any(not 0 <= v < n_vehicles for v in vehicles):
            raise ValueError(f"node {i} allows vehicles {vehicles} outside 0..{n_vehicles - 1}")
    terminals = _terminal_nodes(instance)
    for p, d in instance.pairs:
        for node in (p, d):
            if not 0 <= node < n or node in terminals:
                raise ValueError(f"pair {(p, d)} names node {node}, not a visit node")
    for v1, v2, gap in instance.sequence:
        if not (0 <= v1 < n_vehicles and 0 <= v2 < n_vehicles) or v1 == v2:
            raise ValueError(f"sequence {(v1, v2, gap)} must name two distinct vehicles")


def _terminal_nodes(instance: CoreInstance) -> set[int]:
    return {veh.start for veh in instance.vehicles} | {veh.end for veh in instance.vehicles}


def _horizon(instance: CoreInstance) -> int:
    if instance.horizon is not None:
        return int(instance.horizon)
    return int(np.asarray(instance.windows)[:, 1].max())


def _forbidden(instance: CoreInstance, profile: int) -> np.ndarray:
    dist = np.asarray(instance.distance[profile], dtype=np.int64)
    dur = np.asarray(instance.duration[profile], dtype=np.int64)
    return (dist >= UNREACHABLE) | (dur >= UNREACHABLE)


def _arc_cost(instance: CoreInstance, profile: int) -> np.ndarray:
    dist = np.asarray(instance.distance[profile], dtype=np.int64)
    dur = np.asarray(instance.duration[profile], dtype=np.int64)
    cost = instance.distance_weight * dist + instance.time_weight * dur
    # A forbidden arc is made infeasible by the time dimension; its cost only has to stay finite.
    return np.where(_forbidden(instance, profile), UNREACHABLE, cost)


def _big_m(instance: CoreInstance, costs: dict[int, np.ndarray]) -> int:
    """A drop penalty larger than the whole cost of any solution (routes, fixed costs, drops)."""
    max_arc = max(int(c.max(initial=0)) for c in costs.values()) if costs else 0
    optional = sum(p for p in instance.penalty if p is not None)
    fixed = sum(veh.fixed_cost for veh in instance.vehicles)
    n = instance.num_nodes + len(instance.vehicles)
    return n * max_arc + fixed + optional + 1


# --------------------------------------------------------------------------------------------
# model building


@dataclasses.dataclass
class _Model:
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    big_m: int
    mandatory: frozenset[int]


def _build(instance: CoreInstance) -> _Model:
    n = instance.num_nodes
    vehicles = instance.vehicles
    horizon = _horizon(instance)
    manager = pywrapcp.RoutingIndexManager(
        n, len(vehicles), [v.start for v in vehicles], [v.end for v in vehicles]
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    profiles = sorted({v.profile for v in vehicles})
    service = np.asarray(instance.service, dtype=np.int64)

    costs = {p: _arc_cost(instance, p) for p in profiles}
    cost_cb = {p: routing.RegisterTransitMatrix(costs[p].tolist()) for p in profiles}
    for v, veh in enumerate(vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[veh.profile], v)
        if veh.fixed_cost:
            routing.SetFixedCostOfVehicle(int(veh.fixed_cost), v)

    # Time: travel + service of the node left; a forbidden arc takes longer than the horizon.
    time_cb = {}
    for p in profiles:
        transit = np.asarray(instance.duration[p], dtype=np.int64) + service[:, None]
        transit = np.where(_forbidden(instance, p), horizon + 1, np.minimum(transit, horizon + 1))
        time_cb[p] = routing.RegisterTransitMatrix(transit.tolist())
    routing.AddDimensionWithVehicleTransits(
        [time_cb[veh.profile] for veh in vehicles], horizon, horizon, False, "time"
    )
    time_dim = routing.GetDimensionOrDie("time")
    windows = np.asarray(instance.windows, dtype=np.int64)
    terminals = _terminal_nodes(instance)
    for node in range(n):
        if node not in terminals:
            time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(
                int(windows[node, 0]), int(min(windows[node, 1], horizon))
            )
    for v, veh in enumerate(vehicles):
        latest = horizon if veh.latest_end is None else min(veh.latest_end, horizon)
        lo, hi = max(veh.earliest_start, windows[veh.start, 0]), min(latest, windows[veh.start, 1])
        if lo > hi:
            raise ValueError(f"vehicle {v}: its shift [{veh.earliest_start}, {veh.latest_end}] "
                             f"misses the window {windows[veh.start].tolist()} of start node "
                             f"{veh.start} (horizon {horizon})")
        time_dim.CumulVar(routing.Start(v)).SetRange(int(lo), int(hi))
        lo, hi = max(veh.earliest_start, windows[veh.end, 0]), min(latest, windows[veh.end, 1])
        if lo > hi:
            raise ValueError(f"vehicle {v}: its shift [{veh.earliest_start}, {veh.latest_end}] "
                             f"misses the window {windows[veh.end].tolist()} of end node "
                             f"{veh.end} (horizon {horizon})")
        time_dim.CumulVar(routing.End(v)).SetRange(int(lo), int(hi))
        if veh.max_duration is not None:
            time_dim.SetSpanUpperBoundForVehicle(int(veh.max_duration), v)

    _add_capacities(instance, routing)
    if any(veh.max_distance is not None for veh in vehicles):
        dist_cb = {}
        for p in profiles:
            dist = np.minimum(np.asarray(instance.distance[p], dtype=np.int64), UNREACHABLE)
            dist_cb[p] = routing.RegisterTransitMatrix(dist.tolist())
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [dist_cb[veh.profile] for veh in vehicles],
            0,
            [_UNLIMITED if veh.max_distance is None else int(veh.max_distance) for veh in vehicles],
            True,
            "distance",
        )

    big_m = _big_m(instance, costs)
    mandatory = set()
    for node in range(n):
        if node in terminals:
            continue
        index = manager.NodeToIndex(node)
        penalty = instance.penalty[node] if instance.penalty else None
        if penalty is None:
            mandatory.add(node)
            penalty = big_m
        routing.AddDisjunction([index], int(penalty))
        allowed = instance.allowed[node] if instance.allowed else None
        if allowed is not None:
            # (SetAllowedVehiclesForIndex does not accept a Python list in ortools 9.15; and an
            # empty tuple must mean "no vehicle", which only the domain form expresses.)
            routing.VehicleVar(index).SetValues([-1, *(int(v) for v in allowed)])

    for pickup, delivery in instance.pairs:
        p_index, d_index = manager.NodeToIndex(pickup), manager.NodeToIndex(delivery)
        routing.AddPickupAndDelivery(p_index, d_index)
        solver.Add(routing.VehicleVar(p_index) == routing.VehicleVar(d_index))
        solver.Add(time_dim.CumulVar(p_index) <= time_dim.CumulVar(d_index))

    slots = sequence_slots(instance)
    for v, (lo, hi) in slots.items():
        for index in (routing.Start(v), routing.End(v)):
            cumul = time_dim.CumulVar(index)
            cumul.SetRange(max(lo, cumul.Min()), min(hi, cumul.Max()))
    for v1, v2, gap in instance.sequence:
        if v1 not in slots or v2 not in slots:
            solver.Add(time_dim.CumulVar(routing.End(v1)) + int(gap)
                       <= time_dim.CumulVar(routing.Start(v2)))

    # Tight schedules: leave as late as the route allows, then arrive and return early.
    for v in range(len(vehicles)):
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))
    for v in range(len(vehicles)):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))
    return _Model(manager, routing, time_dim, big_m, frozenset(mandatory))


def sequence_slots(instance: CoreInstance) -> dict[int, tuple[int, int]]:
    """Time slots that imply the ``sequence`` constraints of chained vehicles (drone sorties).

    A chain v1 -> v2 -> ... -> vk (each vehicle in at most one constraint on either side) shares
    its common shift [lo, hi] in k consecutive equal slots separated by the gaps; vehicle i starts
    and ends inside slot i, so ``end(v_i) + gap <= start(v_i+1)`` holds by construction. Why not
    the constraint itself: OR-Tools' insertion heuristics and local-search filters cannot see a
    constraint between two vehicles' cumuls, so on Tajima batches of 150+ orders every first
    solution failed when committed and the search returned the empty plan after the whole budget
    (benchmarks/README.md, Tajima scenarios); slots are plain cumul bounds that the filters check.
    The price is flexibility (at most one sortie per slot). Chains that do not fit (slots shorter
    than one time unit) and any other shape of ``sequence`` keep the generic constraint.
    """
    succ: dict[int, tuple[int, int]] = {}
    pred: dict[int, int] = {}
    for v1, v2, gap in instance.sequence:
        if v1 in succ or v2 in pred:
            return {}
        succ[v1], pred[v2] = (v2, int(gap)), v1
    horizon = _horizon(instance)
    windows = np.asarray(instance.windows)
    out: dict[int, tuple[int, int]] = {}
    for head in (v for v in succ if v not in pred):
        chain, gaps, seen = [head], [], {head}
        while chain[-1] in succ:
            nxt, gap = succ[chain[-1]]
            if nxt in seen:
                return {}
            chain.append(nxt)
            gaps.append(gap)
            seen.add(nxt)
        los, his = [], []
        for v in chain:
            veh = instance.vehicles[v]
            latest = horizon if veh.latest_end is None else min(veh.latest_end, horizon)
            los.append(max(veh.earliest_start, int(windows[veh.start, 0]), int(windows[veh.end, 0])))
            his.append(min(latest, int(windows[veh.start, 1]), int(windows[veh.end, 1])))
        lo, hi = max(los), min(his)
        length = (hi - lo - sum(gaps)) // len(chain)
        if length < 1:
            continue
        t = lo
        for i, v in enumerate(chain):
            out[v] = (t, t + length)
            t += length + (gaps[i] if i < len(gaps) else 0)
    return out


def _add_capacities(instance: CoreInstance, routing: pywrapcp.RoutingModel) -> None:
    demands = np.asarray(instance.demands, dtype=np.int64)
    for d in range(demands.shape[1]):
        column = demands[:, d]
        caps = [int(veh.capacities[d]) for veh in instance.vehicles]
        callback = routing.RegisterUnaryTransitVector(column.tolist())
        routing.AddDimensionWithVehicleCapacity(
            callback, 0, caps, not instance.initial_load_free, f"capacity{d}"
        )


# --------------------------------------------------------------------------------------------
# search


def auto_strategies(instance: CoreInstance) -> tuple[str, ...]:
    """First-solution strategies raced on ``instance`` (see :func:`_run_worker`), in order.

    Path cheapest arc and parallel cheapest insertion complement each other under guided local
    search (benchmarks/README.md): from path cheapest arc GLS ends 2 points closer to best-known
    on Solomon's long-route R2/RC2 instances, from parallel cheapest insertion it is far better on
    clustered ones (Gehring-Homberger C1/C2 with 400 customers: 0-4 % against 23-34 %). Neither
    ordering of the construction costs predicts which wins, so both are raced. Pickup and
    delivery pairs put the insertion heuristic first (it inserts a pair at once); every visit is
    optional behind a big penalty, so path cheapest arc always has a first solution.
    """
    if instance.pairs:
        return ("PARALLEL_CHEAPEST_INSERTION", "PATH_CHEAPEST_ARC")
    return ("PATH_CHEAPEST_ARC", "PARALLEL_CHEAPEST_INSERTION")


def _search_parameters(
    strategy: str, metaheuristic: str, time_limit_s: float, solution_limit: int | None
) -> object:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = _FIRST_SOLUTION.Value.Value(strategy)
    if metaheuristic == "ITERATED_LOCAL_SEARCH":
        # Ruin and recreate with SISR (Christiaens & Vanden Berghe 2020), the paper's settings.
        params.use_iterated_local_search = True
        params.local_search_metaheuristic = _METAHEURISTIC.Value.Value("GREEDY_DESCENT")
        ruin = params.iterated_local_search_parameters.ruin_recreate_parameters
        del ruin.ruin_strategies[:]
        sisr = ruin.ruin_strategies.add().sisr
        sisr.max_removed_sequence_size = 10
        sisr.avg_num_removed_visits = 10
        sisr.bypass_factor = 0.01
    else:
        params.local_search_metaheuristic = _METAHEURISTIC.Value.Value(metaheuristic)
    # Measured on Solomon at 10 s (benchmarks/README.md): shorter LNS sub-searches (default
    # 100 ms) leave more time to the metaheuristic, and GLS penalties per vehicle class help.
    params.lns_time_limit.FromMilliseconds(_LNS_TIME_LIMIT_MS)
    params.guided_local_search_penalize_with_vehicle_classes = True
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    if solution_limit is not None:
        params.solution_limit = solution_limit
    return params


def _decode(
    instance: CoreInstance, model: _Model, assignment: object, strategy: str, started: float
) -> CoreResult:
    routing, manager, time_dim = model.routing, model.manager, model.time
    routes, starts, ends, arrival = [], [], [], {}
    served: set[int] = set()
    for v in range(len(instance.vehicles)):
        index = routing.Start(v)
        starts.append(assignment.Value(time_dim.CumulVar(index)))
        route = []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            route.append(node)
            arrival[node] = assignment.Value(time_dim.CumulVar(index))
            index = assignment.Value(routing.NextVar(index))
        ends.append(assignment.Value(time_dim.CumulVar(index)))
        routes.append(tuple(route))
        served.update(route)
    terminals = _terminal_nodes(instance)
    unserved = tuple(i for i in range(instance.num_nodes) if i not in terminals and i not in served)
    dropped_mandatory = sum(1 for i in unserved if i in model.mandatory)
    return CoreResult(
        routes=tuple(routes),
        start_times=tuple(starts),
        arrival=arrival,
        end_times=tuple(ends),
        unserved=unserved,
        objective=int(assignment.ObjectiveValue()) - dropped_mandatory * model.big_m,
        feasible=dropped_mandatory == 0,
        runtime_s=time.perf_counter() - started,
        strategy=strategy,
    )


def _infeasible(instance: CoreInstance, strategy: str, started: float) -> CoreResult:
    terminals = _terminal_nodes(instance)
    return CoreResult(
        routes=tuple(() for _ in instance.vehicles),
        start_times=tuple(v.earliest_start for v in instance.vehicles),
        end_times=tuple(v.earliest_start for v in instance.vehicles),
        unserved=tuple(i for i in range(instance.num_nodes) if i not in terminals),
        feasible=False,
        runtime_s=time.perf_counter() - started,
        strategy=strategy,
    )



# --------------------------------------------------------------------------------------------
# ruin and recreate (SISR) on instances without pairs, sortie chains or range limits


def loaded_at_start(instance: CoreInstance) -> dict[int, tuple[int, int, int]]:
    """Pickup and delivery pairs whose pickup takes place where every vehicle that may carry it
    starts (a parcel a shuttle lands at the hub, goods released late at the depot): ``{delivery:
    (pickup, loading time, arc cost)}``; the other pairs are picked up on the way.

    Such a pair is a delivery loaded at the start: the route leaves after the pickup's window
    opens (its release) and after the loading time (the pickup's service), and it costs what the
    pickup's arcs add (``time_weight`` times their extra duration). The own search plans them so;
    it does not let a route come back to the start to load them later (OR-Tools can).
    """
    out: dict[int, tuple[int, int]] = {}
    n = instance.num_nodes
    service = np.asarray(instance.service, dtype=np.int64)
    demands = np.asarray(instance.demands, dtype=np.int64)
    windows = np.asarray(instance.windows, dtype=np.int64)
    horizon = _horizon(instance)
    others = np.ones(n, dtype=bool)
    for pickup, delivery in instance.pairs:
        p_dem, d_dem = demands[pickup], demands[delivery]
        if (d_dem > 0).any() or not ((p_dem == 0) | (p_dem == -d_dem)).all():
            continue
        if windows[pickup, 1] < horizon:
            continue
        vehicles = set(range(len(instance.vehicles)))
        for node in (pickup, delivery):
            if instance.allowed and instance.allowed[node] is not None:
                vehicles &= set(instance.allowed[node])
        loading, arc = set(), set()
        others[:] = True
        others[pickup] = False
        for v in vehicles:
            veh = instance.vehicles[v]
            dist = np.asarray(instance.distance[veh.profile])
            dur = np.asarray(instance.duration[veh.profile])
            if (dist[veh.start, pickup] or dur[veh.start, pickup] + service[veh.start]
                    or (dist[pickup, others] != dist[veh.start, others]).any()):
                loading.add(-1)  # not at this vehicle's start
                break
            extra = dur[pickup, others] - dur[veh.start, others]
            arc.update(np.unique(extra).tolist())
            loading.update(np.unique(extra + service[pickup] - service[veh.start]).tolist())
        if len(loading) > 1 or len(arc) > 1 or min(loading | arc, default=0) < 0:
            continue
        out[delivery] = (pickup, loading.pop() if loading else 0, arc.pop() if arc else 0)
    return out


def _on_the_way(instance: CoreInstance, start_loads: dict[int, tuple[int, int, int]]
                ) -> list[tuple[int, int]] | None:
    """The pairs not loaded at the start, or None when the own search cannot model one: a
    pickup that only adds and a delivery that only removes load, beside deliveries from the hub
    (a free start load), or, on vehicles that start empty, pickups only, and pairs whose
    delivery removes what the pickup added."""
    pairs = [(p, d) for p, d in instance.pairs if d not in start_loads]
    demands = np.asarray(instance.demands)
    for p, d in pairs:
        if (demands[p] < 0).any() or (demands[d] > 0).any() or (demands[p] + demands[d] > 0).any():
            return None
        if not instance.initial_load_free and (demands[p] + demands[d] != 0).any():
            return None
    return pairs


def sisr_applies(instance: CoreInstance) -> bool:
    """Whether :class:`_Sisr` can search ``instance``: pickup and delivery pairs loaded at the
    start (:func:`loaded_at_start`) or picked up on the way beside deliveries from the hub
    (:func:`_on_the_way`), sortie chains only when :func:`sequence_slots` turns every one into
    time slots, and the other loads of one sign (all pickups or all deliveries). Range limits,
    windows, releases, shifts, duration limits, fixed costs, allowed vehicles and optional
    visits are all modelled."""
    start_loads = loaded_at_start(instance)
    on_the_way = _on_the_way(instance, start_loads)
    if on_the_way is None:
        return False
    if instance.sequence:
        slots = sequence_slots(instance)
        if any(v not in slots for v1, v2, _ in instance.sequence for v in (v1, v2)):
            return False
    demands = np.asarray(instance.demands)
    mask = np.ones(instance.num_nodes, dtype=bool)
    for delivery, (pickup, *_) in start_loads.items():
        mask[[delivery, pickup]] = False
    for pickup, delivery in on_the_way:
        mask[[delivery, pickup]] = False
    signed = demands[mask] <= 0 if instance.initial_load_free else demands[mask] >= 0
    return bool(signed.all())


class _Sisr:
    """Slack induction by string removals (Christiaens & Vanden Berghe 2020) with simulated
    annealing, for the instances of :func:`sisr_applies` (kernels in :mod:`routing.sisr`).

    Why beside OR-Tools: guided local search cycles among a few solutions well above best-known on
    long-route and capacity-tight instances (benchmarks/README.md), while ruin-and-recreate keeps
    moving. Pairs loaded at the start become deliveries with a release and a loading time (their
    pickups are put back at the head of the route in :meth:`result`); chained sorties are slots
    with their own shift (:func:`sequence_slots`).
    """

    def __init__(self, instance: CoreInstance, seed: int, reload: bool = False) -> None:
        """``reload``: every pair picked up on the way, even where vehicles start (a route may
        come back to the depot for the next trip's goods: multi-trip)."""
        self.seed = seed
        n = instance.num_nodes
        vehicles = instance.vehicles
        horizon = _horizon(instance)
        windows = np.asarray(instance.windows, dtype=np.int64)
        service = np.asarray(instance.service, dtype=np.int64)
        profiles = range(len(instance.distance))
        terminals = _terminal_nodes(instance)
        slots = sequence_slots(instance)
        self.start_loads = {} if reload else loaded_at_start(instance)
        on_the_way = _on_the_way(instance, self.start_loads)
        assert on_the_way is not None, "sisr_applies() first"
        pickups = {p for p, *_ in self.start_loads.values()}
        shift = []
        for v, veh in enumerate(vehicles):
            latest = horizon if veh.latest_end is None else min(veh.latest_end, horizon)
            s, e = windows[veh.start], windows[veh.end]
            lo, hi = slots.get(v, (0, latest))
            shift.append((max(veh.earliest_start, s[0], lo), min(latest, s[1], hi),
                          max(veh.earliest_start, e[0], lo), min(latest, e[1], hi)))
        allowed = np.ones((n, len(vehicles)), dtype=np.bool_)
        for node, ok in enumerate(instance.allowed):
            if ok is not None:
                allowed[node] = False
                allowed[node, list(ok)] = True
        penalty = np.full(n, -1, dtype=np.int64)
        for node, pen in enumerate(instance.penalty):
            if pen is not None:
                penalty[node] = pen
        release = np.zeros(n, dtype=np.int64)
        loading = np.zeros(n, dtype=np.int64)
        cost = np.stack([_arc_cost(instance, p) for p in profiles])
        for delivery, (pickup, wait, arc) in self.start_loads.items():
            allowed[delivery] &= allowed[pickup]
            both = penalty[[pickup, delivery]]
            penalty[delivery] = -1 if (both < 0).any() else both.sum()
            release[delivery] = windows[pickup, 0]
            loading[delivery] = wait
            column = cost[:, :, delivery]
            column[column < UNREACHABLE] += instance.time_weight * arc
        demands = np.asarray(instance.demands, dtype=np.int64)
        at_start, change = np.abs(demands), -np.abs(demands)
        mate = np.full(n, -1, dtype=np.int64)
        if not instance.initial_load_free:  # vehicles start empty: what is not paired is collected
            at_start[:], change[:] = 0, np.abs(demands)
        for pickup, delivery in on_the_way:
            mate[pickup], mate[delivery] = delivery, pickup
            at_start[pickup], change[pickup] = 0, demands[pickup]
            at_start[delivery] = -(demands[pickup] + demands[delivery])
            change[delivery] = demands[delivery]
        self.fleet = sisr.Fleet(
            visits=np.array([i for i in range(n) if i not in terminals and i not in pickups],
                            dtype=np.int64),
            cost=cost,
            travel=np.stack([np.where(_forbidden(instance, p), UNREACHABLE,
                                      np.asarray(instance.duration[p], dtype=np.int64)
                                      + service[:, None]) for p in profiles]),
            early=windows[:, 0].copy(), late=np.minimum(windows[:, 1], horizon),
            load=np.abs(np.asarray(instance.demands, dtype=np.int64)),
            start=np.array([veh.start for veh in vehicles], dtype=np.int64),
            end=np.array([veh.end for veh in vehicles], dtype=np.int64),
            profile=np.array([veh.profile for veh in vehicles], dtype=np.int64),
            capacity=np.array([veh.capacities for veh in vehicles], dtype=np.int64).reshape(
                len(vehicles), -1),
            fixed=np.array([veh.fixed_cost for veh in vehicles], dtype=np.int64),
            shift=np.array(shift, dtype=np.int64),
            max_duration=np.array([sisr.NO_LIMIT if veh.max_duration is None else veh.max_duration
                                   for veh in vehicles], dtype=np.int64),
            allowed=allowed, penalty=penalty, release=release, loading=loading,
            distance=np.stack([np.minimum(np.asarray(instance.distance[p], dtype=np.int64),
                                          UNREACHABLE) for p in profiles]),
            max_distance=np.array([sisr.NO_LIMIT if veh.max_distance is None
                                   else veh.max_distance for veh in vehicles], dtype=np.int64),
            at_start=at_start, change=change, mate=mate,
        )

    def search(self, deadline: float,
               iterations: int | None = None) -> tuple[list[list[int]], int] | None:
        """Search from nothing until ``deadline`` (or for ``iterations``): the best routes (one
        per vehicle) and their cost, or None when a mandatory visit fits no vehicle."""
        return sisr.search(self.fleet, deadline, self.seed, iterations)

    def result(self, routes: list[list[int]], label: str, started: float) -> CoreResult:
        """``routes`` (one per vehicle) as a :class:`CoreResult`: each vehicle leaves as late as
        it can without coming back later, every service starts as early as it can; the pickups
        loaded at the start head their routes, one after the other from the start time."""
        fleet = self.fleet
        starts, ends, arrival, out = [], [], {}, []
        cost = 0
        for r, route in enumerate(routes):
            p = int(fleet.profile[r])
            path = [int(fleet.start[r]), *route, int(fleet.end[r])]
            if route:
                cost += int(fleet.fixed[r]) + sum(int(fleet.cost[p, a, b])
                                                  for a, b in itertools.pairwise(path))
            times = sisr.schedule(fleet, r, route)
            arrival.update(zip(route, times.arrival, strict=True))
            loaded = [c for c in route if c in self.start_loads]
            t = times.depart - sum(self.start_loads[c][1] for c in loaded)
            starts.append(t)
            for c in loaded:
                pickup, wait, _ = self.start_loads[c]
                arrival[pickup] = t
                t += wait
            out.append(tuple([self.start_loads[c][0] for c in loaded] + [int(c) for c in route]))
            ends.append(times.back)
        unserved = tuple(int(i) for i in fleet.visits if int(i) not in arrival)
        cost += sum(int(fleet.penalty[i]) for i in unserved)
        feasible = all(fleet.penalty[i] >= 0 for i in unserved)
        unserved += tuple(self.start_loads[i][0] for i in unserved if i in self.start_loads)
        return CoreResult(
            routes=tuple(out), start_times=tuple(starts),
            arrival=arrival, end_times=tuple(ends), unserved=tuple(sorted(unserved)),
            objective=cost, feasible=feasible,
            runtime_s=time.perf_counter() - started, strategy=label,
        )


def _run_worker(
    instance: CoreInstance,
    strategies: tuple[str, ...],
    metaheuristic: str,
    deadline: float,
    solution_limit: int | None,
    seed: int,
    worker: int = 0,
    iterations: int | None = None,
    engine: str = "auto",
) -> tuple[int, CoreResult]:
    """Build the model, race the starts, improve the best; returns (rank key, result).

    With several starts, each first runs the metaheuristic for :data:`_RACE_SHARE` of the budget
    (GLS after a few seconds predicts GLS at the end far better than the cost of a construction
    does); the best solution of the race is then improved until ``deadline``. ``deadline`` is a
    ``time.time()`` instant so that the start-up of a worker process counts against the budget.
    On the instances of :func:`sisr_applies` (unless only a ``solution_limit`` is set)
    :class:`_Sisr` searches alone from nothing, for ``iterations`` when set, seeded
    ``seed + worker`` so that parallel workers explore differently; OR-Tools runs only when
    greedy insertion cannot fit the customers into the fleet.
    """
    started = time.perf_counter()
    own = engine == "auto" and (solution_limit is None or iterations is not None)
    if own and sisr_applies(instance):
        search = _Sisr(instance, seed + worker)
        found = search.search(deadline - 0.05, iterations)
        if found is None and search.start_loads and _on_the_way(instance, {}) is not None:
            # No room with one trip per vehicle: let routes come back to the depot to reload.
            search = _Sisr(instance, seed + worker, reload=True)
            found = search.search(deadline - 0.05, iterations)
        if found is not None:
            routes, cost = found
            return (cost, search.result(routes, "SISR", started))
        # Greedy insertion found no room in the fleet: OR-Tools with the rest of the budget.
    model = _build(instance)
    routing = model.routing
    routing.solver().ReSeed(seed)
    budget = max(0.05, deadline - time.time())
    best, best_cost, chosen = None, None, strategies[0]
    if len(strategies) > 1:
        for strategy in strategies:
            share = max(0.05, min(_RACE_SHARE * budget, deadline - time.time()))
            params = _search_parameters(strategy, metaheuristic, share, solution_limit)
            found = routing.SolveWithParameters(params)
            if found is not None and (best_cost is None or found.ObjectiveValue() < best_cost):
                best, best_cost, chosen = (routing.solver().Assignment(found),
                                           found.ObjectiveValue(), strategy)
    params = _search_parameters(chosen, metaheuristic, max(0.05, deadline - time.time()),
                                solution_limit)
    if best is None:
        assignment = routing.SolveWithParameters(params)
    else:
        improved = routing.SolveFromAssignmentWithParameters(best, params)
        assignment = best if improved is None or improved.ObjectiveValue() > best_cost else improved
    label = f"{chosen}+{metaheuristic}"
    if assignment is None:
        return (2**62, _infeasible(instance, label, started))
    result = _decode(instance, model, assignment, label, started)
    return (int(assignment.ObjectiveValue()), result)


def solve_core(instance: CoreInstance, params: CoreParams) -> CoreResult:
    """Solve ``instance`` within ``params.time_limit_s`` wall-clock seconds.

    Parameters
    ----------
    instance
        The matrix-level problem (validated here; a ``ValueError`` names the first bad field).
    params
        Budget, seed, solution limit, starts, metaheuristic and number of worker processes.

    Returns
    -------
    CoreResult
        The best result over all workers (lowest objective, ties to the earlier start).
    """
    started = time.perf_counter()
    validate_instance(instance)
    if params.engine == "auto" and sisr_applies(instance):
        sisr.warm_up()  # the kernels' cache, loaded outside the budget (once per process)
    deadline = time.time() + params.time_limit_s
    strategies: list[str] = []
    for name in params.first_solution:
        for s in (auto_strategies(instance) if name == "auto" else (name,)):
            if s not in strategies:
                strategies.append(s)
    workers = min(params.workers, len(strategies))
    groups = [tuple(strategies[w::workers]) for w in range(workers)]
    args = [(instance, g, params.metaheuristic, deadline, params.solution_limit, params.seed, w,
             params.iterations, params.engine) for w, g in enumerate(groups)]
    if workers == 1:
        outcomes = [_run_worker(*args[0])]
    else:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers - 1, mp_context=context) as pool:
            futures = [pool.submit(_run_worker, *a) for a in args[1:]]
            outcomes = [_run_worker(*args[0])] + [f.result() for f in futures]
    best_index = min(range(len(outcomes)), key=lambda i: (outcomes[i][0], i))
    return dataclasses.replace(outcomes[best_index][1], runtime_s=time.perf_counter() - started)
