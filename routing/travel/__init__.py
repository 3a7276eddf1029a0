"""Travel models: road shortest paths for couriers, zone-avoiding flight paths for drones.

Matrices are integer metres and seconds; an entry equal to :data:`UNREACHABLE` means no path.
"""

from routing.travel.drone import DroneSpace
from routing.travel.roads import DEFAULT_SPEEDS_KMH, UNREACHABLE, RoadNetwork, RoadTable, shared_network

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "UNREACHABLE",
    "DroneSpace",
    "RoadNetwork",
    "RoadTable",
    "shared_network",
]
