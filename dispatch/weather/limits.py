"""A drone model's weather limits and the go/no-go test against one reading (issue 14, item 2).

Defaults are for the JP2-class multicopters of the sample (a 25 kg-class delivery multicopter,
第二種型式認証 class): conservative figures of the kind manufacturers publish for wind
resistance and rain protection. Put your aircraft's flight-manual values in ``drones.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Limit names as in ``drones.csv`` and on :class:`dispatch.models.Drone`.
WEATHER_LIMITS: tuple[str, ...] = (
    "max_wind_ms",
    "max_gust_ms",
    "max_precip_mmh",
    "min_temp_c",
    "min_visibility_m",
)
DEFAULT_LIMITS: Mapping[str, float] = {
    "max_wind_ms": 10.0,  # mean wind at flight height, m/s
    "max_gust_ms": 15.0,  # gusts, m/s
    "max_precip_mmh": 1.0,  # light rain at most, mm/h
    "min_temp_c": -10.0,  # battery performance, °C
    "min_visibility_m": 1000.0,  # m
}

#: (limit, reading attribute, True when the limit is a maximum), in the order they are reported.
_CHECKS = (
    ("max_wind_ms", "wind_ms", True),
    ("max_gust_ms", "gust_ms", True),
    ("max_precip_mmh", "precip_mmh", True),
    ("min_temp_c", "temp_c", False),
    ("min_visibility_m", "visibility_m", False),
)


@dataclass(frozen=True)
class Weather:
    """Weather over a period; None = unknown (checks nothing)."""

    wind_ms: float | None = None
    gust_ms: float | None = None
    precip_mmh: float | None = None
    temp_c: float | None = None
    visibility_m: float | None = None


def beyond_limits(weather: Weather, limits: Mapping[str, float]) -> list[tuple[str, float, float]]:
    """Each (quantity, value, limit) of ``weather`` outside ``limits``; empty = go."""
    out = []
    for limit, attribute, is_max in _CHECKS:
        value = getattr(weather, attribute)
        bound = limits.get(limit, DEFAULT_LIMITS[limit])
        if value is not None and (value > bound if is_max else value < bound):
            out.append((attribute, float(value), float(bound)))
    return out


def drone_limits(drone: object) -> dict[str, float]:
    """The limits of a :class:`dispatch.models.Drone` row, by name."""
    return {name: float(getattr(drone, name)) for name in WEATHER_LIMITS}
