"""Drone flight paths: straight when clear, the exact shortest detour around zones otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import Drone, Order, Place, Problem, Route, Solution, Stop, Zone, validate
from routing.geo import to_metric, to_wgs84
from routing.travel import DroneSpace
from tests.routing.tiny import CRS, ORIGIN, T0, ll, square


def xy(points: list[tuple[float, float]]) -> np.ndarray:
    return ORIGIN + np.array(points, dtype=float)


def enters(path_xy: np.ndarray, zone: shapely.Geometry) -> bool:
    """Interior or end points of the path meet the zone's interior (DE-9IM)."""
    m = shapely.LineString(path_xy).relate(zone)
    return m[0] != "F" or m[3] != "F"


def test_clear_segment_is_straight() -> None:
    space = DroneSpace([Zone("Z", square(0, 0, 100))], CRS)
    a, b = xy([(-300, 300), (300, 300)])
    assert space.path_xy(a, b).tolist() == [a.tolist(), b.tolist()]
    assert space.matrix_xy(np.array([a, b]))[0, 1] == pytest.approx(600)


def test_detour_around_a_square_zone_matches_the_hand_computed_length() -> None:
    # Square of side 200 m, no buffer; path vertices are pushed 1 m out (clearance), so the
    # detour runs from (-300, 0) to the corner (-101, 101), along the side to (101, 101) and on to
    # (300, 0): 2 * hypot(199, 101) + 202 m.
    space = DroneSpace([Zone("Z", square(0, 0, 100))], CRS, clearance_m=1.0)
    a, b = xy([(-300, 0), (300, 0)])
    expected = 2 * math.hypot(199, 101) + 202
    assert space.matrix_xy(np.array([a, b]))[0, 1] == pytest.approx(expected, abs=1e-6)
    path = space.path_xy(a, b)
    assert shapely.LineString(path).length == pytest.approx(expected, abs=1e-6)
    assert np.allclose(np.abs(path[1:-1] - ORIGIN), 101, atol=1e-6)


def test_detour_around_a_buffered_zone_is_within_half_a_percent_of_the_exact_one() -> None:
    zone = Zone("Z", square(0, 0, 100), buffer_m=50)
    space = DroneSpace([zone], CRS)
    a, b = xy([(-300, 0), (300, 0)])
    # Exact shortest path around the round-cornered buffer: half the perimeter of the convex
    # hull of the (finely buffered) zone with both end points, by symmetry.
    fine = shapely.Polygon(xy([(-100, -100), (100, -100), (100, 100), (-100, 100)])).buffer(
        50, quad_segs=256
    )
    exact = shapely.MultiPoint([a, b]).union(fine).convex_hull.length / 2
    got = space.matrix_xy(np.array([a, b]))[0, 1]
    assert exact <= got <= exact * 1.005
    assert not enters(space.path_xy(a, b), zone.buffered(CRS))


def test_points_inside_a_zone_are_unreachable() -> None:
    space = DroneSpace([Zone("Z", square(0, 0, 100), buffer_m=20)], CRS)
    pts = xy([(0, 0), (500, 0), (110, 0)])
    m = space.matrix_xy(pts)
    assert np.isinf(m[0, 1]) and np.isinf(m[1, 2])
    assert space.inside(pts) == ["Z", None, "Z"]
    assert space.path_xy(pts[0], pts[1]) is None


def test_matrix_agrees_with_leg_paths_between_many_zones() -> None:
    rng = np.random.default_rng(3)
    zones = [
        Zone(f"z{k}", shapely.Point(ll(*rng.uniform(0, 8000, 2))), buffer_m=rng.uniform(100, 600))
        for k in range(8)
    ]
    space = DroneSpace(zones, CRS)
    pts = xy(rng.uniform(-500, 8500, (25, 2)).tolist())
    m = space.matrix_xy(pts)
    assert np.allclose(m, m.T)
    for i in range(0, 25, 3):
        for j in range(1, 25, 4):
            path = space.path_xy(pts[i], pts[j])
            if path is None:
                assert np.isinf(m[i, j])
                continue
            assert shapely.LineString(path).length == pytest.approx(m[i, j], abs=1e-6)
            for z in zones:
                assert not enters(path, z.buffered(CRS))


# --- property test -----------------------------------------------------------------------------

coord = st.floats(min_value=0, max_value=4000, allow_nan=False)


