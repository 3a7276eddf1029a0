"""Road travel: speeds by mode and kind, car restrictions, one-way streets, snapping, paths."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from routing import ProblemError, Road
from routing.geo import to_metric
from routing.travel import UNREACHABLE, RoadNetwork
from tests.routing.tiny import CRS, ORIGIN, ROADS, ll


def table(points: list[tuple[float, float]], roads: tuple[Road, ...] = ROADS, **kw: float):
    return RoadNetwork(roads, CRS, **kw).table(np.array([ll(*p) for p in points]))


def test_travel_times_by_mode_and_road_kind() -> None:
    t = table([(0, 0), (800, 0), (-1000, 800)])
    # 800 m of local road: car 30 km/h, bicycle 12 km/h, walk 4.5 km/h.
    assert t.distance["car"][0, 1] == 800
    assert t.duration["car"][0, 1] == 96
    assert t.duration["bicycle"][0, 1] == 240
    assert t.duration["walk"][0, 1] == 640
    # 1000 m of local road then 800 m of path (bicycle 6 km/h, walk 4 km/h on paths).
    assert t.distance["bicycle"][0, 2] == 1800
    assert t.duration["bicycle"][0, 2] == 300 + 480
    assert t.duration["walk"][0, 2] == 800 + 720


def test_cars_never_use_roads_closed_to_them() -> None:
    t = table([(0, 0), (-1000, 800)])
    # The home at the end of the path is 780 m from the nearest car road (> 500 m snapping).
    assert t.duration["car"][0, 1] == UNREACHABLE
    assert t.duration["car"][1, 0] == UNREACHABLE
    assert t.duration["walk"][0, 1] < UNREACHABLE


def test_one_way_applies_to_cars_only_and_maxspeed_caps_cars() -> None:
    square_roads = (
        Road("east", "primary", (ll(0, 0), ll(1000, 0)), oneway=True, maxspeed_kmh=20),
        Road("loop", "primary", (ll(1000, 0), ll(1000, 1000), ll(0, 1000), ll(0, 0))),
    )
    t = table([(0, 0), (1000, 0)], roads=square_roads)
    assert t.distance["car"][0, 1] == 1000
    assert t.duration["car"][0, 1] == 180  # 1000 m at 20 km/h, not the primary's 50
    assert t.distance["car"][1, 0] == 3000  # against the one-way: around the loop at 50 km/h
    assert t.duration["car"][1, 0] == 216
    assert t.distance["walk"][1, 0] == 1000
    assert t.distance["bicycle"][1, 0] == 1000


def test_points_snap_to_the_nearest_road_point_with_partial_lengths() -> None:
    # (500, 30) snaps to (500, 0): 500 m along the road plus 30 m of access.
    t = table([(0, 0), (500, 30), (650, -20), (2500, 0)])
    assert t.distance["car"][0, 1] == 530
    # Two points on the same segment are joined directly, not through a segment end.
    assert t.distance["car"][1, 2] == 30 + 150 + 20
    assert t.distance["walk"][1, 3] == 30 + 2000


def test_point_too_far_from_every_road_is_an_error_naming_it() -> None:
    net = RoadNetwork(ROADS, CRS, snap_max_m=500)
    with pytest.raises(ProblemError, match=r"order 'x' home at .* is 800 m from the nearest road"):
        net.table(np.array([ll(0, 0), ll(0, 800)]), names=["hub", "order 'x' home"])


def test_leg_path_follows_the_roads() -> None:
    t = table([(0, 0), (1000, 1200)])
    line = t.path("car", 0, 1)
    assert isinstance(line, shapely.LineString)
    xy = to_metric(CRS, np.asarray(line.coords)) - ORIGIN
    assert np.allclose(xy, [[0, 0], [800, 0], [1000, 0], [1000, 1200]], atol=1e-3)
    assert t.path("car", 0, 0) is not None


def test_a_road_ending_on_another_roads_segment_joins_it() -> None:
    # "spur" ends in the middle of the straight 0..2000 m segment of "line", with no shared vertex.
    roads = (
        Road("line", "local", (ll(0, 0), ll(2000, 0))),
        Road("spur", "local", (ll(700, 900), ll(700, 0))),
    )
    t = table([(0, 0), (700, 900)], roads=roads)
    assert t.distance["car"][0, 1] == 700 + 900
