"""The flight log (飛行日誌) and the flight-plan notification data (飛行計画の通報), filled from
the recorded sorties and the confirmed plans (issue 14, item 3).

Field lists follow MLIT's 無人航空機の飛行日誌の取扱要領 (flight records, 様式1; daily
inspections, 様式2) and the items DIPS 2.0 asks when a flight plan is notified (航空法施行規則
第236条の83); see ``docs/drones.md`` for the mapping and what Hakobu cannot fill in.

Only the operator's own staff see this (a hub-scoped console page, the CLI): it names pilots, but
no resident (a drop is named by its order number).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.lifecycle import PlanState
from dispatch.localtime import timezone_of_hubs
from dispatch.models import Batch, Drone, Hub, Order, Permit, Plan, Route, SortieLog, Zone
from dispatch.permits import zone_category

#: Every Hakobu sortie is flown beyond visual line of sight (目視外, Level 3/3.5).
ALWAYS = ("bvlos",)
#: 飛行目的 as the log states it (the log is kept for the Japanese authorities, in Japanese).
PURPOSE = {"shuttle": "物資輸送（集荷便）", "direct": "物資輸送（配送）"}


@dataclass(frozen=True)
class FlightRecord:
    """One 飛行記録 line (様式1): a sortie that took off."""

    date: str  # 飛行年月日 (local)
    pilot: str  # 飛行させた者の氏名
    pilot_licence: str  # 技能証明書番号 (as typed at take-off; "" when none was given)
    registration: str  # 登録記号
    aircraft: str  # drone code and model (種類・型式)
    purpose: str  # 飛行目的
    route: str  # 飛行経路 (hub → supply point / drop points → hub)
    categories: str  # 特定飛行 (space-separated routing.CATEGORIES)
    permit: str  # 許可承認番号
    takeoff_place: str
    takeoff_time: str
    landing_place: str
    landing_time: str
    flight_minutes: str  # 飛行時間
    total_hours: str  # 総飛行時間 recorded in Hakobu for this aircraft, up to this landing
    safety_events: str  # 飛行の安全に影響のあった事項 (an abort's reason, staff's notes)
    defects: str  # 不具合及びその対応
    outcome: str  # landed | aborted | flying
    sortie_id: str


@dataclass(frozen=True)
class Inspection:
    """One 日常点検記録 line (様式2): the first pre-flight checklist of a drone that day."""

    date: str
    place: str
    inspector: str
    registration: str
    aircraft: str
    battery: str  # バッテリー・電源系統: checked at the take-off checklist
    weather: str  # the pilot checked the weather
    payload_kg: str  # weighed against the drone's limit
    other_items: str  # 機体全般・プロペラ・フレーム・通信・推進・自動制御・操縦装置


@dataclass(frozen=True)
class PlannedFlight:
    """What DIPS 2.0 asks to notify before a flight (飛行計画の通報), one line per planned sortie."""

    date: str
    window: str  # 飛行日時 (local take-off – landing)
    departure: str  # 出発地
    destination: str  # 目的地
    route: str  # 飛行経路: lon lat waypoints (WGS84) to draw as a line in DIPS
    purpose: str
    registration: str
    aircraft: str
    pilots: str  # named on the permit (the pilot is recorded at take-off)
    permit: str
    categories: str
    max_altitude_m: str  # 飛行高度: not planned by Hakobu (empty: enter it in DIPS)
    sortie_id: str


def _day(tz: ZoneInfo, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tz)
    return start, start + dt.timedelta(days=1)


def _hubs(session: Session, hub_ids: Iterable[str] | None) -> list[str]:
    query = select(Hub.id)
    if hub_ids is not None:
        query = query.where(Hub.id.in_(list(hub_ids)))
    return list(session.scalars(query))


def _categories(session: Session, region_id: str, zone_ids: Iterable[str], kind: str) -> str:
    named = set(ALWAYS) | ({"drop"} if kind == "direct" else set())
    if zone_ids:
        for zone in session.scalars(
            select(Zone).where(Zone.region_id == region_id, Zone.identifier.in_(list(zone_ids)))
        ):
            category = zone_category(zone)
            if category:
                named.add(category)
    return " ".join(sorted(named))


def _route_text(session: Session, route: Route, hub: Hub) -> tuple[str, str]:
    """(kind, "IZUSHI → TOYOOKA-PO → IZUSHI" or "IZUSHI → 投下 #12 → IZUSHI", a drop by order number)."""
    stops = sorted(route.stops, key=lambda s: s.seq)
    if any(s.kind in ("load", "transfer") for s in stops):
        origin = next((s for s in stops if s.kind == "load"), None)
        where = session.get(Order, origin.order_id) if origin else None
        supply = session.get(Hub, where.origin_hub_id) if where and where.origin_hub_id else None
        return "shuttle", f"{hub.code} → {supply.code if supply else '?'} → {hub.code}"
    numbers = [session.get_one(Order, s.order_id).number for s in stops if s.kind == "delivery"]
    return "direct", " → ".join([hub.code, *(f"投下 #{n}" for n in numbers), hub.code])


def _hhmm(at: dt.datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%H:%M") if at else ""


def _flown(session: Session, day: dt.date, hub_ids: Iterable[str] | None) -> tuple[ZoneInfo, list[Any]]:
    """The region's timezone and (log, route, drone, hub) of each take-off on ``day``, in order."""
    tz = timezone_of_hubs(session, hub_ids)
    start, end = _day(tz, day)
    rows = session.execute(
        select(SortieLog, Route, Drone, Hub)
        .join(Route, Route.id == SortieLog.route_id)
        .join(Drone, Drone.id == SortieLog.drone_id)
        .join(Hub, Hub.id == Drone.hub_id)
        .where(
            SortieLog.taken_off_at >= start, SortieLog.taken_off_at < end, Hub.id.in_(_hubs(session, hub_ids))
        )
        .order_by(SortieLog.taken_off_at)
    ).all()
    return tz, list(rows)


