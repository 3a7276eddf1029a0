"""Travel data of a problem: the points couriers and drones go to, and their matrices.

Ground points are the places (hub first, then supply points) then every order's home; drone
points the places then every order's drop point (its home when it has none). Road matrices are
integer metres and seconds per mode (:class:`RoadTable`); flight lengths are float metres (inf =
no path around the zones).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from routing.params import SolveParams
from routing.problem import GROUND_MODES, Problem, ProblemError
from routing.travel.drone import DroneSpace
from routing.travel.roads import RoadNetwork, RoadTable


@dataclass
class Travel:
    """Travel data of a problem: WGS84 points and matrices for couriers and drones.

    Ground points are the places then every order's home; drone points the places then every
    order's drop point (its home when it has none).
    """

    ground_points: np.ndarray
    drone_points: np.ndarray
    road: RoadTable | None
    fly_m: np.ndarray  # float metres, inf = no path
    space: DroneSpace | None
    seconds: float = 0.0



def place_index(problem: Problem) -> dict[str, int]:
    """Index of each place in the point lists (the hub first, then the supply points)."""
    return {p.id: i for i, p in enumerate((problem.hub, *problem.supply_points))}


def build_travel(problem: Problem, params: SolveParams) -> Travel:
    """Road and flight matrices for every place, home and drop point of ``problem``."""
    started = time.perf_counter()
    places = (problem.hub, *problem.supply_points)
    place_pts = [(p.lon, p.lat) for p in places]
    homes = [tuple(o.home) for o in problem.orders]
    ground = np.array(place_pts + homes, dtype=float).reshape(-1, 2)
    drops = [tuple(o.drop) if o.drop is not None else tuple(o.home) for o in problem.orders]
    drone_pts = np.array(place_pts + drops, dtype=float).reshape(-1, 2)
    road = None
    if problem.vehicles:
        if not problem.roads:
            raise ProblemError("roads: the problem has couriers but no roads")
        network = RoadNetwork(problem.roads, problem.crs, snap_max_m=params.snap_max_m)
        names = [f"place '{p.id}'" for p in places] + [f"order '{o.id}' home" for o in problem.orders]
        modes = sorted({v.mode for v in problem.vehicles})
        # Homes of orders no courier may carry need not be near a road.
        required = [True] * len(places) + [
            any(m in o.modes for m in GROUND_MODES) for o in problem.orders
        ]
        road = network.table(ground, names, modes=modes, required=required)
    space = None
    fly = np.zeros((len(drone_pts), len(drone_pts)))
    if problem.drones:
        space = DroneSpace.from_problem(problem, clearance_m=params.clearance_m)
        fly = space.matrix(drone_pts)
    return Travel(ground, drone_pts, road, fly, space, time.perf_counter() - started)


def fly(travel: Travel, a: int, b: int) -> float:
    return float(travel.fly_m[a, b])

