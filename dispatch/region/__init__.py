"""Region folders: the reader (pure, checks everything) and the database importer built on it."""

from dispatch.region.ed318 import Authority, DailyPeriod, Layer, LocalText
from dispatch.region.reader import (
    DEFAULT_BUFFER_M,
    DroneRecord,
    HubRecord,
    RegionData,
    RegionError,
    RegionMeta,
    RegionProblem,
    ResidentRecord,
    RoadRecord,
    VolunteerRecord,
    ZoneRecord,
    ZoneWindow,
    circle,
    read_region,
)

__all__ = [
    "DEFAULT_BUFFER_M",
    "Authority",
    "DailyPeriod",
    "DroneRecord",
    "HubRecord",
    "Layer",
    "LocalText",
    "RegionData",
    "RegionError",
    "RegionMeta",
    "RegionProblem",
    "ResidentRecord",
    "RoadRecord",
    "VolunteerRecord",
    "ZoneRecord",
    "ZoneWindow",
    "circle",
    "read_region",
]