@st.composite
def zone_shapes(draw: st.DrawFn, k: int) -> Zone:
    kind = draw(st.sampled_from(["circle", "box", "star"]))
    cx, cy = draw(coord), draw(coord)
    if kind == "circle":
        return Zone(f"z{k}", shapely.Point(ll(cx, cy)), buffer_m=draw(st.floats(30, 600)))
    buffer_m = draw(st.sampled_from([0.0, 25.0, 150.0]))
    if kind == "box":
        w, h = draw(st.floats(20, 700)), draw(st.floats(20, 700))
        ring = [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)]
    else:  # a non-convex star-shaped polygon
        n = draw(st.integers(5, 9))
        radii = draw(st.lists(st.floats(60, 700), min_size=n, max_size=n))
        ring = [
            (cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n))
            for i, r in enumerate(radii)
        ]
    return Zone(f"z{k}", shapely.Polygon([ll(x, y) for x, y in ring]), buffer_m=buffer_m)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[list[Zone], list[tuple[float, float]]]:
    n = draw(st.integers(1, 4))
    zones = [draw(zone_shapes(k)) for k in range(n)]
    pts = draw(
        st.lists(st.tuples(st.floats(-800, 4800), st.floats(-800, 4800)), min_size=2, max_size=6)
    )
    return zones, pts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_flown_paths_never_enter_a_zone_and_the_validator_accepts_them(
    scene: tuple[list[Zone], list[tuple[float, float]]],
) -> None:
    zones, local = scene
    space = DroneSpace(zones, CRS)
    pts = xy(local)
    outside = [p for p, z in zip(pts, space.inside(pts), strict=True) if z is None]
    if len(outside) < 2:
        return
    buffered = [z.buffered(CRS) for z in zones]
    hub_xy, drops = outside[0], outside[1:]
    flights = []
    for d in drops:
        out, back = space.path_xy(hub_xy, d), space.path_xy(d, hub_xy)
        if out is None or back is None:
            continue  # enclosed by zones: no path, never a path through them
        for path in (out, back):
            assert not any(enters(path, zone) for zone in buffered)
        flights.append((d, out, back))
    if not flights:
        return

    # A drone sortie per reachable drop point, flown on those paths, must validate.
    lonlat = to_wgs84(CRS, np.array([hub_xy, *(f[0] for f in flights)]))
    hub = Place("hub", *lonlat[0])
    orders = tuple(
        Order(f"o{k}", 1.0, tuple(lonlat[k + 1]), (0, 86_400), "hub", drop=tuple(lonlat[k + 1]),
              modes=frozenset({"drone"}))
        for k in range(len(flights))
    )
    drone = Drone("d", "hub", payload_kg=5, range_m=1e6, cruise_mps=10, turnaround_s=60,
                  max_sorties=len(flights), drop_s=30)
    problem = Problem(crs=CRS, timezone="Asia/Tokyo", t0=T0, hub=hub, drones=(drone,),
                      orders=orders, zones=tuple(zones))
    routes, t = [], 0
    for k, (_, out, back) in enumerate(flights):
        def via(path: np.ndarray) -> tuple[tuple[float, float], ...]:
            return tuple(map(tuple, to_wgs84(CRS, path[1:-1]).tolist()))

        fly_out = math.ceil(shapely.LineString(out).length / 10)
        fly_back = math.ceil(shapely.LineString(back).length / 10)
        o = orders[k]
        stop = Stop(o.id, "delivery", *o.drop, t + fly_out, t + fly_out, t + fly_out + 30,
                    0.0, 0, math.ceil(shapely.LineString(out).length), via=via(out))
        end = t + fly_out + 30 + fly_back
        routes.append(Route("d", "drone", "direct", "hub", "hub", t, end, (stop,),
                            start_load_kg=1.0, start_parcels=1, sortie=k + 1,
                            end_distance_m=math.ceil(shapely.LineString(back).length),
                            end_via=via(back)))
        t = end + 60
    report = validate(problem, Solution(routes=tuple(routes)))
    assert report.ok, str(report)


def test_coordinates_round_trip_between_wgs84_and_metres() -> None:
    back = to_metric(CRS, np.array([ll(123.0, -456.0)]))[0] - ORIGIN
    assert np.allclose(back, [123.0, -456.0], atol=1e-6)
