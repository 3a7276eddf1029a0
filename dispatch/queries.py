"""Read models for the console and exports: plain dataclasses, no ORM objects leak out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dispatch.db import Database
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


def map_frame(db: Database, region_code: str, now: dt.datetime | None = None) -> MapFrame | None:
    """The hubs and zones of ``region_code``; ``None`` when there is no such region."""
    now = now or dt.datetime.now(dt.UTC)
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == region_code)).first()
        if region is None:
            return None
        hubs = tuple(
            HubPlace(id=h.id, code=h.code, name=h.name, kind=h.kind, drone_port=h.drone_port,
                     lon=h.lon, lat=h.lat)
            for h in s.execute(select(Hub.id, Hub.code, Hub.name, Hub.kind, Hub.drone_port, Hub.lon, Hub.lat)
                               .where(Hub.region_id == region.id).order_by(Hub.code))
        )
        return MapFrame(hubs=hubs, zones=_zones(s, region, now))


def _zones(s: Any, region: Region, now: dt.datetime) -> tuple[ZoneSummary, ...]:
    """The region's zones with their validity in words and whether they are active at ``now``."""
    tz = ZoneInfo(region.timezone)
    return tuple(
        ZoneSummary(
            identifier=z.identifier, name=z.name, type=z.type, category=z.category,
            geometry=z.geometry, validity=zone_validity_text(z.applicability, tz),
            active=zone_active_at(z.applicability, z.active_override, now),
        )
        for z in s.scalars(select(Zone).where(Zone.region_id == region.id).order_by(Zone.identifier))
    )


def list_regions(db: Database) -> list[tuple[str, str]]:
    with db.read() as s:
        return [(r.code, r.name) for r in s.scalars(select(Region).order_by(Region.code))]


def region_overview(db: Database, region_code: str | None = None,
                    now: dt.datetime | None = None) -> RegionOverview | None:
    """Everything the region map shows; ``None`` when no region is loaded."""
    now = now or dt.datetime.now(dt.UTC)
    with db.read() as s:
        query = select(Region).order_by(Region.code)
        if region_code:
            query = query.where(Region.code == region_code)
        region = s.scalars(query.limit(1)).first()
        if region is None:
            return None

        def count(model: Any, *where: Any) -> dict[str, int]:
            rows = s.execute(select(model.hub_id, func.count()).where(*where).group_by(model.hub_id))
            return {hub_id: n for hub_id, n in rows}

        residents_n = count(Resident, Resident.region_id == region.id, Resident.active)
        volunteers_n = count(Volunteer, Volunteer.region_id == region.id, Volunteer.active)
        drones_n = count(Drone, Drone.region_id == region.id, Drone.status != "retired")
        open_n = count(Order, Order.region_id == region.id,
                       Order.state.in_(("received", "confirmed")))
        hubs = tuple(
            HubSummary(
                id=h.id, code=h.code, name=h.name, kind=h.kind, drone_port=h.drone_port,
                lon=h.lon, lat=h.lat, cutoffs=tuple(h.cutoffs), weather_hold=h.weather_hold,
                residents=residents_n.get(h.id, 0), volunteers=volunteers_n.get(h.id, 0),
                drones=drones_n.get(h.id, 0), open_orders=open_n.get(h.id, 0),
            )
            for h in s.scalars(select(Hub).where(Hub.region_id == region.id).order_by(Hub.code))
        )
        zones = _zones(s, region, now)
        residents = tuple(
            ResidentPoint(id=r.id, code=r.code, hub_id=r.hub_id, lon=r.lon, lat=r.lat,
                          has_drop_point=r.drop_lon is not None)
            for r in s.scalars(select(Resident).where(Resident.region_id == region.id, Resident.active))
        )
        roads = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"kind": r.kind},
                 "geometry": {"type": "LineString", "coordinates": r.coords}}
                for r in s.scalars(select(Road).where(Road.region_id == region.id))
            ],
        }
        return RegionOverview(id=region.id, code=region.code, name=region.name,
                              timezone=region.timezone, hubs=hubs, zones=zones,
                              residents=residents, roads=roads)


@dataclass(frozen=True)
class OrderRow:
    id: str
    number: int
    state: str
    channel: str
    hub_id: str
    resident_code: str
    items: str
    weight_kg: float
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    created_at: dt.datetime
    lon: float
    lat: float


def order_queue(db: Database, hub_ids: set[str] | None, limit: int = 200) -> list[OrderRow]:
    """Orders not finished yet (newest first), for the operator's hubs (None = all hubs)."""
    from sqlalchemy.orm import selectinload

    stmt = (select(Order, Resident).join(Resident, Order.resident_id == Resident.id)
            .where(Order.state.not_in(("delivered", "cancelled")))
            .options(selectinload(Order.items))
            .order_by(Order.created_at.desc()).limit(limit))
    if hub_ids is not None:
        stmt = stmt.where(Order.hub_id.in_(hub_ids))
    with db.read() as s:
        return [
            OrderRow(o.id, o.number, o.state, o.channel, o.hub_id, r.code,
                     "、".join(f"{i.name}×{i.quantity}" for i in o.items), o.weight_kg,
                     o.window_start, o.window_end, o.created_at, r.lon, r.lat)
            for o, r in s.execute(stmt)
        ]
