"""The region map: its hubs (with the dashboard's counts), no-fly zones, residents and roads, and
the lighter frame a plan's map draws around its routes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.lifecycle import OrderState
from dispatch.models import Drone, Hub, Order, Region, Resident, Road, Volunteer, Zone
from dispatch.zones import zone_active_at, zone_validity_text


@dataclass(frozen=True)
class HubPlace:
    id: str
    code: str
    name: str
    kind: str
    drone_port: bool
    lon: float
    lat: float


@dataclass(frozen=True)
class HubSummary(HubPlace):
    """A hub with what the dashboard counts."""

    cutoffs: tuple[str, ...]
    weather_hold: bool
    residents: int
    volunteers: int
    drones: int
    open_orders: int


@dataclass(frozen=True)
class ZoneSummary:
    identifier: str
    name: str
    type: str
    category: str | None
    geometry: dict[str, Any]
    validity: str
    active: bool
    #: ED-318's localised names as published ((lang, text), e.g. ("en-GB", "Yamazato school")):
    #: the web shows the one in the viewer's language, ``name`` (the region's language) otherwise
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ResidentPoint:
    id: str
    code: str
    hub_id: str
    lon: float
    lat: float
    has_drop_point: bool


@dataclass(frozen=True)
class RegionOverview:
    id: str
    code: str
    name: str
    timezone: str
    hubs: tuple[HubSummary, ...]
    zones: tuple[ZoneSummary, ...]
    residents: tuple[ResidentPoint, ...]
    roads: dict[str, Any]  # GeoJSON FeatureCollection, WGS84

    @property
    def center(self) -> tuple[float, float]:
        pts = [(h.lat, h.lon) for h in self.hubs] or [(r.lat, r.lon) for r in self.residents]
        if not pts:
            return (35.5, 134.8)
        return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


@dataclass(frozen=True)
class MapFrame:
    """What a plan's map draws around the routes: the region's hubs and no-fly zones (none of the
    residents, roads and counts of :class:`RegionOverview`, which a plan page does not show)."""

    hubs: tuple[HubPlace, ...]
    zones: tuple[ZoneSummary, ...]


def map_frame(session: Session, region_code: str, now: dt.datetime) -> MapFrame | None:
    """The hubs and zones of ``region_code`` (zones active or not at ``now``); ``None`` when there
    is no such region."""
    region = session.scalars(select(Region).where(Region.code == region_code)).first()
    if region is None:
        return None
    hubs = tuple(
        HubPlace(id=h.id, code=h.code, name=h.name, kind=h.kind, drone_port=h.drone_port,
                 lon=h.lon, lat=h.lat)
        for h in session.execute(
            select(Hub.id, Hub.code, Hub.name, Hub.kind, Hub.drone_port, Hub.lon, Hub.lat)
            .where(Hub.region_id == region.id).order_by(Hub.code))
    )
    return MapFrame(hubs=hubs, zones=_zones(session, region, now))


def _zones(session: Session, region: Region, now: dt.datetime) -> tuple[ZoneSummary, ...]:
    """The region's zones with their validity in words and whether they are active at ``now``."""
    tz = ZoneInfo(region.timezone)
    return tuple(
        ZoneSummary(
            identifier=z.identifier, name=z.name, type=z.type, category=z.category,
            geometry=z.geometry, validity=zone_validity_text(z.applicability, tz),
            active=zone_active_at(z.applicability, z.active_override, now), names=_names(z.feature),
        )
        for z in session.scalars(select(Zone).where(Zone.region_id == region.id).order_by(Zone.identifier))
    )


def _names(feature: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The localised names of a stored ED-318 feature (a plain string name gives none)."""
    raw = (feature.get("properties") or {}).get("name")
    if not isinstance(raw, list):
        return ()
    return tuple((str(n.get("lang", "")), str(n["text"]))
                 for n in raw if isinstance(n, dict) and n.get("text"))


def region_overview(session: Session, now: dt.datetime,
                    region_code: str | None = None) -> RegionOverview | None:
    """Everything the region map shows (zones as they are at ``now``); ``None`` when no region is
    loaded. Without ``region_code``, the first region by code (a console serves one region)."""
    query = select(Region).order_by(Region.code)
    if region_code:
        query = query.where(Region.code == region_code)
    region = session.scalars(query.limit(1)).first()
    if region is None:
        return None

    def count(model: Any, *where: Any) -> dict[str, int]:
        rows = session.execute(select(model.hub_id, func.count()).where(*where).group_by(model.hub_id))
        return {hub_id: n for hub_id, n in rows}

    residents_n = count(Resident, Resident.region_id == region.id, Resident.active)
    volunteers_n = count(Volunteer, Volunteer.region_id == region.id, Volunteer.active)
    drones_n = count(Drone, Drone.region_id == region.id, Drone.status != "retired")
    open_n = count(Order, Order.region_id == region.id,
                   Order.state.in_((OrderState.RECEIVED, OrderState.CONFIRMED)))
    hubs = tuple(
        HubSummary(
            id=h.id, code=h.code, name=h.name, kind=h.kind, drone_port=h.drone_port,
            lon=h.lon, lat=h.lat, cutoffs=tuple(h.cutoffs), weather_hold=h.weather_hold,
            residents=residents_n.get(h.id, 0), volunteers=volunteers_n.get(h.id, 0),
            drones=drones_n.get(h.id, 0), open_orders=open_n.get(h.id, 0),
        )
        for h in session.scalars(select(Hub).where(Hub.region_id == region.id).order_by(Hub.code))
    )
    zones = _zones(session, region, now)
    residents = tuple(
        ResidentPoint(id=r.id, code=r.code, hub_id=r.hub_id, lon=r.lon, lat=r.lat,
                      has_drop_point=r.drop_lon is not None)
        for r in session.scalars(select(Resident).where(Resident.region_id == region.id, Resident.active))
    )
    roads = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"kind": r.kind},
             "geometry": {"type": "LineString", "coordinates": r.coords}}
            for r in session.scalars(select(Road).where(Road.region_id == region.id))
        ],
    }
    return RegionOverview(id=region.id, code=region.code, name=region.name,
                          timezone=region.timezone, hubs=hubs, zones=zones,
                          residents=residents, roads=roads)
