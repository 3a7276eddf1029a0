"""Which drone may fly which order, or why not (payload, drop point, zones, range)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from routing.geo import to_metric
from routing.problem import DRONE, Problem
from routing.travel.matrices import Travel, fly, place_index


@dataclass
class Eligibility:
    """Why each (drone, order) pair can or cannot fly: drone id -> (reason, detail) if not."""

    refused: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    sortie_m: dict[str, dict[str, float]] = field(default_factory=dict)



def drone_eligibility(
    problem: Problem, travel: Travel, source: dict[str, str | None]
) -> Eligibility:
    """For every drone and drone-allowed order: the sortie length, or why it cannot fly.

    ``source[order]`` is the place where the order's parcels are picked up (None: already at the
    hub and loaded at the start, which needs a drone based at the hub).
    """
    pidx = place_index(problem)
    n_places = len(pidx)
    out = Eligibility()
    inside: list[str | None] = []
    if travel.space is not None:
        inside = travel.space.inside_lonlat(travel.drone_points)
    for d in problem.drones:
        refused: dict[str, tuple[str, str]] = {}
        lengths: dict[str, float] = {}
        b = pidx[d.base]
        for k, o in enumerate(problem.orders):
            if DRONE not in o.modes:
                continue
            q = n_places + k
            src = source.get(o.id)
            if o.drop is None:
                refused[o.id] = ("no_eligible_vehicle", "the resident has no drone drop point")
            elif o.weight_kg > d.payload_kg:
                refused[o.id] = (
                    "capacity",
                    f"{o.weight_kg:g} kg is over drone '{d.id}' payload {d.payload_kg:g} kg",
                )
            elif inside and inside[b] is not None:
                refused[o.id] = (
                    "zone",
                    f"drone '{d.id}' base '{d.base}' lies within the convex safety hull of "
                    f"no-fly zone '{inside[b]}'",
                )
            elif inside and inside[q] is not None:
                refused[o.id] = ("zone", _inside_detail(problem, travel, q, str(inside[q])))
            elif src is None and d.base != problem.hub.id:
                refused[o.id] = (
                    "no_eligible_vehicle",
                    f"the parcel is at the hub but drone '{d.id}' is based at '{d.base}'",
                )
            else:
                if src is None:
                    length = fly(travel, b, q) + fly(travel, q, b)
                    straight = 2 * _straight(travel, b, q)
                else:
                    s = pidx[src]
                    length = fly(travel, b, s) + fly(travel, s, q) + fly(travel, q, b)
                    straight = (
                        _straight(travel, b, s) + _straight(travel, s, q) + _straight(travel, q, b)
                    )
                if not math.isfinite(length):
                    refused[o.id] = ("zone", "no-fly zones leave no flight path to the drop point")
                elif length > d.range_m:
                    if straight <= d.range_m:
                        detail = (
                            f"the detour around no-fly zones makes the sortie {length / 1000:.1f} "
                            f"km, over drone '{d.id}' range {d.range_m / 1000:g} km"
                        )
                    else:
                        detail = (
                            f"the sortie is {length / 1000:.1f} km, over drone '{d.id}' range "
                            f"{d.range_m / 1000:g} km"
                        )
                    refused[o.id] = ("range", detail)
                else:
                    lengths[o.id] = length
        out.refused[d.id] = refused
        out.sortie_m[d.id] = lengths
    return out


def _inside_detail(problem: Problem, travel: Travel, point: int, zone_id: str) -> str:
    zone = next(z for z in problem.zones if z.id == zone_id)
    lon, lat = travel.drone_points[point]
    xy = to_metric(problem.crs, np.array([[lon, lat]]))[0]
    if zone.buffered(problem.crs).intersects(shapely.Point(xy)):
        return f"the drop point lies inside no-fly zone '{zone_id}'"
    return (
        f"the drop point lies within the convex safety hull of no-fly zone '{zone_id}' "
        "(drone paths keep outside it)"
    )


def _straight(travel: Travel, a: int, b: int) -> float:
    # Approximate straight length from the flight matrix's geometry: the flight length is at
    # least the straight one, and equal when unobstructed; good enough to word a reason.
    if travel.space is None:
        return fly(travel, a, b)
    xy = travel.space.to_metric(travel.drone_points[[a, b]])
    return float(np.hypot(*(xy[0] - xy[1])))

