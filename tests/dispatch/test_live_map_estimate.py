"""The estimated drone position, on paths small enough to check by hand (on the equator, where a
degree of longitude and of latitude are the same length)."""

from __future__ import annotations

import pytest

from dispatch.read.live_map import estimated_position, vertex_offsets

# Out 2° east to the drop point in 600 s, back in 600 s.
OUT_AND_BACK = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
WAYPOINTS = [(0.0, 0.0), (2.0, 0.0), (0.0, 0.0)]
OFFSETS = [0.0, 600.0, 1200.0]


def test_vertices_are_paced_by_distance_between_the_planned_stop_times() -> None:
    assert vertex_offsets(OUT_AND_BACK, WAYPOINTS, OFFSETS) == [0.0, 300.0, 600.0, 900.0, 1200.0]


def test_halfway_to_the_drop_point_is_halfway_along_the_outbound_leg() -> None:
    assert estimated_position(OUT_AND_BACK, WAYPOINTS, OFFSETS, 300) == pytest.approx((1.0, 0.0))
    assert estimated_position(OUT_AND_BACK, WAYPOINTS, OFFSETS, 150) == pytest.approx((0.5, 0.0))
    assert estimated_position(OUT_AND_BACK, WAYPOINTS, OFFSETS, 600) == pytest.approx((2.0, 0.0))
    assert estimated_position(OUT_AND_BACK, WAYPOINTS, OFFSETS, 1050) == pytest.approx((0.5, 0.0))


def test_a_detour_is_followed_not_cut() -> None:
    # Around a no-fly zone: north 1°, east 2°, south 1° to the drop point (4° in 400 s).
    detour = [[0.0, 0.0], [0.0, 1.0], [2.0, 1.0], [2.0, 0.0]]
    at = estimated_position(detour, [(0.0, 0.0), (2.0, 0.0)], [0.0, 400.0], 200)
    assert at == pytest.approx((1.0, 1.0))


def test_before_take_off_at_the_start_after_the_planned_return_at_the_end() -> None:
    assert estimated_position(OUT_AND_BACK, WAYPOINTS, OFFSETS, -5) == (0.0, 0.0)
    assert estimated_position(OUT_AND_BACK, WAYPOINTS, OFFSETS, 5000) == (0.0, 0.0)


def test_without_a_stored_path_straight_between_the_stops() -> None:
    assert estimated_position([], WAYPOINTS, OFFSETS, 300) == pytest.approx((1.0, 0.0))
    assert estimated_position([], WAYPOINTS, OFFSETS, 900) == pytest.approx((1.0, 0.0))


def test_one_offset_per_waypoint() -> None:
    with pytest.raises(ValueError):
        estimated_position(OUT_AND_BACK, WAYPOINTS, [0.0, 600.0], 10)
