"""The matrix-level solver on tiny instances whose optimum can be checked by hand.

Most instances put nodes on a line, so that the distance between i and j is |x_i - x_j| and every
expected route, cost and time can be worked out on paper.
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import sisr
from routing.core import (
    UNREACHABLE,
    CoreInstance,
    CoreParams,
    CoreResult,
    CoreVehicle,
    _Sisr,
    auto_strategies,
    sequence_slots,
    sisr_applies,
    solve_core,
)

FAST = CoreParams(time_limit_s=2.0, solution_limit=200)


def line(*xs: int) -> np.ndarray:
    """Distance matrix of points on a line at positions ``xs``."""
    x = np.array(xs, dtype=np.int64)
    return np.abs(x[:, None] - x[None, :])


def instance(dist: np.ndarray, vehicles: list[CoreVehicle], **kwargs: object) -> CoreInstance:
    """An instance with duration = distance, no service, open windows and no demand by default."""
    n = len(dist)
    defaults: dict[str, object] = {
        "distance": (dist,),
        "duration": (dist,),
        "service": np.zeros(n, dtype=np.int64),
        "demands": np.zeros((n, 0), dtype=np.int64),
        "windows": np.tile([0, 1000], (n, 1)),
        "vehicles": tuple(vehicles),
    }
    defaults.update(kwargs)
    return CoreInstance(**defaults)  # type: ignore[arg-type]


def test_single_vehicle_tour_reaches_the_far_end_once() -> None:
    # Any tour that goes out to x=3 and back without a detour costs 6.
    result = solve_core(instance(line(0, 3, 1, 2), [CoreVehicle(0, 0)]), FAST)
    assert result.feasible
    assert sorted(result.routes[0]) == [1, 2, 3]
    assert result.objective == 6
    assert result.unserved == ()


def test_time_windows_reverse_the_cheapest_order_and_times_are_reported() -> None:
    # Without windows 0 -> 1 (x=2) -> 2 (x=4) -> 0. Node 2 must be served before 5, node 1 after 10.
    windows = np.array([[0, 100], [10, 20], [0, 5]])
    service = np.array([0, 3, 2])
    result = solve_core(
        instance(line(0, 2, 4), [CoreVehicle(0, 0)], windows=windows, service=service), FAST
    )
    assert result.routes[0] == (2, 1)
    # Node 2 (x=4) by 5, 2 units of service, 2 units back to node 1 (x=2), served from 10 for 3.
    assert result.arrival[1] >= 10
    assert result.arrival[2] <= 5
    assert result.arrival[1] >= result.arrival[2] + 2 + 2
    assert result.end_times[0] == result.arrival[1] + 3 + 2
    assert result.objective == 8


def test_vehicle_leaves_as_late_as_its_route_allows() -> None:
    windows = np.array([[0, 1000], [50, 60]])
    result = solve_core(instance(line(0, 10), [CoreVehicle(0, 0)], windows=windows), FAST)
    assert result.start_times[0] == 50  # arrives at 60, the window's close: no waiting
    assert result.arrival[1] == 60
    assert result.end_times[0] == 70


def test_shift_start_delays_every_arrival() -> None:
    result = solve_core(
        instance(line(0, 10), [CoreVehicle(0, 0, earliest_start=100)], windows=np.tile([0, 1000], (2, 1))),
        FAST,
    )
    assert result.arrival[1] >= 110
    assert result.start_times[0] >= 100


def test_latest_end_makes_a_far_node_undeliverable() -> None:
    inst = instance(
        line(0, 10, 100), [CoreVehicle(0, 0, latest_end=50)], penalty=(None, None, 7)
    )
    result = solve_core(inst, FAST)
    assert result.feasible
    assert result.routes[0] == (1,)
    assert result.unserved == (2,)
    assert result.objective == 20 + 7


def test_capacity_splits_the_load_over_two_vehicles() -> None:
    demands = np.array([[0], [6], [6]])
    vehicles = [CoreVehicle(0, 0, capacities=(10,)), CoreVehicle(0, 0, capacities=(10,))]
    result = solve_core(instance(line(0, 5, 6), vehicles, demands=demands), FAST)
    assert result.feasible
    assert sorted(len(r) for r in result.routes) == [1, 1]
    assert result.objective == 10 + 12


def test_negative_demand_needs_initial_load_free() -> None:
    # Node 1 receives 4 units loaded at the depot (negative demand, no pickup node).
    demands = np.array([[0], [-4]])
    vehicles = [CoreVehicle(0, 0, capacities=(5,))]
    base = instance(line(0, 3), vehicles, demands=demands)
    assert not solve_core(base, FAST).feasible
    free = instance(line(0, 3), vehicles, demands=demands, initial_load_free=True)
    result = solve_core(free, FAST)
    assert result.feasible
    assert result.routes[0] == (1,)


def test_max_distance_forces_a_second_vehicle() -> None:
    # One vehicle would do 0 -> 1 -> 2 -> 0 = 40; a range of 25 allows one node per vehicle.
    dist = line(0, 10, -10)
    unlimited = [CoreVehicle(0, 0, fixed_cost=100), CoreVehicle(0, 0, fixed_cost=100)]
    result = solve_core(instance(dist, unlimited), FAST)
    assert sum(1 for r in result.routes if r) == 1 and result.objective == 40 + 100
    limited = [CoreVehicle(0, 0, fixed_cost=100, max_distance=25)] * 2
    result = solve_core(instance(dist, limited), FAST)
    assert result.feasible
    assert len(result.routes[0]) == 1 and len(result.routes[1]) == 1
    assert result.objective == 40 + 200


def test_max_duration_bounds_the_route_span() -> None:
    service = np.array([0, 30, 30])
    vehicles = [CoreVehicle(0, 0, max_duration=60), CoreVehicle(0, 0, max_duration=60)]
    result = solve_core(instance(line(0, 5, 6), vehicles, service=service), FAST)
    assert result.feasible
    assert sorted(len(r) for r in result.routes) == [1, 1]
    for v in range(2):
        assert result.end_times[v] - result.start_times[v] <= 60


def test_fixed_cost_reduces_the_number_of_vehicles_used() -> None:
    # Going 1 -> 2 directly costs 10, through the depot 2: without a fixed cost two vehicles win.
    dist = np.array([[0, 1, 1], [1, 0, 10], [1, 10, 0]])
    free = solve_core(instance(dist, [CoreVehicle(0, 0), CoreVehicle(0, 0)]), FAST)
    assert sum(1 for r in free.routes if r) == 2 and free.objective == 4
    paid = [CoreVehicle(0, 0, fixed_cost=100), CoreVehicle(0, 0, fixed_cost=100)]
    result = solve_core(instance(dist, paid), FAST)
    assert sum(1 for r in result.routes if r) == 1
    assert result.objective == 12 + 100


def test_allowed_vehicles_are_respected_even_when_costlier() -> None:
    # Vehicle 1 (profile 1) travels at twice the cost; node 2 may only go with it, and then taking
    # node 1 along (2 * 10 = 20) beats splitting (8 + 2 * 10 = 28).
    dist = line(0, 4, 5)
    vehicles = [CoreVehicle(0, 0, profile=0), CoreVehicle(0, 0, profile=1)]
    kwargs = {"distance": (dist, 2 * dist), "duration": (dist, dist)}
    free = solve_core(instance(dist, vehicles, **kwargs), FAST)
    assert free.routes[1] == () and free.objective == 10
    result = solve_core(instance(dist, vehicles, allowed=(None, None, (1,)), **kwargs), FAST)
    assert result.feasible
    assert result.routes[0] == () and sorted(result.routes[1]) == [1, 2]
    assert result.objective == 20


def test_a_node_no_vehicle_may_visit_is_unserved() -> None:
    inst = instance(line(0, 4, 5), [CoreVehicle(0, 0)], allowed=(None, None, ()))
    result = solve_core(inst, FAST)
    assert not result.feasible and result.unserved == (2,)


def test_pickup_precedes_its_delivery_on_the_same_vehicle() -> None:
    # Delivery (node 1, x=2) lies before the pickup (node 2, x=5): alone, the order would be 1, 2
    # either way round a line, so windows-free the pair decides: pickup 2 first, then 1.
    dist = line(0, 2, 5)
    demands = np.array([[0], [-1], [1]])
    vehicles = [CoreVehicle(0, 0, capacities=(1,)), CoreVehicle(0, 0, capacities=(1,))]
    inst = instance(dist, vehicles, demands=demands, pairs=((2, 1),))
    result = solve_core(inst, FAST)
    assert result.feasible
    route = next(r for r in result.routes if r)
    assert route == (2, 1)
    assert result.arrival[2] < result.arrival[1]


def test_sequence_gap_chains_two_vehicles() -> None:
    # Two sorties of one drone, as vehicles 0 and 1; node 1 only on sortie 0, node 2 on sortie 1.
    dist = line(0, 10, 20)
    vehicles = [CoreVehicle(0, 0), CoreVehicle(0, 0)]
    inst = instance(dist, vehicles, allowed=(None, (0,), (1,)), sequence=((0, 1, 15),))
    result = solve_core(inst, FAST)
    assert result.feasible
    assert result.routes == ((1,), (2,))
    assert result.start_times[1] >= result.end_times[0] + 15
    assert result.arrival[2] >= 20 + 15 + 20


def test_chained_sorties_get_disjoint_slots_that_imply_the_gaps() -> None:
    # Three sorties of one drone over [0, 1000] with a turnaround of 40: three slots of 306.
    vehicles = [CoreVehicle(0, 0), CoreVehicle(0, 0), CoreVehicle(0, 0), CoreVehicle(0, 0)]
    inst = instance(line(0, 10, 20), vehicles, sequence=((0, 1, 40), (1, 2, 40)))
    slots = sequence_slots(inst)
    assert sorted(slots) == [0, 1, 2]  # vehicle 3 is not chained
    assert slots[0][0] == 0 and slots[2][1] <= 1000
    for v1, v2, gap in inst.sequence:
        assert slots[v1][1] + gap <= slots[v2][0]
    # A vehicle with two successors is no chain: the generic constraint is kept instead.
    assert sequence_slots(instance(line(0, 10, 20), vehicles, sequence=((0, 1, 5), (0, 2, 5)))) == {}


def test_a_chain_of_sorties_serves_everything_with_the_gaps_respected() -> None:
    # One drop per sortie (capacity 1 of one unit each), four sorties, three drops.
    n = 4
    vehicles = [CoreVehicle(0, 0, capacities=(1,)) for _ in range(4)]
    demands = np.array([[0], [-1], [-1], [-1]])
    inst = instance(line(0, 10, 20, 30), vehicles, demands=demands, initial_load_free=True,
                    windows=np.tile([0, 1000], (n, 1)),
                    sequence=((0, 1, 15), (1, 2, 15), (2, 3, 15)))
    result = solve_core(inst, FAST)
    assert result.feasible and result.unserved == ()
    assert sorted(node for r in result.routes for node in r) == [1, 2, 3]
    for v1, v2, gap in inst.sequence:
        if result.routes[v1] and result.routes[v2]:
            assert result.start_times[v2] >= result.end_times[v1] + gap


def test_infeasible_optional_node_is_dropped_and_mandatory_one_reported() -> None:
    windows = np.array([[0, 100], [0, 100], [0, 3]])  # node 2 at x=10 cannot be reached by 3
    optional = instance(line(0, 1, 10), [CoreVehicle(0, 0)], windows=windows, penalty=(None, None, 50))
    result = solve_core(optional, FAST)
    assert result.feasible and result.unserved == (2,)
    assert result.objective == 2 + 50
    mandatory = instance(line(0, 1, 10), [CoreVehicle(0, 0)], windows=windows)
    result = solve_core(mandatory, FAST)
    assert not result.feasible
    assert result.unserved == (2,)
    assert result.routes == ((1,),)


def test_a_cheap_penalty_makes_dropping_worthwhile() -> None:
    inst = instance(line(0, 1, 50), [CoreVehicle(0, 0)], penalty=(None, 10, 30))
    result = solve_core(inst, FAST)
    assert result.routes[0] == (1,)
    assert result.unserved == (2,)
    assert result.objective == 2 + 30


def test_unreachable_arc_is_never_used() -> None:
    dist = line(0, 1, 2)
    dist[1, 2] = UNREACHABLE  # the only cheap order 0 -> 1 -> 2 -> 0 is forbidden
    result = solve_core(instance(dist, [CoreVehicle(0, 0)]), FAST)
    assert result.feasible
    assert result.routes[0] == (2, 1)
    assert result.objective == 4


def test_time_weight_adds_duration_to_the_arc_cost() -> None:
    dist = line(0, 1, 2)
    dur = 3 * dist
    inst = instance(dist, [CoreVehicle(0, 0)], duration=(dur,), distance_weight=2, time_weight=5)
    assert solve_core(inst, FAST).objective == 2 * 4 + 5 * 12


def test_distinct_start_and_end_places() -> None:
    # Start at x=0 (node 0), end at x=10 (node 3): visit 1 (x=4) and 2 (x=7) on the way.
    inst = instance(line(0, 4, 7, 10), [CoreVehicle(0, 3)])
    result = solve_core(inst, FAST)
    assert result.routes == ((1, 2),)
    assert result.objective == 10


def random_instance(n: int, seed: int) -> CoreInstance:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, size=(n, 2))
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    demands = rng.integers(1, 10, size=(n, 1))
    demands[0] = 0
    opens = rng.integers(0, 300, size=n)
    windows = np.stack([opens, opens + 120], axis=1)
    windows[0] = [0, 1000]
    vehicles = tuple(CoreVehicle(0, 0, capacities=(40,)) for _ in range(8))
    return CoreInstance(
        distance=(dist,), duration=(dist,), service=np.full(n, 5), demands=demands,
        windows=windows, vehicles=vehicles,
    )


def test_a_solution_limit_makes_runs_repeatable() -> None:
    inst = random_instance(30, seed=1)
    params = CoreParams(time_limit_s=30, solution_limit=60, seed=3)
    first, second = solve_core(inst, params), solve_core(inst, params)
    assert first.feasible
    assert first.routes == second.routes
    assert first.objective == second.objective
    assert first.arrival == second.arrival


def test_parallel_workers_return_the_best_start() -> None:
    inst = random_instance(25, seed=2)
    starts = ("PATH_CHEAPEST_ARC", "PARALLEL_CHEAPEST_INSERTION")
    params = CoreParams(time_limit_s=30, solution_limit=50, first_solution=starts, workers=2)
    result = solve_core(inst, params)
    singles = [
        solve_core(inst, CoreParams(time_limit_s=30, solution_limit=50, first_solution=(s,)))
        for s in starts
    ]
    assert result.feasible
    assert result.objective == min(s.objective for s in singles)
    assert result.strategy.split("+")[0] in starts


def test_auto_races_path_cheapest_arc_and_insertion_with_pairs_first_to_insertion() -> None:
    inst = random_instance(10, seed=0)
    assert auto_strategies(inst) == ("PATH_CHEAPEST_ARC", "PARALLEL_CHEAPEST_INSERTION")
    paired = CoreInstance(**{**inst.__dict__, "pairs": ((1, 2),)})
    assert auto_strategies(paired)[0] == "PARALLEL_CHEAPEST_INSERTION"


def route_cost_and_violations(inst: CoreInstance, routes: list[list[int]]) -> tuple[int, list[str]]:
    """Independent re-check of plain-instance routes: capacity, windows, depot close, arc cost."""
    dist, dur = inst.distance[0], inst.duration[0]
    service, windows, cap = inst.service, inst.windows, inst.vehicles[0].capacities[0]
    cost, bad = 0, []
    for route in routes:
        if sum(int(inst.demands[i][0]) for i in route) > cap:
            bad.append(f"route {route} over capacity")
        t, prev = int(windows[0][0]), 0
        for node in [*route, 0]:
            cost += int(dist[prev][node])
            t = max(t + int(service[prev]) + int(dur[prev][node]), int(windows[node][0]))
            if t > windows[node][1]:
                bad.append(f"node {node} at {t} after {windows[node][1]}")
            prev = node
    return cost, bad


def test_ruin_and_recreate_applies_unless_pairs_leave_the_start_or_loads_mix() -> None:
    inst = random_instance(12, seed=5)
    assert sisr_applies(inst)
    for change in ({"penalty": (None, 50, *([None] * 10))},
                   {"allowed": (None, (0,), *([None] * 10))},
                   {"vehicles": (CoreVehicle(0, 0, capacities=(40,), fixed_cost=5),) * 8},
                   {"sequence": ((0, 1, 0),)},
                   {"vehicles": (CoreVehicle(0, 0, capacities=(40,), max_distance=500),) * 8}):
        assert sisr_applies(CoreInstance(**{**inst.__dict__, **change}))
    mixed = np.asarray(inst.demands).copy()
    mixed[3] = -mixed[3]
    for change in ({"pairs": ((1, 2),)}, {"demands": mixed}):
        assert not sisr_applies(CoreInstance(**{**inst.__dict__, **change}))


def test_ruin_and_recreate_beats_one_route_per_customer_and_stays_feasible() -> None:
    inst = CoreInstance(**{**random_instance(40, seed=6).__dict__,
                           "vehicles": (CoreVehicle(0, 0, capacities=(40,)),) * 39})
    alone_cost, alone_bad = route_cost_and_violations(inst, [[c] for c in range(1, 40)])
    assert not alone_bad  # every customer alone is feasible
    found = _Sisr(inst, seed=0).search(time.time() + 1.0)
    assert found is not None
    routes, cost = found
    assert len(routes) == 39  # one per vehicle, unused ones empty
    assert sorted(c for r in routes for c in r) == list(range(1, 40))
    assert route_cost_and_violations(inst, routes) == (cost, [])
    assert cost < alone_cost
    assert sum(1 for r in routes if r) < 39


def test_ruin_and_recreate_builds_a_solution_from_nothing_or_says_it_cannot() -> None:
    inst = random_instance(40, seed=8)
    found = _Sisr(inst, seed=0).search(time.time() + 0.5)
    assert found is not None
    routes, cost = found
    assert sorted(c for r in routes for c in r) == list(range(1, 40))
    assert route_cost_and_violations(inst, routes) == (cost, [])
    one_vehicle = CoreInstance(**{**inst.__dict__, "vehicles": inst.vehicles[:1]})
    assert _Sisr(one_vehicle, seed=0).search(time.time() + 0.5) is None  # 40 capacity for ~200


def test_a_timed_solve_without_visits_returns_idle_vehicles() -> None:
    """A batch whose orders were all cancelled still gets a (empty) plan, not an error."""
    inst = CoreInstance(
        distance=(line(0, 5),), duration=(line(0, 5),), service=np.zeros(2, dtype=np.int64),
        demands=np.zeros((2, 1), dtype=np.int64), windows=np.array([[0, 100], [0, 100]]),
        vehicles=(CoreVehicle(0, 1, capacities=(5,)),),
    )
    result = solve_core(inst, CoreParams(time_limit_s=0.5))
    assert (result.routes, result.unserved, result.objective, result.feasible) == (((),), (), 0, True)


def test_a_timed_solve_of_a_plain_instance_is_feasible_and_costed_right() -> None:
    inst = random_instance(40, seed=7)
    result = solve_core(inst, CoreParams(time_limit_s=2.0, seed=1))
    assert result.feasible
    routes = [list(r) for r in result.routes if r]
    assert sorted(c for r in routes for c in r) == list(range(1, 40))
    recomputed, bad = route_cost_and_violations(inst, routes)
    assert bad == []
    assert result.objective == recomputed
    for route, begin in zip(result.routes, result.start_times, strict=True):
        if route:
            assert result.arrival[route[0]] >= begin + int(inst.duration[0][0][route[0]])


@pytest.mark.parametrize("metaheuristic", ["TABU_SEARCH", "ITERATED_LOCAL_SEARCH", "GREEDY_DESCENT"])
def test_every_metaheuristic_returns_a_feasible_plan(metaheuristic: str) -> None:
    inst = random_instance(20, seed=4)
    params = CoreParams(time_limit_s=5, solution_limit=100, metaheuristic=metaheuristic)
    result = solve_core(inst, params)
    assert result.feasible
    assert sorted(n for r in result.routes for n in r) == list(range(1, 20))
    assert result.strategy.endswith(metaheuristic)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"solution_limit": 0}, "solution_limit"),
        ({"first_solution": ("FASTEST",)}, "FASTEST"),
        ({"first_solution": "auto"}, "tuple"),
        ({"metaheuristic": "MAGIC"}, "MAGIC"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
        ({"iterations": 0}, "iterations"),
    ],
)
def test_params_are_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CoreParams(**kwargs)  # type: ignore[arg-type]


def test_inconsistent_instance_names_the_problem() -> None:
    with pytest.raises(ValueError, match="vehicle 0 has 0 capacities for 1 demand columns"):
        solve_core(instance(line(0, 1), [CoreVehicle(0, 0)], demands=np.zeros((2, 1))), FAST)
    with pytest.raises(ValueError, match="node 1 has a window that closes before it opens"):
        solve_core(
            instance(line(0, 1), [CoreVehicle(0, 0)], windows=np.array([[0, 9], [5, 4]])), FAST
        )
    with pytest.raises(ValueError, match="vehicle 0: its shift"):
        solve_core(instance(line(0, 1), [CoreVehicle(0, 0, earliest_start=2000)]), FAST)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 25))
def test_ruin_and_recreate_keeps_routes_feasible_without_the_triangle_inequality(
    seed: int, n: int
) -> None:
    """Removing a customer can make a route late when travel times are not metric (DIMACS
    truncation, road matrices); the compiled search must reject such ruins, never return them."""
    rng = np.random.default_rng(seed)
    dist = rng.integers(1, 60, size=(n, n))
    dur = rng.integers(1, 60, size=(n, n))
    np.fill_diagonal(dist, 0)
    np.fill_diagonal(dur, 0)
    opens = rng.integers(0, 150, size=n)
    windows = np.stack([opens, np.maximum(opens, dur[0]) + rng.integers(0, 80, size=n)], axis=1)
    windows[0] = [0, 10_000]
    demands = rng.integers(0, 4, size=(n, 2))
    demands[0] = 0
    service = rng.integers(0, 10, size=n)
    service[0] = 0
    inst = CoreInstance(
        distance=(dist,), duration=(dur,), service=service, demands=demands,
        windows=windows, vehicles=(CoreVehicle(0, 0, capacities=(6, 5)),) * n,
    )
    found = _Sisr(inst, seed=seed).search(time.time() + 0.05)
    assert found is not None  # every customer fits a vehicle of its own
    routes, cost = found
    assert sorted(c for r in routes for c in r) == list(range(1, n))
    assert route_cost_and_violations(inst, routes) == (cost, [])
    assert all(sum(int(demands[c][1]) for c in r) <= 5 for r in routes)


def check_result(inst: CoreInstance, result: CoreResult) -> list[str]:
    """Independent re-check of a CoreResult against every constraint SISR models: allowed
    vehicles, capacities, windows, shifts, route durations, each visit once or left out when
    optional, and the objective (arcs, fixed costs, drop penalties)."""
    bad, cost, seen = [], 0, []
    service, windows = np.asarray(inst.service), np.asarray(inst.windows)
    for v, (veh, route) in enumerate(zip(inst.vehicles, result.routes, strict=True)):
        dist, dur = np.asarray(inst.distance[veh.profile]), np.asarray(inst.duration[veh.profile])
        seen += route
        if not route:
            continue
        cost += veh.fixed_cost
        load = np.abs(np.asarray(inst.demands)[list(route)]).sum(axis=0)
        if (load > np.asarray(veh.capacities)).any():
            bad.append(f"vehicle {v} carries {load.tolist()} > {veh.capacities}")
        t, prev = result.start_times[v], veh.start
        if t < max(veh.earliest_start, windows[veh.start][0]) or t > windows[veh.start][1]:
            bad.append(f"vehicle {v} leaves at {t}")
        for node in route:
            allowed = inst.allowed[node] if inst.allowed else None
            if allowed is not None and v not in allowed:
                bad.append(f"node {node} on vehicle {v}, allowed {allowed}")
            cost += inst.distance_weight * int(dist[prev][node]) + inst.time_weight * int(dur[prev][node])
            at = result.arrival[node]
            if at < t + service[prev] + dur[prev][node] or not windows[node][0] <= at <= windows[node][1]:
                bad.append(f"node {node} served at {at}")
            t, prev = at, node
        cost += inst.distance_weight * int(dist[prev][veh.end]) + inst.time_weight * int(dur[prev][veh.end])
        end = result.end_times[v]
        latest = min(windows[veh.end][1], veh.latest_end if veh.latest_end is not None else 10**9)
        if end < t + service[prev] + dur[prev][veh.end] or end > latest:
            bad.append(f"vehicle {v} back at {end} (latest {latest})")
        if veh.max_duration is not None and end - result.start_times[v] > veh.max_duration:
            bad.append(f"vehicle {v} out {end - result.start_times[v]} > {veh.max_duration}")
    terminals = {x for veh in inst.vehicles for x in (veh.start, veh.end)}
    visits = [i for i in range(inst.num_nodes) if i not in terminals]
    if sorted(seen + list(result.unserved)) != visits:
        bad.append(f"visits {sorted(seen)} + unserved {sorted(result.unserved)} != {visits}")
    for node in result.unserved:
        if inst.penalty[node] is None:
            bad.append(f"mandatory node {node} left out")
        else:
            cost += inst.penalty[node]
    if cost != result.objective:
        bad.append(f"objective {result.objective} != recomputed {cost}")
    return bad


def rich_instance(seed: int, n: int, n_vehicles: int) -> CoreInstance:
    """Two terminals (a hub and a home), two travel profiles, vehicles with their own start,
    end, shift, duration limit, fixed cost and capacities; optional deliveries with windows,
    penalties and allowed vehicles."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, size=(n, 2))
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    opens = rng.integers(0, 200, size=n)
    windows = np.stack([opens, opens + rng.integers(20, 200, size=n)], axis=1)
    windows[:2] = [0, 600]
    demands = -rng.integers(1, 6, size=(n, 2))
    demands[:2] = 0
    vehicles = []
    trip = 2 * int(dist[0, 1]) + 8  # hub <-> home on the slow profile: even an unused vehicle
    for v in range(n_vehicles):    # makes it in OR-Tools' model
        begin = int(rng.integers(0, 100))
        vehicles.append(CoreVehicle(  # the first goes hub -> home: both nodes are terminals
            start=0 if v == 0 else int(rng.integers(0, 2)), end=1 if v == 0 else int(rng.integers(0, 2)),
            profile=int(rng.integers(0, 2)),
            capacities=(int(rng.integers(8, 25)), int(rng.integers(5, 15))),
            fixed_cost=int(rng.integers(0, 200)), earliest_start=begin,
            latest_end=begin + trip + int(rng.integers(150, 500)),
            max_duration=None if rng.random() < 0.4 else trip + int(rng.integers(80, 300)),
        ))
    allowed = tuple(None if i < 2 or rng.random() < 0.6 else
                    tuple(int(v) for v in np.flatnonzero(rng.random(n_vehicles) < 0.5))
                    for i in range(n))
    penalty = tuple(None if i < 2 else int(rng.integers(50, 400)) for i in range(n))
    return CoreInstance(
        distance=(dist, dist), duration=(dist, 2 * dist), service=rng.integers(0, 8, size=n),
        demands=demands, windows=windows, vehicles=tuple(vehicles), allowed=allowed,
        penalty=penalty, time_weight=1, initial_load_free=True,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 30), n_vehicles=st.integers(1, 6))
