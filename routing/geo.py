"""Projection helpers: WGS84 longitude/latitude <-> the problem's metric CRS.

Every distance and geometric test of ``routing`` is computed in a metric projected CRS (for northern
Hyogo, JGD2011 / Japan Plane Rectangular CS V, ``EPSG:6673``; units: metres). Input and output
coordinates are WGS84 (``EPSG:4326``) in (longitude, latitude) order.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"


class CrsError(ValueError):
    """The CRS string is unknown or not a metric projected CRS."""


@lru_cache(maxsize=32)
def metric_crs(crs: str) -> CRS:
    """Return the pyproj CRS for ``crs``; raise :class:`CrsError` unless projected in metres."""
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError, a subclass of Exception only
        raise CrsError(f"unknown CRS {crs!r}") from exc
    if not parsed.is_projected:
        raise CrsError(f"CRS {crs!r} is not a projected CRS (distances must be in metres)")
    units = {axis.unit_name for axis in parsed.axis_info}
    if not units <= {"metre", "meter"}:
        raise CrsError(f"CRS {crs!r} has axis units {sorted(units)}, expected metres")
    return parsed


@lru_cache(maxsize=32)
def _forward(crs: str) -> Transformer:
    return Transformer.from_crs(WGS84, metric_crs(crs), always_xy=True)


@lru_cache(maxsize=32)
def _inverse(crs: str) -> Transformer:
    return Transformer.from_crs(metric_crs(crs), WGS84, always_xy=True)


def to_metric(crs: str, lonlat: np.ndarray) -> np.ndarray:
    """Project an (N, 2) array of WGS84 (lon, lat) to (N, 2) metres in ``crs``."""
    arr = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if len(arr) == 0:
        return arr.copy()
    x, y = _forward(crs).transform(arr[:, 0], arr[:, 1])
    return np.column_stack([x, y])


def to_wgs84(crs: str, xy: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_metric`: (N, 2) metres in ``crs`` to WGS84 (lon, lat)."""
    arr = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(arr) == 0:
        return arr.copy()
    lon, lat = _inverse(crs).transform(arr[:, 0], arr[:, 1])
    return np.column_stack([lon, lat])


def geometry_to_metric(crs: str, geom: BaseGeometry) -> BaseGeometry:
    """Project a shapely geometry from WGS84 to ``crs`` (returns a new geometry)."""
    return shapely.transform(geom, lambda pts: to_metric(crs, pts))


def geometry_to_wgs84(crs: str, geom: BaseGeometry) -> BaseGeometry:
    """Project a shapely geometry from ``crs`` back to WGS84 (returns a new geometry)."""
    return shapely.transform(geom, lambda pts: to_wgs84(crs, pts))


def in_valid_area(crs: str, lonlat: np.ndarray) -> np.ndarray:
    """Boolean mask: which WGS84 points lie inside the CRS's area of use (with a 1 degree margin)."""
    area = metric_crs(crs).area_of_use
    arr = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if area is None:
        return np.ones(len(arr), dtype=bool)
    margin = 1.0
    return (
        (arr[:, 0] >= area.west - margin)
        & (arr[:, 0] <= area.east + margin)
        & (arr[:, 1] >= area.south - margin)
        & (arr[:, 1] <= area.north + margin)
    )
