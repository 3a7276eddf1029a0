"""GeoJSON export: legs with real paths, stops, unserved orders, in WGS84 with ISO times."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import shapely

from routing import Problem, Solution, Unserved, plan_geojson
from routing.geo import to_metric
from tests.routing.tiny import CRS


def test_plan_geojson_has_legs_stops_and_unserved(tiny_solution: tuple[Problem, Solution]) -> None:
    problem, solution = tiny_solution
    extra = dataclasses.replace(solution, unserved=(Unserved("r5", "capacity", "test"),))
    fc = json.loads(json.dumps(plan_geojson(problem, extra, "batch-7")))
    assert fc["type"] == "FeatureCollection"
    legs = [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]
    stops = [f for f in fc["features"] if "eta" in f["properties"]]
    unserved = [f for f in fc["features"] if "reason" in f["properties"]]
    assert len(legs) == sum(len(r.stops) + 1 for r in solution.routes)
    assert len(stops) == sum(len(r.stops) for r in solution.routes)
    assert unserved[0]["properties"] == {
        "batch_id": "batch-7", "order_id": "r5", "reason": "capacity", "detail": "test"
    }
    assert unserved[0]["geometry"]["coordinates"] == list(problem.order("r5").home)
    keys = {"batch_id", "vehicle_id", "mode", "sortie", "seq", "from_id", "to_id", "depart",
            "arrive", "distance_m", "load_kg"}
    for leg in legs:
        props = leg["properties"]
        assert set(props) == keys
        assert props["batch_id"] == "batch-7"
        assert props["depart"].endswith("+09:00") and props["arrive"] >= props["depart"]
        assert (props["sortie"] is not None) == (props["mode"] == "drone")
        lon, lat = np.asarray(leg["geometry"]["coordinates"]).T
        assert ((lon > 134) & (lon < 135) & (lat > 35) & (lat < 36)).all()
    for stop in stops:
        assert {"batch_id", "vehicle_id", "order_id", "seq", "eta"} <= set(stop["properties"])


def test_leg_geometries_are_the_real_paths(tiny_solution: tuple[Problem, Solution]) -> None:
    problem, solution = tiny_solution
    fc = plan_geojson(problem, solution, "b")
    zone = problem.zones[0].buffered(CRS)
    for leg in fc["features"]:
        if leg["geometry"]["type"] != "LineString":
            continue
        props = leg["properties"]
        line = shapely.LineString(to_metric(CRS, np.asarray(leg["geometry"]["coordinates"])))
        # The path's length matches the leg's distance (roads: within the rounding).
        assert abs(line.length - props["distance_m"]) <= 2, props
        if props["mode"] == "drone":
            assert not line.relate_pattern(zone, "T********")
            assert len(line.coords) > 2  # detours around zone Z
        elif props["distance_m"] > 0:
            # Road legs follow the road vertices, not a straight line.
            assert len(line.coords) >= 2
