"""Import a region that :mod:`dispatch.region.reader` has read and checked, in one transaction.

Loading the same region again updates it in place (matched by the ids of the files), never
duplicates. Residents, volunteers and drones that disappear from the files are deactivated rather
than deleted, because orders and plans keep pointing at them; roads and zones are replaced.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.models import (
    TRAINING,
    BusTrip,
    Drone,
    Hub,
    Permit,
    Proxy,
    Region,
    Resident,
    Road,
    Route,
    Volunteer,
    Zone,
    utcnow,
)
from dispatch.region.reader import RegionData
from dispatch.services import proxies
from dispatch.services.training import records_of
from dispatch.zones import stored_applicability


@dataclass
class LoadReport:
    """What a load did, per kind of record: created / updated / deactivated counts."""

    region_id: str
    region_code: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def lines(self) -> list[str]:
        return [
            f"{kind}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(c.items()))
            for kind, c in self.counts.items()
        ]


def load_region(db: Database, data: RegionData, code: str | None = None) -> LoadReport:
    """Create or update the region ``code`` (default: the folder name) from ``data``."""
    region_code = code or data.path.name
    with db.write() as session:
        region = session.scalars(select(Region).where(Region.code == region_code)).one_or_none()
        if region is None:
            region = Region(code=region_code)
            session.add(region)
        region.name = data.meta.name
        region.crs = data.meta.crs
        region.timezone = data.meta.timezone
        region.locale = data.meta.locale
        region.loaded_at = utcnow()
        session.flush()
        report = LoadReport(region_id=region.id, region_code=region_code)
        hubs = _load_hubs(session, region, data, report)
        _load_residents(session, region, data, hubs, report)
        _load_volunteers(session, region, data, hubs, report)
        _load_drones(session, region, data, hubs, report)
        _load_proxies(session, region, data, report)
        _replace_roads(session, region, data, report)
        _replace_zones(session, region, data, report)
        _replace_bus_trips(session, region, data, report)
        _load_permits(session, region, data, hubs, report)
    return report


def _existing(session: Session, model: Any, region: Region) -> dict[str, Any]:
    rows = session.scalars(select(model).where(model.region_id == region.id)).all()
    return {row.code: row for row in rows}


def _upsert(
    session: Session, existing: dict[str, Any], model: Any, code: str, values: dict[str, Any],
    report: LoadReport, kind: str, key: str = "code",
) -> Any:
    row = existing.get(code)
    if row is None:
        row = model(**{key: code}, **values)
        session.add(row)
        report.add(kind, "created")
        return row
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    report.add(kind, "updated" if changed else "unchanged")
    return row


def _load_hubs(
    session: Session, region: Region, data: RegionData, report: LoadReport
) -> dict[str, Hub]:
    existing = _existing(session, Hub, region)
    hubs: dict[str, Hub] = {}
    for h in data.hubs:
        values = {
            "region_id": region.id, "name": h.name, "kind": h.kind, "drone_port": h.drone_port,
            "opens": h.opens, "closes": h.closes,
            "cutoffs": [t.strftime("%H:%M") for t in h.cutoffs], "lon": h.lon, "lat": h.lat,
            "phone": h.phone,
        }
        hubs[h.code] = _upsert(session, existing, Hub, h.code, values, report, "hubs")
    session.flush()
    return hubs


def _load_residents(
    session: Session, region: Region, data: RegionData, hubs: dict[str, Hub], report: LoadReport
) -> None:
    existing = _existing(session, Resident, region)
    seen = set()
    for r in data.residents:
        seen.add(r.code)
        values = {
            "region_id": region.id, "hub_id": hubs[r.hub_code].id, "name": r.name,
            "phone": r.phone, "language": r.language, "lon": r.lon, "lat": r.lat,
            "drop_lon": r.drop_lon, "drop_lat": r.drop_lat, "notes": r.notes, "active": True,
            "handover_consent": r.handover,
        }
        _upsert(session, existing, Resident, r.code, values, report, "residents")
    _deactivate(existing, seen, report, "residents")


def _load_volunteers(
    session: Session, region: Region, data: RegionData, hubs: dict[str, Hub], report: LoadReport
) -> None:
    existing = _existing(session, Volunteer, region)
    # Training recorded in the console is kept when the file does not list it (docs/volunteers.md).
    recorded = records_of(session, [row.id for row in existing.values()])
    seen = set()
    for v in data.volunteers:
        seen.add(v.code)
        kept = {r.course for r in recorded.get(existing[v.code].id, [])} if v.code in existing else set()
        values = {
            "region_id": region.id, "hub_id": hubs[v.hub_code].id, "name": v.name,
            "phone": v.phone, "mode": v.mode, "capacity_kg": v.capacity_kg,
            "max_parcels": v.max_parcels, "shift_start": v.shift_start, "shift_end": v.shift_end,
            "days": list(v.days), "active": True, "language": v.language,
            "training": [*v.training, *(c for c in TRAINING if c in kept and c not in v.training)],
        }
        _upsert(session, existing, Volunteer, v.code, values, report, "volunteers")
    _deactivate(existing, seen, report, "volunteers")


def _load_drones(
    session: Session, region: Region, data: RegionData, hubs: dict[str, Hub], report: LoadReport
) -> None:
    existing = _existing(session, Drone, region)
    seen = set()
    for d in data.drones:
        seen.add(d.code)
        values = {
            "region_id": region.id, "hub_id": hubs[d.hub_code].id, "model": d.model,
            "payload_kg": d.payload_kg, "range_km": d.range_km, "cruise_kmh": d.cruise_kmh,
            "turnaround_min": d.turnaround_min, "registration": d.registration, **d.limits,
        }
        row = _upsert(session, existing, Drone, d.code, values, report, "drones")
        if row.status == "retired":
            row.status = "available"
    for code, row in existing.items():
        if code not in seen and row.status != "retired":
            row.status = "retired"
            report.add("drones", "retired")


def _load_permits(
    session: Session, region: Region, data: RegionData, hubs: dict[str, Hub], report: LoadReport
) -> None:
    """Permits of ``permits.csv`` by number, created or updated. Permits entered on the console
    are left alone, and a region permit no longer in the file stays (its record is history)."""
    existing = {p.number: p for p in session.scalars(select(Permit).where(Permit.region_id == region.id))}
    for p in data.permits:
        values = {
            "region_id": region.id, "hub_id": hubs[p.hub_code].id, "holder": p.holder,
            "valid_from": p.valid_from, "valid_until": p.valid_until, "categories": list(p.categories),
            "drones": list(p.drones), "pilots": list(p.pilots), "zones": list(p.zones),
            "notes": p.notes, "source": "region",
        }
        _upsert(session, existing, Permit, p.number, values, report, "permits", key="number")


def _load_proxies(session: Session, region: Region, data: RegionData, report: LoadReport) -> None:
    """Add, update or (``active`` false) revoke the proxies of ``proxies.csv`` through the same
    service as the console, so the resident and the proxy are texted of each change. A proxy
    missing from the file is left as it is: it may have been registered in the console."""
    residents = _existing(session, Resident, region)
    now = utcnow()
    for p in data.proxies:
        resident = residents[p.resident_code]
        found = session.scalars(select(Proxy).where(Proxy.resident_id == resident.id,
                                                    Proxy.phone == p.phone)).first()
        if not p.active:
            if found is not None and proxies.revoke(session, found, user_id=None, now=now):
                report.add("proxies", "revoked")
            continue
        at = dt.datetime.combine(p.consented_on, dt.time(), ZoneInfo(region.timezone))
        consent = proxies.Consent(p.consented_by, p.consent_method, at, p.ordering, p.receiving, p.note)
        proxies.save_proxy(session, resident, name=p.name, phone=p.phone, relation=p.relation,
                           consent=consent, user_id=None, now=now)
        report.add("proxies", "created" if found is None else "updated")


def _deactivate(existing: dict[str, Any], seen: set[str], report: LoadReport, kind: str) -> None:
    for code, row in existing.items():
        if code not in seen and row.active:
            row.active = False
            report.add(kind, "deactivated")


def _replace_roads(session: Session, region: Region, data: RegionData, report: LoadReport) -> None:
    existing = {row.code: row for row in session.scalars(select(Road).where(Road.region_id == region.id))}
    for road in data.roads:
        values = {
            "region_id": region.id, "kind": road.kind, "maxspeed_kmh": road.maxspeed_kmh,
            "oneway": road.oneway, "car": road.car, "coords": [list(c) for c in road.coords],
        }
        _upsert(session, existing, Road, road.code, values, report, "roads")
    wanted = {road.code for road in data.roads}
    for code, row in existing.items():
        if code not in wanted:
            session.delete(row)
            report.add("roads", "deleted")


def _replace_zones(session: Session, region: Region, data: RegionData, report: LoadReport) -> None:
    existing = {
        row.identifier: row for row in session.scalars(select(Zone).where(Zone.region_id == region.id))
    }
    for z in data.zones:
        values = {
            "region_id": region.id, "name": z.name, "type": z.type, "variant": z.variant,
            "reason": z.reason, "category": z.category, "buffer_m": z.buffer_m,
            "lower_m": z.lower_m, "upper_m": z.upper_m, "geometry": _plain(mapping(z.geometry)),
            "applicability": stored_applicability(z.applicability, data.meta.timezone,
                                                  _point(z.geometry)),
            "feature": z.feature,
        }
        row = existing.get(z.identifier)
        if row is None:
            session.add(Zone(identifier=z.identifier, **values))
            report.add("zones", "created")
            continue
        changed = any(getattr(row, k) != v for k, v in values.items())
        for key, value in values.items():
            setattr(row, key, value)
        report.add("zones", "updated" if changed else "unchanged")
    wanted = {z.identifier for z in data.zones}
    for identifier, row in existing.items():
        if identifier not in wanted:
            session.delete(row)
            report.add("zones", "deleted")


def _replace_bus_trips(session: Session, region: Region, data: RegionData, report: LoadReport) -> None:
    """The trips that carry parcels; a trip no longer listed is deleted unless a plan used it
    (then it stays, with no capacity, so the plan's bus leg keeps its trip)."""
    rows = session.scalars(select(BusTrip).where(BusTrip.region_id == region.id))
    existing = {row.code: row for row in rows}
    for record in data.bus_trips:
        trip = record.trip
        values = {
            "region_id": region.id, "route_code": trip.route_id, "route_name": trip.route_name,
            "max_parcels": record.max_parcels, "max_kg": record.max_kg, "agreement": record.agreement,
            "service": trip.service.to_json(),
            "calls": [[c.stop_id, c.name, c.lon, c.lat, c.arrival, c.departure] for c in trip.calls],
        }
        _upsert(session, existing, BusTrip, trip.trip_id, values, report, "bus trips")
    wanted = {record.trip.trip_id for record in data.bus_trips}
    for code, row in existing.items():
        if code in wanted:
            continue
        if session.scalar(select(Route.id).where(Route.bus_trip_id == row.id).limit(1)) is None:
            session.delete(row)
        else:
            row.max_parcels = 0
        report.add("bus trips", "deleted")


def _point(geometry: Any) -> tuple[float, float]:
    """Where a zone's sun events are computed: a point inside it (WGS84 lon, lat)."""
    inside = geometry.representative_point()
    return float(inside.x), float(inside.y)


def _plain(geometry: Any) -> Any:
    """shapely's ``mapping`` gives tuples; the stored JSON comes back as lists."""
    if isinstance(geometry, dict):
        return {k: _plain(v) for k, v in geometry.items()}
    if isinstance(geometry, list | tuple):
        return [_plain(v) for v in geometry]
    return geometry