def test_ruin_and_recreate_respects_every_rich_constraint(seed: int, n: int, n_vehicles: int) -> None:
    inst = rich_instance(seed, n, n_vehicles)
    assert sisr_applies(inst)
    search = _Sisr(inst, seed=seed)
    found = search.search(time.time() + 0.05)
    assert found is not None  # every visit is optional
    routes, cost = found
    result = search.result(routes, "SISR", time.perf_counter())
    assert result.objective == cost
    assert result.feasible
    assert check_result(inst, result) == []


def test_a_timed_solve_of_a_rich_batch_runs_ruin_and_recreate_and_checks_out() -> None:
    """Fixed costs, optional visits, mixed vehicles: the timed solve is SISR's; the checker above
    also accepts OR-Tools' plan of the same batch (the deterministic path, a solution limit)."""
    inst = rich_instance(11, 60, 6)
    timed = solve_core(inst, CoreParams(time_limit_s=1.0, seed=0))
    assert timed.strategy == "SISR"
    assert timed.feasible
    assert check_result(inst, timed) == []
    reference = solve_core(inst, CoreParams(time_limit_s=1.0, solution_limit=200))
    assert reference.strategy.endswith("GUIDED_LOCAL_SEARCH")
    assert check_result(inst, reference) == []


def test_an_iteration_limit_makes_ruin_and_recreate_repeatable() -> None:
    """The deterministic mode of the own search: the same seed and iterations, the same plan,
    whatever the clock says; another seed explores differently but checks out as well."""
    sisr.warm_up()  # compiled once per process (``make`` does it): not part of the runtime below
    inst = rich_instance(5, 40, 5)
    params = CoreParams(time_limit_s=30, seed=4, iterations=3000, solution_limit=10)
    first, second = solve_core(inst, params), solve_core(inst, params)
    assert first.strategy == "SISR"
    assert (first.routes, first.objective, first.arrival) == (
        second.routes, second.objective, second.arrival)
    assert first.runtime_s < 10  # it stopped at the iteration limit, not the time limit
    assert check_result(inst, first) == []
    other = solve_core(inst, CoreParams(time_limit_s=30, seed=5, iterations=3000))
    assert check_result(inst, other) == []


