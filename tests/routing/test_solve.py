"""End-to-end planning on the tiny region: hand-checkable optimum, drones, shuttles, reasons."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from routing import Drone, Order, Place, Problem, Solution, SolveParams, solve, validate
from routing.travel import UNREACHABLE, RoadNetwork
from tests.routing.conftest import FAST
from tests.routing.tiny import HOUR, ll, tiny_drone, tiny_problem


def brute_force_cost(problem: Problem) -> int:
    """Optimal cost of a ground-only problem by enumerating every assignment and order of visits.

    Cost = volunteers called out * fixed cost + travel and service seconds (time weight 1);
    waiting is free, a route may not arrive after a window closes nor return after its shift.
    Travel comes from the road graph (the travel module); nothing of the model is used.
    """
    hub = problem.hub
    points = np.array([(hub.lon, hub.lat), *(o.home for o in problem.orders)])
    modes = sorted({v.mode for v in problem.vehicles})
    table = RoadNetwork(problem.roads, problem.crs).table(points, modes=modes)
    orders, vehicles = problem.orders, problem.vehicles

    def route_cost(v, seq: tuple[int, ...]) -> float:
        dur = table.duration[v.mode]
        t, cost, prev = v.shift_start, 0, 0
        for k in seq:
            o = orders[k]
            travel = dur[prev, k + 1]
            if travel >= UNREACHABLE:
                return math.inf
            t = max(t + travel, o.window[0])
            if t > o.window[1]:
                return math.inf
            t += o.service_s
            cost += travel + o.service_s
            prev = k + 1
        back = dur[prev, 0]
        if back >= UNREACHABLE or t + back > v.shift_end:
            return math.inf
        return cost + back

    best = math.inf
    for assign in itertools.product(range(len(vehicles)), repeat=len(orders)):
        total = 0.0
        for vi, v in enumerate(vehicles):
            mine = [k for k, a in enumerate(assign) if a == vi]
            if not mine:
                continue
            if (sum(orders[k].weight_kg for k in mine) > v.capacity_kg
                    or sum(orders[k].parcels for k in mine) > v.max_parcels):
                total = math.inf
                break
            total += problem.weights.volunteer_fixed + min(
                route_cost(v, perm) for perm in itertools.permutations(mine)
            )
        best = min(best, total)
    return int(best)


def test_tiny_plan_matches_the_brute_force_optimum() -> None:
    base = tiny_problem()
    # Tighter windows make the order of visits matter: r3 early, r5 late.
    windows = {"r3": (0, 900), "r5": (2400, 4 * HOUR)}
    orders = tuple(dataclasses.replace(o, window=windows.get(o.id, o.window)) for o in base.orders)
    problem = tiny_problem(orders=orders)
    optimum = brute_force_cost(problem)
    solution = solve(problem, SolveParams(time_limit_s=2.0))
    assert validate(problem, solution).ok
    assert not solution.unserved
    assert solution.cost.total == optimum
    assert solution.stats["objective"] == optimum
    # r4 lies at the end of a path closed to cars: only the bicycle can take it.
    bike = next(r for r in solution.routes if r.vehicle_id == "bike1")
    assert "r4" in {s.order_id for s in bike.stops}


def test_no_more_volunteers_than_needed() -> None:
    base = tiny_problem()
    orders = tuple(o for o in base.orders if o.id != "r4")  # everything left is car-reachable
    problem = tiny_problem(orders=orders)
    solution = solve(problem, FAST)
    assert [r.vehicle_id for r in solution.routes] == ["car1"]
    assert solution.cost.fixed == 1800
    assert solution.cost.total == brute_force_cost(problem)


def test_drone_takes_an_order_around_the_zone(tiny_solution: tuple[Problem, Solution]) -> None:
    problem, solution = tiny_solution
    assert validate(problem, solution).ok
    sorties = [r for r in solution.routes if r.mode == "drone"]
    assert sorties and all(r.kind == "direct" and r.sortie for r in sorties)
    r2 = next(r for r in sorties if r.stops[0].order_id == "r2")
    assert r2.stops[0].via, "the straight line to r2's drop point crosses zone Z"
    assert (r2.stops[0].lon, r2.stops[0].lat) == problem.order("r2").drop
    assert solution.km_by_mode["drone"] > 0


def test_unserved_orders_get_a_reason() -> None:
    base = tiny_problem()
    drone_only = frozenset({"drone"})
    extra = (
        Order("walker", 1.0, ll(800, 0), (0, 4 * HOUR), "hub", modes=frozenset({"walk"})),
        Order("early", 1.0, ll(2500, 0), (0, 60), "hub"),
        Order("far", 1.0, ll(12000, 0), (0, 4 * HOUR), "hub", drop=ll(12000, 0), modes=drone_only),
        Order("inzone", 1.0, ll(800, 0), (0, 4 * HOUR), "hub", drop=ll(1250, 310),
              modes=drone_only),
        Order("heavy1", 5.0, ll(-1000, 800), (0, 4 * HOUR), "hub", modes=frozenset({"bicycle"})),
        Order("heavy2", 5.0, ll(-1000, 790), (0, 4 * HOUR), "hub", modes=frozenset({"bicycle"})),
    )
    problem = tiny_problem(orders=(*base.orders[:3], *extra), drones=(tiny_drone(),),
                           vehicles=base.vehicles)
    solution = solve(problem, FAST)
    assert validate(problem, solution).ok
    reasons = {u.order_id: (u.reason, u.detail) for u in solution.unserved}
    assert reasons["walker"][0] == "no_eligible_vehicle"
    assert "no courier or drone of the allowed modes (walk)" in reasons["walker"][1]
    assert reasons["early"][0] == "time_window"
    assert reasons["far"] == ("range", "the sortie is 24.0 km, over drone 'd1' range 20 km")
    assert reasons["inzone"] == ("zone", "the drop point lies inside no-fly zone 'Z'")
    heavy = [o for o in ("heavy1", "heavy2") if o in reasons]
    assert len(heavy) == 1 and reasons[heavy[0]][0] == "capacity"
    assert solution.cost.unserved == 5 * 300_000


def test_detour_that_breaks_the_range_is_reported_as_range() -> None:
    base = tiny_problem()
    # Straight out and back to r2's drop point is 5142 m; the detour around Z makes it ~5184 m.
    drone = dataclasses.replace(tiny_drone(), range_m=5150)
    r2 = dataclasses.replace(base.orders[1], modes=frozenset({"drone"}))
    solution = solve(tiny_problem(orders=(r2,), drones=(drone,)), FAST)
    (u,) = solution.unserved
    assert u.reason == "range"
    assert u.detail.startswith("the detour around no-fly zones makes the sortie 5.2 km")


def shuttle_problem(with_drone: bool) -> Problem:
    base = tiny_problem()
    post = Place("post", *ll(-1800, 0))
    orders = list(base.orders)
    orders[0] = dataclasses.replace(orders[0], origin="post", window=(0, 4 * HOUR))
    orders[2] = dataclasses.replace(orders[2], origin="post", weight_kg=1.0)
    drones: tuple[Drone, ...] = ()
    if with_drone:
        drones = (dataclasses.replace(tiny_drone(), available_from=1800),)
    return tiny_problem(supply_points=(post,), orders=tuple(orders), drones=drones)


def test_shuttle_brings_supply_parcels_and_couriers_leave_only_after_landing() -> None:
    problem = shuttle_problem(with_drone=True)
    solution = solve(problem, FAST)
    assert validate(problem, solution).ok, str(validate(problem, solution))
    (shuttle,) = [r for r in solution.routes if r.kind == "shuttle"]
    assert shuttle.start >= 1800 and shuttle.sortie == 1
    assert [s.kind for s in shuttle.stops] == ["load", "load", "transfer", "transfer"]
    landing = {s.order_id: s.departure for s in shuttle.stops if s.kind == "transfer"}
    assert set(landing) == {"r1", "r3"}
    pickups = [
        s for r in solution.routes if r.mode != "drone" for s in r.stops if s.kind == "pickup"
    ]
    assert {s.order_id for s in pickups} == {"r1", "r3"}
    for s in pickups:
        assert s.place == "hub" and s.start >= landing[s.order_id]


def test_without_a_drone_supply_parcels_go_by_ground_pickup() -> None:
    problem = shuttle_problem(with_drone=False)
    solution = solve(problem, FAST)
    assert validate(problem, solution).ok
    pickups = {
        s.order_id: s.place
        for r in solution.routes for s in r.stops if s.kind == "pickup"
    }
    assert pickups == {"r1": "post", "r3": "post"}


def test_validator_catches_a_courier_leaving_before_the_shuttle_lands() -> None:
    problem = shuttle_problem(with_drone=True)
    solution = solve(problem, FAST)
    route = next(r for r in solution.routes if any(s.kind == "pickup" for s in r.stops))
    early = tuple(
        dataclasses.replace(s, arrival=0, start=0, departure=60) if s.kind == "pickup" else s
        for s in route.stops
    )
    broken = dataclasses.replace(
        solution,
        routes=tuple(dataclasses.replace(r, stops=early) if r is route else r
                     for r in solution.routes),
    )
    report = validate(problem, broken)
    assert any("before its shuttle lands" in v for v in report.violations), str(report)


def test_fixed_seed_and_solution_limit_give_the_same_plan() -> None:
    problem = shuttle_problem(with_drone=True)
    params = SolveParams(time_limit_s=5, seed=7, solution_limit=30)
    a, b = solve(problem, params), solve(problem, params)
    assert a.routes == b.routes and a.unserved == b.unserved and a.cost == b.cost


def test_problem_without_orders_or_vehicles_solves_to_nothing() -> None:
    solution = solve(tiny_problem(orders=()), FAST)
    assert solution.routes == () and solution.unserved == () and solution.cost.total == 0
    base = tiny_problem()
    nobody = solve(tiny_problem(vehicles=(), orders=base.orders[:1]), FAST)
    assert [u.reason for u in nobody.unserved] == ["no_eligible_vehicle"]


@pytest.mark.parametrize("bad", [{"time_limit_s": 0}, {"seed": -1}, {"workers": 0},
                                 {"snap_max_m": -5}, {"first_solution": ("NOPE",)},
                                 {"metaheuristic": "MAGIC"}, {"solution_limit": 0}])
def test_solve_params_are_validated(bad: dict[str, object]) -> None:
    from routing import ParamsError

    with pytest.raises(ParamsError):
        SolveParams(**bad)  # type: ignore[arg-type]


def test_a_drone_with_two_drops_serves_two_residents_in_one_sortie() -> None:
    drone = dataclasses.replace(tiny_drone(), max_drops=2, max_sorties=1)
    orders = (
        Order("a", 1.0, ll(800, 0), (0, 4 * HOUR), "hub", drop=ll(800, 200),
              modes=frozenset({"drone"})),
        Order("b", 1.5, ll(-1800, 0), (0, 4 * HOUR), "hub", drop=ll(-1800, 200),
              modes=frozenset({"drone"})),
    )
    problem = tiny_problem(vehicles=(), drones=(drone,), orders=orders)
    solution = solve(problem, FAST)
    assert validate(problem, solution).ok
    (sortie,) = solution.routes
    assert sorted(s.order_id for s in sortie.stops) == ["a", "b"]
    assert sortie.start_load_kg == 2.5
    one_drop = dataclasses.replace(drone, max_drops=1)
    solution = solve(tiny_problem(vehicles=(), drones=(one_drop,), orders=orders), FAST)
    assert len(solution.served) == 1 and len(solution.unserved) == 1
