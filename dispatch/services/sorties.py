"""Drone sorties as hub staff fly them: pre-flight checklist and take-off, drop, landing, abort
(issue 5, items 6-7; issue 13, item 2).

A sortie is a drone Route row of a confirmed plan. Hub staff (on ``/drones``, or the simulator)
record each step; each moves the custody of the parcels on board, with the staff member as the
actor, and the order's state, in the same transaction as the resident's SMS:

* **take-off** (:func:`take_off`), only with a :class:`PreFlight` checklist (battery, weather,
  payload against the drone's limit, and when a zone on the path needs one, a recorded permit
  valid today that covers the zone, the drone and the pilot: :func:`covering_permit`), kept
  in a :class:`~dispatch.models.SortieLog` row. Custody ``supply_to_drone`` (shuttle) or
  ``hub_to_drone`` (direct; order ``planned → dispatched → in_transit``, resident told it is on
  its way);
* **drop** at the resident's drop point (:func:`drop`, direct sorties): ``drone_to_resident``,
  proven by the resident's delivery PIN when a person receives it (``resident_pin``) or by the
  flight log for an unattended drop point (``drone_log``); order ``delivered``, receipt queued;
* **landing** (:func:`land`): a shuttle's parcels go to the hub (``drone_to_hub``), which releases
  them to the couriers (:mod:`dispatch.services.delivery` refuses the pick-up until then). A direct
  sortie lands only once every parcel was dropped (or it is aborted);
* **abort** (:func:`abort`), before or after take-off: parcels on board come back to the hub's
  custody (``returned``), and an order not delivered goes back to the queue for the next batch
  (``in_transit → returned → confirmed`` or ``planned → confirmed``), to the ground if staff say so
  (``force_ground``); the resident is told (``rescheduled``). A shuttle's parcel that was already
  on board lands at the hub anyway, so it stays planned and released to its courier.

Parcels whose custody is elsewhere are reported in :attr:`SortieRecord.skipped`, never moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import shapely
from pyproj import Transformer
from shapely.geometry import LineString, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import ROUTE_WORKING, OrderState, PlanState, RouteState, transition
from dispatch.localtime import timezone_of
from dispatch.models import (
    Batch,
    Drone,
    Hub,
    OperatorAlert,
    Order,
    Permit,
    Plan,
    Region,
    Resident,
    Route,
    SortieLog,
    Zone,
)
from dispatch.permits import PERMIT_TYPES, hub_permits, permit_status
from dispatch.phrases import Phrase
from dispatch.services import notify
from dispatch.services.delivery import holder
from dispatch.services.free_text import checked_text
from dispatch.services.handoffs import append_event
from dispatch.services.pins import MAX_ATTEMPTS, PinResult, PinStatus, normalise_pin, pin_matches
from dispatch.weather.readings import no_go
from dispatch.zones import zone_active_at

#: Longest free text (abort reason, permit reference) staff may record.
MAX_TEXT = 200
#: Longest skill certificate number (技能証明書番号) staff may type.
MAX_LICENCE = 40
#: Longest flight-log entry (safety events, a defect and its handling) recorded at the landing.
MAX_LOG_TEXT = 1000


@dataclass(frozen=True)
class PreFlight:
    """The pilot's checklist before take-off, recorded with it.

    ``payload_kg`` is the weight on the scale (None: the planned weight of the parcels);
    ``pilot`` who flies it (飛行させた者, as named on the permit) and ``pilot_licence`` their skill
    certificate number (技能証明書番号, for the flight log; optional); ``permit_ref`` the number of the
    permit to fly under when a zone on the path needs one ("": the one the plan relies on, or any
    recorded permit of the hub that covers the flight).
    """

    battery_checked: bool
    weather_checked: bool
    payload_kg: float | None = None
    permit_ref: str = ""
    pilot: str = ""
    pilot_licence: str = ""


@dataclass
class SortieRecord:
    """Which parcels moved (order numbers in ``moved``) and which were left alone, with why."""

    route_id: str
    moved: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


# --- lookups ------------------------------------------------------------------------------------


def sortie_in(session: Session, route_id: str, hub_ids: Iterable[str] | None = None) -> Route:
    """The drone route (row-locked on PostgreSQL) of a confirmed plan, or already in the air,
    else :class:`NotFound`.

    A sortie that took off stays flyable when a revision supersedes its plan meanwhile: the drone
    and its parcels must come down (drop, land or abort) whatever the new version says.
    ``hub_ids`` limits it to a user's hubs: a sortie of another hub is reported as not existing.
    """
    route = session.scalars(select(Route).where(Route.id == route_id).with_for_update()
                            .execution_options(populate_existing=True)).one_or_none()
    if route is None or route.drone_id is None:
        raise NotFound(f"drone sortie {route_id!r} does not exist")
    plan = session.get_one(Plan, route.plan_id)
    if hub_ids is not None and session.get_one(Batch, plan.batch_id).hub_id not in set(hub_ids):
        raise NotFound(f"drone sortie {route_id!r} does not exist")
    if plan.state != PlanState.CONFIRMED and route.state != RouteState.ACTIVE:
        raise DomainError("sortie %(route_id)s is not on a confirmed plan", route_id=route_id)
    return route


def sortie_orders(session: Session, route: Route) -> list[tuple[Order, str]]:
    """(order, role) of every parcel of the sortie, once each, in stop order; role is
    ``delivery`` (dropped at the drop point) or ``shuttle`` (flown to the hub).

    A parcel can have several stops on one sortie (loaded at the hub after its shuttle landed,
    then dropped): any delivery stop makes it a delivery, whatever stop comes first."""
    seen: dict[str, tuple[Order, str]] = {}
    for stop in sorted(route.stops, key=lambda s: s.seq):
        if stop.order_id not in seen:
            seen[stop.order_id] = (session.get_one(Order, stop.order_id), "shuttle")
        if stop.kind == "delivery":
            seen[stop.order_id] = (seen[stop.order_id][0], "delivery")
    return list(seen.values())


def sortie_kind(route: Route) -> str:
    """``shuttle`` (supply point → hub) or ``direct`` (hub → drop points → hub)."""
    return "shuttle" if any(st.kind in ("load", "transfer") for st in route.stops) else "direct"


def _zone_of(session: Session, route: Route) -> ZoneInfo:
    plan = session.get_one(Plan, route.plan_id)
    return timezone_of(session, session.get_one(Hub, session.get_one(Batch, plan.batch_id).hub_id))


def permit_zones(session: Session, route: Route, at: dt.datetime) -> list[Zone]:
    """The zones needing a permit (:data:`PERMIT_TYPES`, in force at ``at``) that the sortie's
    flight path crosses, within each zone's safety buffer.

    The path is the stored display line (WGS84, through the detour waypoints) or, when it was
    never computed, the straight legs hub → stops → hub. Both are projected to the region's
    metric CRS before buffering, so ``buffer_m`` is metres.
    """
    plan = session.get_one(Plan, route.plan_id)
    hub = session.get_one(Hub, session.get_one(Batch, plan.batch_id).hub_id)
    region = session.get_one(Region, hub.region_id)
    points = route.path or [[hub.lon, hub.lat], *([st.lon, st.lat] for st in route.stops), [hub.lon, hub.lat]]
    if len(points) < 2:
        return []
    to_metric = Transformer.from_crs("EPSG:4326", region.crs, always_xy=True).transform
    line = shapely.transform(LineString([(float(x), float(y)) for x, y in points]), to_metric,
                             interleaved=False)
    found = []
    for zone in session.scalars(select(Zone).where(Zone.region_id == region.id, Zone.type.in_(PERMIT_TYPES))
                                .order_by(Zone.identifier)):
        if not zone_active_at(zone.applicability or [], zone.active_override, at):
            continue
        area = shapely.transform(shape(zone.geometry), to_metric, interleaved=False)
        if line.intersects(area.buffer(zone.buffer_m or 0.0)):
            found.append(zone)
    return found


def planned_payload(session: Session, route: Route) -> float:
    """Kilograms the sortie carries at once: all of its parcels (a sortie loads them together)."""
    return round(sum(order.weight_kg for order, _ in sortie_orders(session, route)), 3)


def _aware(now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now.isoformat()} given where an aware one is needed")


# --- take-off -------------------------------------------------------------------------------------


def _check_preflight(session: Session, route: Route, drone: Drone, checklist: PreFlight,
                     now: dt.datetime) -> tuple[float, list[Zone], str]:
    """(payload kg, zones needing the permit, permit reference), or :class:`DomainError` naming
    the first item of the checklist that stops the take-off."""
    hub = session.get_one(Hub, drone.hub_id)
    if hub.weather_hold:
        raise DomainError("weather hold at %(name)s: drones stay on the ground", name=hub.name)
    if drone.status != "available":
        raise DomainError("drone %(code)s is %(status)s", code=drone.code, status=drone.status)
    for period in no_go(session, drone, now, now + dt.timedelta(seconds=1)):
        raise DomainError("the weather is beyond drone %(code)s's limits now: %(what)s %(value)s, limit "
                          "%(limit)s", code=drone.code, what=period.quantity, value=f"{period.value:g}",
                          limit=f"{period.limit:g}")
    if not checklist.battery_checked:
        raise DomainError("check the battery before take-off")
    if not checklist.weather_checked:
        raise DomainError("check the weather before take-off")
    payload = planned_payload(session, route) if checklist.payload_kg is None else checklist.payload_kg
    if not (payload >= 0):
        raise DomainError("payload '%(payload)s' kg is not a weight", payload=payload)
    if payload > drone.payload_kg:
        raise DomainError("payload %(payload)s kg is over drone %(code)s's limit of %(payload_kg)s kg",
                          payload=payload, code=drone.code, payload_kg=drone.payload_kg)
    zones = permit_zones(session, route, now)
    wanted = checked_text(checklist.permit_ref, "permit reference", MAX_TEXT)
    if not zones:
        return payload, zones, wanted
    pilot = checked_text(checklist.pilot, "pilot", MAX_TEXT)
    return payload, zones, covering_permit(session, route, drone, zones, pilot, wanted, now).number


def covering_permit(session: Session, route: Route, drone: Drone, zones: list[Zone], pilot: str,
                    wanted: str, now: dt.datetime) -> Permit:
    """The hub's recorded permit that covers every zone in ``zones`` for this drone and ``pilot``
    today (``wanted``: that one; else the plan's, then any), else :class:`DomainError` saying why
    the most likely one does not (expired, another drone, a pilot not named on it…)."""
    tz = _zone_of(session, route)
    candidates = hub_permits(session, drone.hub_id)
    if wanted:
        candidates = [p for p in candidates if p.number == wanted]
        if not candidates:
            raise DomainError("permit %(number)s is not recorded for this hub", number=wanted)
    planned = list(route.permits or [])
    candidates.sort(key=lambda p: planned.index(p.number) if p.number in planned else len(planned))
    names = ", ".join(z.name for z in zones)
    if not candidates:
        raise DomainError("the path crosses %(names)s and the hub holds no permit for it", names=names)
    if not pilot:
        raise DomainError("the path crosses %(names)s: name the pilot", names=names)
    first_refusal = None
    for permit in candidates:
        why = next((w for z in zones if (w := permit_status(permit, z, drone.code, now, now, tz))), None)
        if why is None and pilot.casefold() not in {p.casefold() for p in permit.pilots}:
            why = Phrase("pilot %(pilot)s is not named on permit %(number)s",
                         {"pilot": pilot, "number": permit.number})
        if why is None:
            return permit
        first_refusal = first_refusal or why
    assert first_refusal is not None
    raise DomainError(first_refusal)


def take_off(db: Database, route_id: str, actor: str, now: dt.datetime, checklist: PreFlight, *,
             hub_ids: Iterable[str] | None = None) -> SortieRecord:
    """Record the take-off after the pre-flight checklist: the drone takes every parcel on board.

    Refused (:class:`DomainError`, nothing recorded) when the sortie already took off or ended, the
    hub is under a weather hold, the drone is not available, or the checklist is incomplete.
    """
    _aware(now)
    with db.write() as session:
        route = sortie_in(session, route_id, hub_ids)
        if route.state != RouteState.PLANNED:
            raise DomainError("sortie %(id)s is %(state)s: it cannot take off again",
                              id=route.id, state=route.state)
        drone = session.get_one(Drone, route.drone_id)
        payload, zones, permit = _check_preflight(session, route, drone, checklist, now)
        licence = checked_text(checklist.pilot_licence, "skill certificate number", MAX_LICENCE)
        record = SortieRecord(route.id)
        party = f"drone:{drone.id}"
        for order, role in sortie_orders(session, route):
            held_by = holder(session, order)
            if order.state != OrderState.PLANNED or held_by.split(":", 1)[0] not in ("hub", "supply"):
                record.skipped[order.number] = f"{order.state}, held by {held_by.split(':', 1)[0]}"
                continue
            kind = "supply_to_drone" if held_by.startswith("supply:") else "hub_to_drone"
            append_event(session, order.id, kind, held_by, party, actor, "drone_log", now)
            if role == "delivery":  # a direct sortie: the parcel is now out for delivery
                transition(order, OrderState.DISPATCHED)
                transition(order, OrderState.IN_TRANSIT)
                _tell(session, order, "out_for_delivery", {}, f"out_for_delivery:{order.id}:{route.id}", now)
            order.updated_at = now
            record.moved.append(order.number)
        session.add(SortieLog(
            route_id=route.id, drone_id=drone.id, payload_kg=payload, payload_limit_kg=drone.payload_kg,
            battery_checked=True, weather_checked=True, permit_ref=permit, pilot=checklist.pilot.strip(),
            pilot_licence=licence, permit_zones=[z.identifier for z in zones], checked_by=actor,
            taken_off_at=now, outcome="flying"))
        transition(route, RouteState.ACTIVE)
        return record


# --- drop -----------------------------------------------------------------------------------------


def drop(db: Database, route_id: str, order_id: str, actor: str, now: dt.datetime, *,
         pin: str | None = None, max_attempts: int = MAX_ATTEMPTS,
         hub_ids: Iterable[str] | None = None) -> PinResult:
    """The drone left the parcel at the resident's drop point.

    With ``pin`` (a person received it and told the pilot their delivery PIN), the PIN is checked
    as at the door: wrong tries are counted and kept (status ``wrong``), the ``max_attempts``-th
    locks it and alerts the hub's operators (status ``locked``); a locked PIN refuses even the right
    one. Without a PIN (an unattended drop point) the flight log is the proof. Right or unattended:
    ``drone_to_resident``, order ``delivered``, receipt queued.
    """
    _aware(now)
    typed = None if pin is None or not pin.strip() else normalise_pin(pin)
    with db.write() as session:
        route = sortie_in(session, route_id, hub_ids)
        order = next((o for o, role in sortie_orders(session, route)
                      if o.id == order_id and role == "delivery"), None)
        if order is None:
            raise NotFound(f"order {order_id!r} is not dropped by this sortie")
        order = session.scalars(select(Order).where(Order.id == order_id).with_for_update()
                                .execution_options(populate_existing=True)).one()
        party = f"drone:{route.drone_id}"
        if order.state != OrderState.IN_TRANSIT or holder(session, order) != party:
            raise DomainError("order #%(number)s is %(state)s, not on board of this drone",
                              number=order.number, state=order.state)
        proof = "drone_log"
        if typed is not None:
            refused = _check_pin(session, order, typed, max_attempts, now)
            if refused is not None:
                return refused
            proof = "resident_pin"
        elif order.pin_locked:
            raise DomainError("order #%(number)s: the PIN is locked; an operator looks at it first",
                              number=order.number)
        drop_lon, drop_lat = _drop_point(session, order)
        event = append_event(session, order.id, "drone_to_resident", party, f"resident:{order.resident_id}",
                             actor, proof, now, lon=drop_lon, lat=drop_lat)
        transition(order, OrderState.DELIVERED)
        order.updated_at = now
        local = now.astimezone(_zone_of(session, route))
        _tell(session, order, "delivered", {"time": local.strftime("%H:%M")}, f"delivered:{order.id}", now)
        return PinResult(PinStatus.OK, tries_left=max_attempts - order.pin_attempts, event_id=event.id)


def _check_pin(session: Session, order: Order, typed: str, max_attempts: int,
               now: dt.datetime) -> PinResult | None:
    """None when ``typed`` is the order's PIN, else the refusal (the try counted and kept)."""
    if order.pin_hash is None:
        raise DomainError("order #%(number)s has no delivery PIN", number=order.number)
    if order.pin_locked:
        return PinResult(PinStatus.LOCKED, tries_left=0)
    if pin_matches(order.id, typed, order.pin_hash):
        return None
    order.pin_attempts += 1
    tries_left = max(max_attempts - order.pin_attempts, 0)
    if tries_left:
        return PinResult(PinStatus.WRONG, tries_left=tries_left)
    order.pin_locked = True
    session.add(OperatorAlert(hub_id=order.hub_id, kind="pin_locked", order_id=order.id,
                              resident_id=order.resident_id,
                              text=Phrase("delivery PIN locked after %(count)s wrong tries at a drone drop",
                                          {"count": max_attempts}).stored(),
                              created_at=now))
    return PinResult(PinStatus.LOCKED, tries_left=0, alert_operator=True)


def _drop_point(session: Session, order: Order) -> tuple[float | None, float | None]:
    resident = session.get(Resident, order.resident_id)
    if resident is None:
        return None, None
    return resident.drop_lon, resident.drop_lat


# --- landing and abort ----------------------------------------------------------------------------


def _log(session: Session, route: Route, actor: str) -> SortieLog:
    """The sortie's log row (made for an abort before take-off, which has no checklist)."""
    log = session.scalars(select(SortieLog).where(SortieLog.route_id == route.id)).one_or_none()
    if log is None:
        drone = session.get_one(Drone, route.drone_id)
        log = SortieLog(route_id=route.id, drone_id=drone.id, payload_limit_kg=drone.payload_kg,
                        checked_by=actor, permit_zones=[], outcome="flying")
        session.add(log)
    return log


def land(db: Database, route_id: str, actor: str, now: dt.datetime, *,
         hub_ids: Iterable[str] | None = None, safety_notes: str = "", defects: str = "") -> SortieRecord:
    """Record the landing at the hub: a shuttle's parcels are handed to the hub (``drone_to_hub``)
    and so released to their couriers. A direct sortie must have dropped every parcel first
    (:func:`drop`), or be aborted (:func:`abort`), else :class:`DomainError`.

    ``safety_notes`` (飛行の安全に影響のあった事項) and ``defects`` (不具合及びその対応) go to the
    flight log; a defect also alerts the hub's operators on the board, since the drone may need
    grounding before its next sortie."""
    _aware(now)
    safety = checked_text(safety_notes, "events affecting safety", MAX_LOG_TEXT)
    defect = checked_text(defects, "defect and its handling", MAX_LOG_TEXT)
    with db.write() as session:
        route = sortie_in(session, route_id, hub_ids)
        if route.state != RouteState.ACTIVE:
            raise DomainError("sortie %(id)s is %(state)s: only a sortie in the air lands",
                              id=route.id, state=route.state)
        party = f"drone:{route.drone_id}"
        record = SortieRecord(route.id)
        parcels = sortie_orders(session, route)
        still = [o.number for o, role in parcels if role == "delivery" and holder(session, o) == party]
        if still:
            raise DomainError("order #%(still)s is still on board: record its drop, or abort the sortie",
                              still=still[0])
        for order, role in parcels:
            if role == "delivery":
                continue
            if holder(session, order) != party:
                record.skipped[order.number] = "not on board"
                continue
            append_event(session, order.id, "drone_to_hub", party, f"hub:{order.hub_id}", actor,
                         "drone_log", now)
            order.updated_at = now
            record.moved.append(order.number)
        log = _log(session, route, actor)
        log.landed_at, log.outcome = now, "landed"
        log.safety_notes, log.defects = safety, defect
        if defect:
            drone = session.get_one(Drone, route.drone_id)
            session.add(OperatorAlert(
                hub_id=drone.hub_id, kind="drone_defect", created_at=now,
                text=Phrase("drone %(code)s landed with a defect: %(defect)s (ground it if it must not fly)",
                            {"code": drone.code, "defect": defect}).stored()))
        transition(route, RouteState.DONE)
        return record


def abort(db: Database, route_id: str, actor: str, now: dt.datetime, reason: str, *,
          to_ground: bool = False, hub_ids: Iterable[str] | None = None) -> SortieRecord:
    """The sortie does not fly, or turns back: see the module docstring. ``reason`` is required
    (kept in the sortie log, not in the custody chain). ``to_ground`` forbids drones for the
    orders sent back to the queue, so the next batch gives them to a courier."""
    _aware(now)
    why = checked_text(reason, "reason", MAX_TEXT, required=True)
    with db.write() as session:
        route = sortie_in(session, route_id, hub_ids)
        if route.state not in ROUTE_WORKING:
            raise DomainError("sortie %(id)s is %(state)s: there is nothing to abort",
                              id=route.id, state=route.state)
        party = f"drone:{route.drone_id}"
        record = SortieRecord(route.id)
        for order, role in sortie_orders(session, route):
            held_by = holder(session, order)
            if held_by == party:
                append_event(session, order.id, "returned", party, f"hub:{order.hub_id}", actor,
                             "operator_confirm", now, note=why)
                if role == "shuttle":  # back at the hub all the same: released to its courier
                    order.updated_at = now
                    record.moved.append(order.number)
                    continue
                transition(order, OrderState.RETURNED)
            elif order.state != OrderState.PLANNED or held_by.split(":", 1)[0] not in ("hub", "supply"):
                record.skipped[order.number] = f"{order.state}, held by {held_by.split(':', 1)[0]}"
                continue
            _requeue(session, order, route, to_ground, now)
            record.moved.append(order.number)
        log = _log(session, route, actor)
        log.aborted_at, log.outcome, log.abort_reason = now, "aborted", why
        transition(route, RouteState.CANCELLED)
        return record


def _requeue(session: Session, order: Order, route: Route, to_ground: bool, now: dt.datetime) -> None:
    """Offer the order to the next batch (to the ground if asked) and tell the resident."""
    transition(order, OrderState.CONFIRMED)
    if to_ground:
        order.force_ground = True
    order.updated_at = now
    _tell(session, order, "rescheduled", {}, f"rescheduled:{order.id}:{route.id}", now)


def pilots_for(db: Database, route_id: str) -> list[str]:
    """The pilots named on the permits the sortie's plan relies on (empty: none needed)."""
    with db.read() as session:
        route = session.get(Route, route_id)
        if route is None or not route.permits:
            return []
        hub_id = session.get_one(Drone, route.drone_id).hub_id
        permits = [p for p in hub_permits(session, hub_id) if p.number in route.permits]
        return [pilot for p in permits for pilot in p.pilots]


def last_licence(db: Database, pilot: str, hub_id: str) -> str:
    """The skill certificate number last recorded for ``pilot`` on the hub's drones ("": none), to
    prefill the checklist: a pilot's number does not change from one sortie to the next."""
    with db.read() as session:
        found = session.scalars(
            select(SortieLog.pilot_licence).join(Drone, Drone.id == SortieLog.drone_id)
            .where(SortieLog.pilot == pilot.strip(), SortieLog.pilot_licence != "", Drone.hub_id == hub_id)
            .order_by(SortieLog.taken_off_at.desc())).first()
        return found or ""


def pending_sorties(db: Database, hub_id: str) -> list[str]:
    """Route ids of the hub's sorties on confirmed plans not yet landed, in take-off order."""
    with db.read() as session:
        return list(session.scalars(
            select(Route.id).join(Plan, Plan.id == Route.plan_id).join(Batch, Batch.id == Plan.batch_id)
            .where(Batch.hub_id == hub_id, Plan.state == PlanState.CONFIRMED, Route.drone_id.is_not(None),
                   Route.state.in_(ROUTE_WORKING))
            .order_by(Route.depart_at)))


def _tell(session: Session, order: Order, template: str, params: dict[str, object], key: str,
          now: dt.datetime) -> None:
    notify.text_resident(session, order, template, params, now=now, dedupe_key=key)
