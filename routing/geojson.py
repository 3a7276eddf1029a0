"""GeoJSON export of a plan (``plan.geojson``): a FeatureCollection in WGS84 (lon, lat).

- one LineString per leg, its geometry the real path (roads for couriers; for drones the flight
  line through the leg's ``via`` waypoints around the zones), properties ``batch_id``,
  ``vehicle_id``, ``mode`` (``drone``, ``walk``, ``bicycle``, ``car``), ``sortie`` (drones: 1,
  2, ...; null for couriers), ``seq`` (leg number within the route, from 1), ``from_id``,
  ``to_id`` (a place id or an order id), ``depart``, ``arrive`` (ISO 8601 with offset),
  ``distance_m``, ``load_kg`` (on board during the leg);
- one Point per stop, properties ``batch_id``, ``vehicle_id``, ``order_id``, ``seq`` (stop number
  within the route, from 1), ``eta`` (ISO 8601 service start), plus ``kind``, ``mode``, ``sortie``;
- one Point per unserved order (at the home), properties ``batch_id``, ``order_id``, ``reason``,
  ``detail``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from routing.problem import DRONE, Problem
from routing.solution import Route, Solution
from routing.travel import shared_network


def plan_geojson(
    problem: Problem,
    solution: Solution,
    batch_id: str,
    snap_max_m: float = 500.0,
) -> dict[str, Any]:
    """The FeatureCollection of ``solution`` (see the module docstring for its properties)."""
    features: list[dict[str, Any]] = []
    orders = {o.id: o for o in problem.orders}
    ground = [r for r in solution.routes if r.mode != DRONE]
    table, index = None, {}
    if ground and problem.roads:
        pts: list[tuple[float, float]] = []
        for r in ground:
            for pt in _points(problem, r):
                if pt not in index:
                    index[pt] = len(pts)
                    pts.append(pt)
        network = shared_network(problem.roads, problem.crs, snap_max_m=snap_max_m)
        table = network.table(np.array(pts), modes=sorted({r.mode for r in ground}))

    for r in solution.routes:
        pts = _points(problem, r)
        ids = [r.start_place, *(s.order_id for s in r.stops), r.end_place]
        departs = [r.start, *(s.departure for s in r.stops)]
        arrives = [*(s.arrival for s in r.stops), r.end]
        dists = [*(s.distance_m for s in r.stops), r.end_distance_m]
        loads = [r.start_load_kg, *(s.load_kg for s in r.stops)]
        vias = [*(s.via for s in r.stops), r.end_via]
        for k in range(len(pts) - 1):
            a, b = pts[k], pts[k + 1]
            line = None
            if r.mode == DRONE:
                line = shapely.LineString([a, *vias[k], b])
            elif table is not None:
                line = table.path(r.mode, index[a], index[b])
            if line is None:
                line = shapely.LineString([a, b])
            features.append(
                _feature(
                    line,
                    batch_id=batch_id,
                    vehicle_id=r.vehicle_id,
                    mode=r.mode,
                    sortie=r.sortie,
                    seq=k + 1,
                    from_id=ids[k],
                    to_id=ids[k + 1],
                    depart=problem.iso(departs[k]),
                    arrive=problem.iso(arrives[k]),
                    distance_m=int(dists[k]),
                    load_kg=round(float(loads[k]), 3),
                )
            )
        for k, s in enumerate(r.stops):
            features.append(
                _feature(
                    shapely.Point(s.lon, s.lat),
                    batch_id=batch_id,
                    vehicle_id=r.vehicle_id,
                    order_id=s.order_id,
                    seq=k + 1,
                    eta=problem.iso(s.start),
                    kind=s.kind,
                    mode=r.mode,
                    sortie=r.sortie,
                )
            )
    for u in solution.unserved:
        o = orders.get(u.order_id)
        if o is None:
            continue
        features.append(
            _feature(
                shapely.Point(*o.home),
                batch_id=batch_id,
                order_id=u.order_id,
                reason=u.reason,
                detail=u.detail,
            )
        )
    return {"type": "FeatureCollection", "features": features}


def _points(problem: Problem, r: Route) -> list[tuple[float, float]]:
    start, end = problem.places[r.start_place], problem.places[r.end_place]
    return [(start.lon, start.lat), *((s.lon, s.lat) for s in r.stops), (end.lon, end.lat)]


def _feature(geometry: shapely.Geometry, **properties: Any) -> dict[str, Any]:
    geo = mapping(geometry)
    coords = np.asarray(geo["coordinates"], dtype=float).tolist()
    return {
        "type": "Feature",
        "geometry": {"type": geo["type"], "coordinates": coords},
        "properties": properties,
    }