def check_rich(inst: CoreInstance, result: CoreResult) -> list[str]:
    """:func:`check_result` plus what the product's batches add: pickup and delivery pairs (same
    vehicle, pickup first, load profile from a free start load), range limits and sortie
    chains (end of v1 + gap <= start of v2)."""
    demands = np.asarray(inst.demands)
    pickup_of = {d: p for p, d in inst.pairs}
    paired = {p for p, _ in inst.pairs} | set(pickup_of)
    single = dataclasses.replace(
        inst, pairs=(), demands=np.where(np.isin(np.arange(inst.num_nodes), list(paired))[:, None],
                                         0, demands))
    bad = check_result(single, result)
    for v, (veh, route) in enumerate(zip(inst.vehicles, result.routes, strict=True)):
        from_start = [c for c in route if demands[c].sum() < 0 and pickup_of.get(c) not in route]
        loads = [-demands[from_start].sum(axis=0)]
        for c in route:
            loads.append(loads[-1] + demands[c])
            if c in pickup_of and (pickup_of[c] not in route
                                   or route.index(pickup_of[c]) > route.index(c)):
                bad.append(f"delivery {c} without its pickup before it on vehicle {v}")
        if any((x > np.asarray(veh.capacities)).any() or (x < 0).any() for x in loads):
            bad.append(f"vehicle {v} load profile {[x.tolist() for x in loads]}")
        if veh.max_distance is not None and route:
            dist = np.asarray(inst.distance[veh.profile])
            path = [veh.start, *route, veh.end]
            metres = sum(int(dist[a, b]) for a, b in itertools.pairwise(path))
            if metres > veh.max_distance:
                bad.append(f"vehicle {v} drives {metres} > range {veh.max_distance}")
    for v1, v2, gap in inst.sequence:
        if result.end_times[v1] + gap > result.start_times[v2]:
            bad.append(f"vehicle {v2} starts before vehicle {v1} is back + {gap}")
    return bad


