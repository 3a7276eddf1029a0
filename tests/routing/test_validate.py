"""The validator catches injected violations (and accepts the solver's plans)."""

from __future__ import annotations

import dataclasses

import pytest

from routing import Problem, Route, Solution, Unserved, validate


def courier(solution: Solution, vid: str = "bike1") -> Route:
    return next(r for r in solution.routes if r.vehicle_id == vid)


def with_route(solution: Solution, old: Route, new: Route | None) -> Solution:
    routes = tuple(r for r in (new if r is old else r for r in solution.routes) if r is not None)
    return dataclasses.replace(solution, routes=routes)


@pytest.fixture
def plan(tiny_solution: tuple[Problem, Solution]) -> tuple[Problem, Solution]:
    problem, solution = tiny_solution
    assert validate(problem, solution).ok
    return problem, solution


def assert_caught(problem: Problem, solution: Solution, fragment: str) -> None:
    report = validate(problem, solution)
    assert not report.ok
    assert any(fragment in v for v in report.violations), str(report)


def test_overload_is_caught(plan: tuple[Problem, Solution]) -> None:
    problem, solution = plan
    route = next(r for r in solution.routes if r.mode != "drone" and len(r.stops) >= 2)
    vehicles = tuple(
        dataclasses.replace(v, capacity_kg=route.start_load_kg - 1) if v.id == route.vehicle_id
        else v
        for v in problem.vehicles
    )
    assert_caught(dataclasses.replace(problem, vehicles=vehicles), solution,
                  f"carries {route.start_load_kg:g} kg at the start, over the capacity")


def test_served_outside_the_window_is_caught(plan: tuple[Problem, Solution]) -> None:
    problem, solution = plan
    route = next(r for r in solution.routes if r.mode != "drone")
    last = route.stops[-1]
    late = dataclasses.replace(last, arrival=5 * 3600, start=5 * 3600, departure=5 * 3600 + 60)
    broken = with_route(solution, route, dataclasses.replace(
        route, stops=(*route.stops[:-1], late), end=route.end + 5 * 3600))
    assert_caught(problem, broken, f"serves order '{last.order_id}' at 2026-05-01T14:00:00+09:00, "
                                   "outside its window")
    assert_caught(problem, broken, "after the shift ends")


def test_arriving_faster_than_the_roads_allow_is_caught(plan: tuple[Problem, Solution]) -> None:
    problem, solution = plan
    route = next(r for r in solution.routes if r.mode != "drone")
    first = route.stops[0]
    rushed = dataclasses.replace(first, arrival=route.start + 1, start=route.start + 1)
    broken = with_route(solution, route, dataclasses.replace(
        route, stops=(rushed, *route.stops[1:])))
    assert_caught(problem, broken, "but the leg takes")


def test_drone_leg_through_a_zone_is_caught(plan: tuple[Problem, Solution]) -> None:
    problem, solution = plan
    sortie = next(r for r in solution.routes if r.mode == "drone" and r.stops[0].via)
    straight = dataclasses.replace(
        sortie, stops=(dataclasses.replace(sortie.stops[0], via=()),), end_via=())
    broken = with_route(solution, sortie, straight)
    assert_caught(problem, broken, f"drone 'd1' sortie {sortie.sortie}: leg 1 flies through "
                                   "no-fly zone 'Z'")
    assert_caught(problem, broken, "leg 2 flies through no-fly zone 'Z'")


def test_sortie_over_range_and_payload_are_caught(plan: tuple[Problem, Solution]) -> None:
    problem, solution = plan
    drones = (dataclasses.replace(problem.drones[0], range_m=1000, payload_kg=1.0),)
    assert_caught(dataclasses.replace(problem, drones=drones), solution, "over the range 1000 m")
    assert_caught(dataclasses.replace(problem, drones=drones), solution,
                  "carries 2 kg at the start, over the capacity 1 kg")


def test_duplicate_missing_and_double_reported_orders_are_caught(
    plan: tuple[Problem, Solution],
) -> None:
    problem, solution = plan
    route = next(r for r in solution.routes if r.mode != "drone")
    first = route.stops[0]
    doubled = with_route(solution, route,
                         dataclasses.replace(route, stops=(*route.stops, route.stops[0])))
    assert_caught(problem, doubled, f"order '{first.order_id}' is delivered 2 times")
    missing = with_route(solution, route, dataclasses.replace(route, stops=route.stops[1:]))
    assert_caught(problem, missing,
                  f"order '{first.order_id}' is neither delivered nor reported unserved")
    both = dataclasses.replace(solution, unserved=(Unserved(first.order_id, "capacity"),))
    assert_caught(problem, both, f"order '{first.order_id}' is both delivered and reported")
    ghost = dataclasses.replace(solution, unserved=(Unserved("ghost", "zone"),))
    assert_caught(problem, ghost, "order 'ghost' appears in the plan but not in the problem")


def test_wrong_vehicle_mode_and_turnaround_are_caught(plan: tuple[Problem, Solution]) -> None:
    problem, solution = plan
    route = next(r for r in solution.routes if r.mode != "drone")
    car_only = tuple(
        dataclasses.replace(o, modes=frozenset({"walk"})) if o.id == route.stops[0].order_id
        else o
        for o in problem.orders
    )
    assert_caught(dataclasses.replace(problem, orders=car_only), solution,
                  f"order '{route.stops[0].order_id}' may not go by {route.mode}")
    sortie = next(r for r in solution.routes if r.mode == "drone")
    twin = dataclasses.replace(sortie, sortie=sortie.sortie + 1, start=sortie.end + 10,
                               end=sortie.end + 10 + sortie.duration_s, stops=())
    more = dataclasses.replace(solution, routes=(*solution.routes, twin))
    assert_caught(problem, more, "the turnaround is 300 s")


def test_report_reads_as_a_list(plan: tuple[Problem, Solution]) -> None:
    problem, solution = plan
    assert str(validate(problem, solution)) == "plan is valid"
    broken = dataclasses.replace(solution, unserved=(Unserved("ghost", "zone"),))
    assert str(validate(problem, broken)).startswith("- order 'ghost'")
