"""Problem construction refuses malformed or impossible input with messages naming the culprit."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
import shapely

from routing import Drone, Order, Place, ProblemError, SolveParams, Vehicle, Zone, solve
from tests.routing.tiny import HOUR, ll, square, tiny_drone, tiny_problem


def messages(excinfo: pytest.ExceptionInfo[ProblemError]) -> str:
    return "\n".join(excinfo.value.problems)


def test_tiny_problem_is_valid_and_has_derived_data() -> None:
    p = tiny_problem()
    assert set(p.places) == {"hub"}
    assert p.horizon == 4 * HOUR
    assert p.iso(3600) == "2026-05-01T10:00:00+09:00"
    assert p.order("r3").home == ll(1000, 1200)


def test_hub_inside_a_no_fly_zone_is_refused() -> None:
    zone = Zone("airport", square(0, 300, 100), buffer_m=250)
    with pytest.raises(ProblemError) as exc:
        tiny_problem(zones=(zone,))
    assert "hub 'hub'" in messages(exc)
    assert "inside no-fly zone 'airport' (buffer 250 m)" in messages(exc)


def test_drone_base_inside_a_zone_is_refused_but_a_supply_point_without_drones_is_not() -> None:
    post = Place("post", *ll(2000, 2000))
    zone = Zone("event", shapely.Point(*ll(2000, 2000)), buffer_m=300)
    tiny_problem(supply_points=(post,), zones=(zone,))  # no drone there: fine
    drone = dataclasses.replace(tiny_drone(), base="post")
    with pytest.raises(ProblemError) as exc:
        tiny_problem(supply_points=(post,), zones=(zone,), drones=(drone,))
    assert "drone base 'post'" in messages(exc) and "zone 'event'" in messages(exc)


def test_window_closing_before_every_shift_opens_is_refused() -> None:
    base = tiny_problem()
    vehicles = tuple(dataclasses.replace(v, shift_start=2 * HOUR) for v in base.vehicles)
    orders = (dataclasses.replace(base.orders[0], window=(0, HOUR)), *base.orders[1:])
    with pytest.raises(ProblemError) as exc:
        tiny_problem(vehicles=vehicles, orders=orders)
    assert messages(exc) == (
        "order 'r1': time window closes at 2026-05-01T10:00:00+09:00, before every shift opens "
        "(earliest 2026-05-01T11:00:00+09:00)"
    )


def test_parcel_heavier_than_every_vehicle_is_refused() -> None:
    base = tiny_problem()
    orders = (dataclasses.replace(base.orders[1], weight_kg=31.0), *base.orders[2:])
    with pytest.raises(ProblemError) as exc:
        tiny_problem(orders=orders)
    assert messages(exc) == (
        "order 'r2': weight 31 kg is heavier than every vehicle that may carry it "
        "(largest capacity 30 kg)"
    )


def test_every_problem_is_listed_not_just_the_first() -> None:
    base = tiny_problem()
    bad_vehicle = Vehicle("car2", "tractor", 10, 1, 0, 100, "depot", "hub")
    bad_order = Order("r1", -1, ll(0, 0), (10, 5), "hub", priority=7, modes=frozenset({"boat"}))
    with pytest.raises(ProblemError) as exc:
        tiny_problem(vehicles=(*base.vehicles, bad_vehicle), orders=(*base.orders, bad_order))
    text = messages(exc)
    for part in (
        "order 'r1': duplicate id",
        "vehicle 'car2': mode 'tractor' is not one of walk, bicycle, car",
        "vehicle 'car2': start place 'depot' does not exist",
        "order 'r1': weight_kg -1 must be >= 0",
        "order 'r1': window (10, 5) closes before it opens",
        "order 'r1': priority 7 must be 1, 2 or 3",
        "order 'r1': unknown modes ['boat']",
    ):
        assert part in text


def test_crs_timezone_and_t0_are_checked() -> None:
    with pytest.raises(ProblemError, match="crs: CRS 'EPSG:4326' is not a projected CRS"):
        tiny_problem(crs="EPSG:4326")
    with pytest.raises(ProblemError, match="timezone: unknown time zone 'Mars/Olympus'"):
        tiny_problem(timezone="Mars/Olympus")
    with pytest.raises(ProblemError, match="must be a timezone-aware datetime"):
        tiny_problem(t0=datetime(2026, 5, 1, 9))


def test_points_outside_the_crs_area_are_refused() -> None:
    base = tiny_problem()
    far = dataclasses.replace(base.orders[0], home=(-70.0, -33.0))
    with pytest.raises(ProblemError, match=r"order 'r1' home: \(-70.0, -33.0\) lies outside"):
        tiny_problem(orders=(far, *base.orders[1:]))


def test_order_farther_than_the_snapping_distance_names_the_order() -> None:
    base = tiny_problem()
    lost = Order("lost", 1.0, ll(0, 800), (0, HOUR), "hub")
    p = tiny_problem(orders=(*base.orders, lost))
    with pytest.raises(ProblemError) as exc:
        solve(p, SolveParams(time_limit_s=1))
    assert messages(exc).startswith("order 'lost' home at (")
    assert "is 800 m from the nearest road (snapping limit 500 m)" in messages(exc)
    # A larger snapping distance accepts it.
    solution = solve(p, SolveParams(time_limit_s=1, snap_max_m=900))
    assert "lost" in solution.served


def test_drone_fields_are_checked() -> None:
    bad = Drone("d9", "nowhere", payload_kg=0, range_m=-1, cruise_mps=10, turnaround_s=-5,
                max_sorties=0)
    with pytest.raises(ProblemError) as exc:
        tiny_problem(drones=(bad,))
    text = messages(exc)
    for part in ("base place 'nowhere' does not exist", "payload_kg 0 must be > 0",
                 "range_m -1 must be > 0", "turnaround_s -5 must be >= 0",
                 "max_sorties 0 must be >= 1"):
        assert f"drone 'd9': {part}" in text
