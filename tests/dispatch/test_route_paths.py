"""Route display lines stored with each plan version, and the plan map's light region query."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Hub, Plan, Road, utcnow
from dispatch.planning.store import SIMPLIFY_DEG
from dispatch.read.region import map_frame, region_overview
from dispatch.services.plans import move_stop
from routing.geo import to_metric
from tests.dispatch.test_plan_edits import planned, volunteer_id
from tests.dispatch.test_planning import latest_plan

pytestmark = pytest.mark.db


def metres(crs: str, path: list[list[float]]) -> float:
    return float(shapely.LineString(to_metric(crs, np.array(path))).length)


def test_every_route_is_stored_with_its_line_along_roads_or_through_the_drone_detour(
        db: Database, tiny_region: str) -> None:
    batch_id, _plan_id, _ids = planned(db)
    plan = latest_plan(db, batch_id)
    with db.read() as s:
        hub = s.scalars(select(Hub).where(Hub.code == "H1")).one()
        hub_point = [round(hub.lon, 6), round(hub.lat, 6)]
        roads = shapely.MultiLineString([r.coords for r in s.scalars(select(Road))])
    crs = plan.problem["crs"]
    solved = {(r["vehicle_id"], r["sortie"]): r for r in plan.solution["routes"]}
    assert plan.routes and any(r.drone_id for r in plan.routes) and any(r.volunteer_id for r in plan.routes)
    for route in plan.routes:
        path = route.path
        assert path is not None and len(path) >= 3, route.mode
        assert path[0] == hub_point and path[-1] == hub_point
        line = shapely.LineString(path)
        for stop in route.stops:  # simplified, yet within the tolerance of every stop
            assert line.distance(shapely.Point(stop.lon, stop.lat)) <= 2 * SIMPLIFY_DEG
        if route.drone_id:
            # Straight lines through the detour waypoints, in the order flown.
            leg = solved[(route.drone_id, route.sortie)]
            flown = [hub_point]
            for stop in leg["stops"]:
                flown += [[round(x, 6), round(y, 6)] for x, y in stop["via"]]
                flown.append([round(stop["lon"], 6), round(stop["lat"], 6)])
            flown += [[round(x, 6), round(y, 6)] for x, y in leg["end_via"]]
            assert path == [*flown, hub_point]
        else:
            # Along the roads: as long as the distance the solver costed, longer than the straight
            # lines between the stops, and every turn on a road of the region.
            straight = metres(crs, [hub_point, *([st.lon, st.lat] for st in route.stops), hub_point])
            assert metres(crs, path) == pytest.approx(route.distance_m, rel=0.05)
            assert metres(crs, path) > straight + 10
            ends = {tuple(hub_point), *((round(st.lon, 6), round(st.lat, 6)) for st in route.stops)}
            turns = [shapely.Point(p) for p in path if tuple(p) not in ends]
            assert turns and all(roads.distance(p) < 1e-6 for p in turns)
    assert any(len(r.path or []) > len(r.stops) + 2 for r in plan.routes if r.drone_id), \
        "the tiny day should have a sortie flying around the zone"


def test_an_edit_stores_the_new_versions_lines(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, ids = planned(db)
    v2 = volunteer_id(db, "V2")
    move_stop(db, plan_id, ids["R2"], v2, 0)
    plan = latest_plan(db, batch_id)
    assert plan.id != plan_id
    route = next(r for r in plan.routes if r.volunteer_id == v2)
    assert route.path is not None
    first = route.stops[0]
    # The edited route's line reaches the moved order's stop before any other stop.
    line = shapely.LineString(route.path)
    to_first = line.project(shapely.Point(first.lon, first.lat))
    assert all(to_first <= line.project(shapely.Point(st.lon, st.lat)) for st in route.stops[1:])
    with db.read() as s:
        old = s.get(Plan, plan_id)
        assert old is not None and all(r.path is not None for r in old.routes)


def test_map_frame_has_the_overviews_hubs_and_zones(db: Database, tiny_region: str) -> None:
    now = utcnow()
    with db.read() as s:
        frame = map_frame(s, tiny_region, now)
        overview = region_overview(s, now, tiny_region)
        assert map_frame(s, "no-such-region", now) is None
    assert frame is not None and overview is not None
    assert [(h.id, h.code, h.name, h.kind, h.drone_port, h.lon, h.lat) for h in frame.hubs] == \
        [(h.id, h.code, h.name, h.kind, h.drone_port, h.lon, h.lat) for h in overview.hubs]
    assert frame.zones == overview.zones and frame.zones
