"""Plan repair on the tiny region, by hand: timing, removal, insertion, edits.

Legs of the tiny region (``tests/routing/tiny.py``; every road ``local``): by car at 30 km/h a
metre takes 0.12 s, by bicycle at 12 km/h 0.3 s. Along the main road hub (0) - r1 (800) - r2
(2500); r3 is 1200 m up the branch at 1000; r5 at -1800. Every order has 60 s of service.
"""

from __future__ import annotations

import dataclasses

import pytest

from routing import DRONE, Problem, Route, Solution, Vehicle, repair, validate
from routing.repair import RepairError, RoadLegs
from tests.routing.tiny import HOUR, tiny_drone, tiny_problem

CAR_S_PER_M = 0.12
BIKE_S_PER_M = 0.3


def vehicle(problem: Problem, vehicle_id: str) -> Vehicle:
    return next(v for v in problem.vehicles if v.id == vehicle_id)


def courier_route(problem: Problem, vehicle_id: str, order_ids: list[str], depart: int = 0,
                  legs: RoadLegs | None = None) -> Route:
    """The courier's route delivering ``order_ids`` in this order (parcels loaded at the hub)."""
    v = vehicle(problem, vehicle_id)
    stops = [st for o in order_ids for st in repair.stops_for(problem, (), v, o)]
    return repair.time_route(problem, v, stops, depart, legs=legs)


def visits(route: Route) -> list[str]:
    return [st.order_id for st in route.stops]


def with_window(problem: Problem, order_id: str, window: tuple[int, int]) -> Problem:
    orders = tuple(dataclasses.replace(o, window=window) if o.id == order_id else o for o in problem.orders)
    return dataclasses.replace(problem, orders=orders)


# --- timing ----------------------------------------------------------------------------------


def test_schedule_waits_for_an_opening_and_counts_service() -> None:
    visits_, end = repair.schedule(100, [50, 30, 20], [0, 400], [60, 60])
    # Stop 1 at 150, served at once until 210; stop 2 reached at 240, waits for 400, leaves 460.
    assert visits_ == [(150, 150, 210), (240, 400, 460)]
    assert end == 480


def test_schedule_refuses_legs_that_do_not_match_the_stops() -> None:
    with pytest.raises(ValueError, match="2 stops need 3 legs and 2 service times, not 2 and 2"):
        repair.schedule(0, [1, 2], [0, 0], [0, 0])


def test_a_route_waits_at_the_door_for_the_window_to_open() -> None:
    problem = with_window(tiny_problem(), "r1", (600, 4 * HOUR))
    route = courier_route(problem, "car1", ["r1"])
    (stop,) = route.stops
    # 800 m by car: 96 s there, wait until 600, 60 s service, 96 s back.
    assert (stop.arrival, stop.start, stop.departure) == (96, 600, 660)
    assert (route.start, route.end) == (0, 756)
    assert (stop.distance_m, route.end_distance_m) == (800, 800)
    # The parcel was loaded at the hub and is handed over at the door.
    assert (route.start_load_kg, route.start_parcels) == (2.0, 1)
    assert (stop.load_kg, stop.load_parcels) == (0.0, 0)


def test_a_route_never_leaves_before_the_shift_starts() -> None:
    base = tiny_problem()
    late_shift = tuple(dataclasses.replace(v, shift_start=1000) for v in base.vehicles)
    problem = dataclasses.replace(base, vehicles=late_shift)
    assert courier_route(problem, "car1", ["r1"], depart=0).start == 1000
    assert courier_route(problem, "car1", ["r1"], depart=2000).start == 2000


def test_a_route_needs_a_stop() -> None:
    problem = tiny_problem()
    with pytest.raises(RepairError, match="courier 'car1': a route needs at least one stop"):
        repair.time_route(problem, vehicle(problem, "car1"), [])


def test_retiming_a_solved_route_changes_nothing(tiny_solution: tuple[Problem, Solution]) -> None:
    # The solver's decoding and time_route share one timing rule (repair.schedule).
    problem, solution = tiny_solution
    for route in (r for r in solution.routes if r.mode != DRONE):
        assert repair.retime(problem, route) == route