def product_like_instance(seed: int, n: int, n_vehicles: int) -> CoreInstance:
    """:func:`rich_instance` with what a Tajima batch adds: some deliveries paired with a pickup
    at the hub (a shuttle's parcels) released late, with a loading time, on vehicles that start
    at the hub; a range limit on some vehicles; the last two vehicles chained (a drone's
    sorties) with a turnaround."""
    rng = np.random.default_rng(seed)
    base = rich_instance(seed, n, n_vehicles)
    deliveries = list(range(2, n))
    paired = [int(d) for d in rng.choice(deliveries, size=len(deliveries) // 3, replace=False)]
    m = n + len(paired)
    index = np.r_[np.arange(n), np.zeros(len(paired), dtype=np.int64)]  # pickups sit at the hub
    dist = np.asarray(base.distance[0])[np.ix_(index, index)]
    service = np.r_[np.asarray(base.service), rng.integers(0, 8, size=len(paired))]
    service[:2] = 0
    windows = np.r_[np.asarray(base.windows), np.zeros((len(paired), 2), dtype=np.int64)]
    windows[n:, 0] = rng.integers(0, 300, size=len(paired))
    windows[n:, 1] = 600
    demands = np.r_[np.asarray(base.demands), -np.asarray(base.demands)[paired]]
    vehicles = [dataclasses.replace(veh, max_distance=None if rng.random() < 0.5 else
                                    int(rng.integers(150, 400))) for veh in base.vehicles]
    sequence: tuple[tuple[int, int, int], ...] = ()
    if n_vehicles >= 3:
        a, b = vehicles[-2], vehicles[-1]
        vehicles[-1] = dataclasses.replace(b, start=a.start, end=a.end, profile=a.profile,
                                           earliest_start=a.earliest_start,
                                           latest_end=a.latest_end)
        sequence = ((n_vehicles - 2, n_vehicles - 1, int(rng.integers(0, 30))),)
    at_hub = tuple(v for v, veh in enumerate(vehicles) if veh.start == 0)
    allowed = list(base.allowed) + [at_hub] * len(paired)
    for d in paired:
        allowed[d] = at_hub
    return CoreInstance(
        distance=(dist, dist), duration=(dist, 2 * dist), service=service, demands=demands,
        windows=windows, vehicles=tuple(vehicles), allowed=tuple(allowed),
        penalty=tuple(list(base.penalty) + [int(x) for x in rng.integers(0, 100, size=len(paired))]),
        pairs=tuple((n + k, d) for k, d in enumerate(paired)), sequence=sequence,
        time_weight=1, initial_load_free=True, horizon=None if m else 0,
    )


def with_supply_pickups(inst: CoreInstance, seed: int) -> CoreInstance:
    """``inst`` with a few more deliveries whose parcel is picked up on the way, at the place
    of another visit (a supply point): pickup first, same vehicle, load carried in between."""
    rng = np.random.default_rng(seed + 1)
    n = inst.num_nodes
    k = int(rng.integers(1, 4))
    places = rng.integers(2, n, size=2 * k) if n > 2 else np.zeros(2 * k, dtype=np.int64)
    index = np.r_[np.arange(n), places]
    dist = np.asarray(inst.distance[0])[np.ix_(index, index)]
    grams = rng.integers(1, 6, size=(k, np.asarray(inst.demands).shape[1]))
    demands = np.r_[np.asarray(inst.demands), grams, -grams]
    opens = rng.integers(0, 250, size=2 * k)
    windows = np.r_[np.asarray(inst.windows), np.stack([opens, opens + 300], axis=1)]
    allowed = list(inst.allowed) + [None] * (2 * k)
    penalty = list(inst.penalty) + [int(x) for x in rng.integers(50, 300, size=2 * k)]
    return dataclasses.replace(
        inst, distance=(dist, dist), duration=(dist, 2 * dist),
        service=np.r_[np.asarray(inst.service), rng.integers(0, 8, size=2 * k)],
        demands=demands, windows=windows, allowed=tuple(allowed), penalty=tuple(penalty),
        pairs=(*inst.pairs, *((n + i, n + k + i) for i in range(k))),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 30), n_vehicles=st.integers(1, 6),
       supply=st.booleans(), reload=st.booleans())
def test_ruin_and_recreate_plans_releases_hub_pickups_ranges_and_chains(
        seed: int, n: int, n_vehicles: int, supply: bool, reload: bool) -> None:
    """``reload``: the hub's pickups anywhere on the route (a courier back at the hub for the
    shuttle's parcels), not only at its head."""
    inst = product_like_instance(seed, n, n_vehicles)
    if supply:
        inst = with_supply_pickups(inst, seed)
    assert sisr_applies(inst)
    search = _Sisr(inst, seed=seed, reload=reload)
    found = search.search(time.time() + 0.05)
    assert found is not None
    result = search.result(*found[:1], "SISR", time.perf_counter())
    assert result.objective == found[1]
    assert check_rich(inst, result) == []


def test_a_late_shuttle_parcel_delays_the_route_and_heads_it() -> None:
    """Hub 0, homes 1..3 on a line; the parcel for home 3 lands at the hub (pickup node 4) at
    t=50: the courier loads it (5 s) and leaves at 55 at the earliest; the own search plans it
    (the same cost as OR-Tools' plan), the pickup first on the route."""
    dist = line(0, 10, 20, 30, 0)
    inst = instance(dist, [CoreVehicle(0, 0, capacities=(5,))], service=np.array([0, 0, 0, 0, 5]),
                    demands=np.array([[0], [-1], [-1], [-1], [1]]), pairs=((4, 3),),
                    windows=np.array([[0, 1000], [0, 1000], [0, 1000], [0, 1000], [50, 1000]]),
                    initial_load_free=True)
    own = solve_core(inst, CoreParams(time_limit_s=1, iterations=500))
    reference = solve_core(inst, CoreParams(time_limit_s=1, engine="ortools"))
    assert own.strategy == "SISR"
    assert own.routes[0][0] == 4 and sorted(own.routes[0]) == [1, 2, 3, 4]
    assert own.start_times[0] == own.arrival[4] == 50
    assert min(own.arrival[c] for c in (1, 2, 3)) >= 55 + 10
    assert own.objective == reference.objective == 60
    assert check_rich(inst, own) == []