def flight_records(
    session: Session, day: dt.date, hub_ids: Iterable[str] | None = None
) -> list[FlightRecord]:
    """Every sortie that took off on the local ``day`` at ``hub_ids`` (None: every hub), by take-off."""
    tz, rows = _flown(session, day, hub_ids)
    out = []
    for log, route, drone, hub in rows:
        kind, path = _route_text(session, route, hub)
        down = log.landed_at or log.aborted_at
        minutes = (down - log.taken_off_at).total_seconds() / 60 if down and log.taken_off_at else None
        flown = session.execute(
            select(SortieLog.taken_off_at, SortieLog.landed_at, SortieLog.aborted_at).where(
                SortieLog.drone_id == drone.id,
                SortieLog.taken_off_at.is_not(None),
                SortieLog.taken_off_at <= log.taken_off_at,
            )
        ).all()
        total = sum(((b or c) - a).total_seconds() for a, b, c in flown if (b or c)) / 3600
        out.append(
            FlightRecord(
                date=log.taken_off_at.astimezone(tz).date().isoformat(),
                pilot=log.pilot,
                pilot_licence=log.pilot_licence,
                registration=drone.registration,
                aircraft=f"{drone.code} {drone.model}",
                purpose=PURPOSE[kind],
                route=path,
                categories=_categories(session, drone.region_id, log.permit_zones or [], kind),
                permit=log.permit_ref,
                takeoff_place=hub.name,
                takeoff_time=_hhmm(log.taken_off_at, tz),
                landing_place=hub.name if log.landed_at else "",
                landing_time=_hhmm(down, tz),
                flight_minutes=f"{minutes:.0f}" if minutes is not None else "",
                total_hours=f"{total:.2f}",
                safety_events="; ".join(x for x in (log.abort_reason, log.safety_notes) if x),
                defects=log.defects,
                outcome=log.outcome,
                sortie_id=route.id,
            )
        )
    return out