# --- removing --------------------------------------------------------------------------------


def test_removing_an_order_shortens_the_route() -> None:
    problem = tiny_problem()
    route = courier_route(problem, "car1", ["r1", "r2"])
    # 800 + 1700 + 2500 m: 96 + 60 + 204 + 60 + 300 s.
    assert route.end == 720
    (shorter,) = repair.remove_orders(problem, [route], {"r2"})
    assert visits(shorter) == ["r1"]
    assert shorter.end == 96 + 60 + 96
    assert shorter.distance_m == 1600
    assert repair.remove_orders(problem, [route], {"r1", "r2"}) == []


def test_removing_an_order_drops_its_sortie_and_renumbers_the_drones() -> None:
    problem = tiny_problem(drones=(tiny_drone(),))
    car = courier_route(problem, "car1", ["r1"])

    def sortie(number: int, order_id: str, start: int) -> Route:
        drop = dataclasses.replace(car.stops[0], order_id=order_id)
        return Route(vehicle_id="d1", mode=DRONE, kind="direct", start_place="hub", end_place="hub",
                     start=start, end=start + 600, stops=(drop,), sortie=number)

    routes = [car, sortie(1, "r2", 0), sortie(2, "r3", 900)]
    kept = repair.remove_orders(problem, routes, {"r2"})
    assert kept[0] is car  # untouched
    assert [(r.sortie, visits(r)) for r in kept[1:]] == [(1, ["r3"])]


def test_dropping_an_order_takes_it_out_of_the_problem() -> None:
    problem = tiny_problem()
    solution = Solution(routes=(courier_route(problem, "car1", ["r1", "r2"]),))
    smaller, edited = repair.drop_orders(problem, solution, {"r2"})
    assert [o.id for o in smaller.orders] == ["r1", "r3", "r4", "r5"]
    assert [visits(r) for r in edited.routes] == [["r1"]]
    assert edited.km_by_mode == {"car": 1.6}


# --- operator edits --------------------------------------------------------------------------


def test_reorder_visits_the_deliveries_in_the_new_order() -> None:
    problem = tiny_problem()
    solution = Solution(routes=(courier_route(problem, "car1", ["r1", "r2"]),))
    (route,) = repair.reorder(problem, solution, "car1", ["r2", "r1"]).routes
    assert visits(route) == ["r2", "r1"]
    # 2500 m out (300 s), 1700 m back to r1 (204 s), 800 m home (96 s), two services.
    assert [st.arrival for st in route.stops] == [300, 564]
    assert route.end == 720
    with pytest.raises(RepairError, match=r"each order of the route once: \['r1', 'r2'\]"):
        repair.reorder(problem, solution, "car1", ["r1"])
    with pytest.raises(RepairError, match="courier bike1 has no route"):
        repair.reorder(problem, solution, "bike1", [])


def test_moving_an_order_puts_it_where_asked_and_retimes_both_routes() -> None:
    problem = tiny_problem()
    solution = Solution(routes=(courier_route(problem, "car1", ["r1", "r2"]),
                                courier_route(problem, "bike1", ["r5"])))
    moved = repair.move_order(problem, solution, "r1", "bike1", 0)
    car, bike = moved.routes
    assert (visits(car), visits(bike)) == (["r2"], ["r1", "r5"])
    assert car.end == 300 + 60 + 300
    # By bicycle: 800 m (240 s), 2600 m (780 s), 1800 m home (540 s), two services.
    assert bike.end == 240 + 60 + 780 + 60 + 540


# --- inserting -------------------------------------------------------------------------------


