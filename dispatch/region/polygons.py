"""``zones.geojson`` from a polygon file such as e-Stat's DID boundaries (``hakobu region import-zones``).

Japan's rule for drones over a densely inhabited district (人口集中地区, DID: a flight needs a
permission, 航空法 132条の85) is drawn from the census's DID boundaries, which e-Stat publishes as
a shapefile per prefecture (``h27_did_28.shp``...: one polygon per district, attributes such as
``KEY_CODE`` and ``CITYNAME``, text in Shift_JIS, so pass ``--encoding cp932`` when no ``.cpg``
file says so). Any polygon file GDAL reads (shapefile, GeoPackage, GeoJSON) works the same way.

Each polygon becomes one ED-318 zone: ``identifier`` = ``<prefix>-<id field>`` (row number when the
file has no id column), ``name`` a localised text from the name column, ``type`` and
``jp:category`` as asked (DID: ``REQ_AUTHORIZATION``, reason ``POPULATION``), geometry in WGS84
(reprojected from the file's CRS), made valid. Nothing is guessed silently: a file without a CRS
or without polygons is an error naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

#: Columns tried, in order, for a zone's name and id when none is given (e-Stat's come first).
NAME_COLUMNS = ("CITYNAME", "CITY_NAME", "S_NAME", "NAME", "name", "名称")
ID_COLUMNS = ("KEY_CODE", "id", "ID", "identifier")
#: What a category means for a zone: (ED-318 reason, text added to the name in Japanese).
CATEGORIES = {
    "DID": ("POPULATION", "人口集中地区"),
    "AIRPORT_SURFACE": ("AIR_TRAFFIC", "空港周辺"),
    "LOCAL_RULE": ("OTHER", ""),
    "COMMUNITY": ("SENSITIVE", ""),
}


class PolygonFileError(ValueError):
    """The polygon file cannot be used; the message names it."""


def zones_from_polygons(
    path: str | Path,
    *,
    category: str,
    zone_type: str,
    prefix: str,
    country: str = "JPN",
    encoding: str | None = None,
    area: BaseGeometry | None = None,
    buffer_m: float = 30.0,
) -> list[dict[str, Any]]:
    """The ED-318 zone features of the polygons in ``path`` (those meeting ``area``, if given)."""
    path = Path(path)
    if not path.is_file():
        raise PolygonFileError(f"{path}: no such file")
    try:
        frame = geopandas.read_file(path, encoding=encoding) if encoding else geopandas.read_file(path)
    except Exception as error:  # pyogrio raises its own DataSourceError and friends
        raise PolygonFileError(f"{path}: not a readable polygon file ({error})") from error
    if frame.crs is None:
        raise PolygonFileError(f"{path}: the file has no CRS (a shapefile needs its .prj)")
    frame = frame.to_crs("EPSG:4326")
    name_column = next((c for c in NAME_COLUMNS if c in frame.columns), None)
    id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    reason, suffix = CATEGORIES.get(category, ("OTHER", ""))
    features = []
    for row, record in enumerate(frame.itertuples(index=False), start=1):
        geometry = record.geometry
        if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        geometry = shapely.make_valid(geometry)
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            geometry = shapely.union_all(
                [
                    g
                    for g in getattr(geometry, "geoms", [geometry])
                    if g.geom_type in ("Polygon", "MultiPolygon")
                ]
            )
        if area is not None and not geometry.intersects(area):
            continue
        code = str(getattr(record, id_column)) if id_column else str(row)
        label = str(getattr(record, name_column)) if name_column else f"{category} {code}"
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "identifier": f"{prefix}-{code}",
                    "country": country,
                    "type": zone_type,
                    "variant": "COMMON",
                    "name": [{"text": f"{label} {suffix}".strip(), "lang": "ja-JP"}],
                    "reason": [reason],
                    "extendedProperties": {
                        "jp:category": category,
                        "planning.bufferM": buffer_m,
                        "source": path.name,
                    },
                },
                "geometry": _rounded(mapping(geometry)),
            }
        )
    if not features:
        raise PolygonFileError(f"{path}: no Polygon or MultiPolygon" + (" in the area" if area else ""))
    return features


def merge_zones(existing: dict[str, Any] | None, new: list[dict[str, Any]]) -> dict[str, Any]:
    """``existing`` zones.geojson with ``new`` features added (same identifier: replaced)."""
    ids = {f["properties"]["identifier"] for f in new}
    kept = [
        f
        for f in (existing or {}).get("features", [])
        if f.get("properties", {}).get("identifier") not in ids
    ]
    return {"type": "FeatureCollection", "features": kept + new}


def _rounded(value: Any) -> Any:
    """Coordinates to 7 decimals (about 1 cm), as lists (JSON) instead of shapely's tuples."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], float | int):
            return [round(float(v), 7) for v in value]
        return [_rounded(v) for v in value]
    return value