def inspections(session: Session, day: dt.date, hub_ids: Iterable[str] | None = None) -> list[Inspection]:
    """The daily inspection per drone flown on ``day``: its first checklist of the day."""
    seen: set[str] = set()
    out = []
    _tz, rows = _flown(session, day, hub_ids)
    for log, _route, drone, hub in rows:
        if drone.id in seen:
            continue
        seen.add(drone.id)
        out.append(
            Inspection(
                date=day.isoformat(),
                place=hub.name,
                inspector=log.pilot,
                registration=drone.registration,
                aircraft=f"{drone.code} {drone.model}",
                battery="OK" if log.battery_checked else "",
                weather="OK" if log.weather_checked else "",
                payload_kg=f"{log.payload_kg:.2f} / {log.payload_limit_kg:g}"
                if log.payload_kg is not None
                else "",
                other_items="not recorded in Hakobu",
            )
        )
    return out


def planned_flights(
    session: Session, day: dt.date, hub_ids: Iterable[str] | None = None
) -> list[PlannedFlight]:
    """The sorties of the confirmed plans of ``day`` (by planned take-off): what to notify."""
    tz = timezone_of_hubs(session, hub_ids)
    start, end = _day(tz, day)
    routes = session.execute(
        select(Route, Drone, Hub)
        .join(Plan, Plan.id == Route.plan_id)
        .join(Batch, Batch.id == Plan.batch_id)
        .join(Drone, Drone.id == Route.drone_id)
        .join(Hub, Hub.id == Batch.hub_id)
        .where(
            Plan.state == PlanState.CONFIRMED,
            Route.depart_at >= start,
            Route.depart_at < end,
            Hub.id.in_(_hubs(session, hub_ids)),
        )
        .order_by(Route.depart_at)
    ).all()
    out = []
    for route, drone, hub in routes:
        kind, path = _route_text(session, route, hub)
        permits = list(
            session.scalars(
                select(Permit).where(Permit.hub_id == hub.id, Permit.number.in_(list(route.permits or [])))
            )
        )
        points = route.path or [
            [hub.lon, hub.lat],
            *([s.lon, s.lat] for s in route.stops),
            [hub.lon, hub.lat],
        ]
        zones = sorted({z for p in permits for z in p.zones})
        out.append(
            PlannedFlight(
                date=day.isoformat(),
                window=f"{_hhmm(route.depart_at, tz)}–{_hhmm(route.return_at, tz)}",
                departure=hub.name,
                destination=hub.name if kind == "direct" else path.split(" → ")[1],
                route=" ".join(f"{x:.6f},{y:.6f}" for x, y in points),
                purpose=PURPOSE[kind],
                registration=drone.registration,
                aircraft=f"{drone.code} {drone.model}",
                pilots="; ".join(p for permit in permits for p in permit.pilots),
                permit=" ".join(p.number for p in permits),
                categories=_categories(session, drone.region_id, zones, kind),
                max_altitude_m="",
                sortie_id=route.id,
            )
        )
    return out


def as_csv(rows: list[FlightRecord] | list[Inspection] | list[PlannedFlight], kind: type) -> str:
    """CSV text with a header of the dataclass's field names (UTF-8; Excel opens it with a BOM)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(kind.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return buffer.getvalue()


def flown_days(session: Session, hub_ids: Iterable[str] | None = None, limit: int = 30) -> list[dt.date]:
    """The local days with a take-off at these hubs, latest first (the page's day picker)."""
    tz = timezone_of_hubs(session, hub_ids)
    query = select(SortieLog.taken_off_at).where(SortieLog.taken_off_at.is_not(None))
    if hub_ids is not None:
        query = query.join(Drone, Drone.id == SortieLog.drone_id).where(Drone.hub_id.in_(list(hub_ids)))
    days = {
        at.astimezone(tz).date()
        for at in session.scalars(query.order_by(SortieLog.taken_off_at.desc()).limit(2000))
    }
    return sorted(days, reverse=True)[:limit]