def test_insertion_takes_the_courier_it_costs_least() -> None:
    problem = tiny_problem()
    car, bike = courier_route(problem, "car1", ["r2"]), courier_route(problem, "bike1", ["r5"])
    # r1 lies on the car's way to r2: only its 60 s of service are added. By bicycle it is a
    # 1600 m detour from r5's road (480 s) plus the service.
    best = repair.cheapest_insertion(problem, [car, bike], "r1", now=0)
    assert best is not None and best.vehicle_id == "car1"
    assert best.duration_s - car.duration_s == 60
    assert visits(best) == ["r1", "r2"]  # on a tie, the earlier position
    other = repair.cheapest_insertion(problem, [car, bike], "r1", now=0, excluded={"car1"})
    assert other is not None and other.vehicle_id == "bike1"
    assert other.duration_s - bike.duration_s == 1600 * BIKE_S_PER_M + 60


def test_insertion_goes_after_the_last_handled_stop() -> None:
    problem = tiny_problem(vehicles=(tiny_problem().vehicles[0],))
    route = courier_route(problem, "car1", ["r2", "r1"])
    # r3 first or between r2 and r1 both add 2400 m; after r1 it adds 2800 m.
    first = repair.cheapest_insertion(problem, [route], "r3", now=0)
    assert first is not None and visits(first) == ["r3", "r2", "r1"]
    assert first.duration_s - route.duration_s == round(2400 * CAR_S_PER_M) + 60
    behind = repair.cheapest_insertion(problem, [route], "r3", now=0, handled={"r2"})
    assert behind is not None and visits(behind) == ["r2", "r3", "r1"]


def test_insertion_refuses_a_position_that_misses_a_window() -> None:
    problem = with_window(tiny_problem(vehicles=(tiny_problem().vehicles[0],)), "r1", (0, 100))
    route = courier_route(problem, "car1", ["r1"])  # at r1 at 96 s: just in time
    # r2 before r1 would bring the car to r1 at 300 + 60 + 204 s: too late; after it is fine.
    best = repair.cheapest_insertion(problem, [route], "r2", now=0)
    assert best is not None and visits(best) == ["r1", "r2"]
    assert repair.fits(problem, vehicle(problem, "car1"), best)
    late = repair.time_route(problem, vehicle(problem, "car1"), [*reversed(best.stops)], 0)
    assert not repair.fits(problem, vehicle(problem, "car1"), late)


def test_insertion_refuses_when_no_courier_can_take_the_order() -> None:
    problem = tiny_problem()
    routes = [courier_route(problem, "car1", ["r1"])]
    # r4 is at the end of a path closed to cars: only the bicycle reaches it.
    assert repair.cheapest_insertion(problem, routes, "r4", now=0, excluded={"bike1"}) is None
    # Nobody can be at r2 before 50 s (300 s by car).
    closed = with_window(problem, "r2", (0, 50))
    assert repair.cheapest_insertion(closed, routes, "r2", now=0) is None
    # Shifts over: no courier is left.
    assert repair.cheapest_insertion(problem, routes, "r2", now=4 * HOUR) is None


def test_an_idle_courier_gets_a_new_route_leaving_now() -> None:
    problem = tiny_problem(vehicles=(tiny_problem().vehicles[0],))
    best = repair.cheapest_insertion(problem, [], "r1", now=1000)
    assert best is not None and best.vehicle_id == "car1"
    assert (best.start, best.stops[0].arrival) == (1000, 1096)


def test_insert_orders_places_the_most_urgent_first_and_reports_the_rest() -> None:
    base = tiny_problem(vehicles=(tiny_problem().vehicles[1],))  # the bicycle: 8 kg
    orders = tuple(dataclasses.replace(o, priority=1) if o.id == "r5" else o for o in base.orders)
    problem = dataclasses.replace(base, orders=orders)
    route = courier_route(problem, "bike1", ["r1", "r2", "r3"])  # 6 kg on board
    done = repair.insert_orders(problem, [route], ["r4", "r5"], now=0)
    assert done.placed == {"r5": "bike1"}
    assert done.left == ("r4",)
    (bike,) = done.routes
    assert sorted(visits(bike)) == ["r1", "r2", "r3", "r5"]
    assert bike.start_load_kg == 8.0
    assert validate(problem, repair.with_routes(Solution(), done.routes)).violations == (
        "order 'r4' is neither delivered nor reported unserved",)
