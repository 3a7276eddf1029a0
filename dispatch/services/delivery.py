"""The courier's actions on the road (issue 6, items 7-9; issue 5, items 7-9): pick up, deliver
with the resident's PIN, hand over to a consenting neighbour or community hall, could not deliver,
bring back to the hub, welfare note (見守り), share position.

The courier's page and ``hakobu simulate`` both call these functions, so they hold every rule and
views stay thin. Three things hold for every action:

* **Deduplicated by the phone's action id.** Each action carries an id generated on the phone
  (``action_id``). The action's first step (:func:`_begin_action`) inserts a
  :class:`~dispatch.models.CourierAction` row keyed by that id, in the same transaction as the
  change and its SMS; its last (:func:`_end_action`) stores the outcome. A repeat (an offline queue
  replayed, a double tap, a retry after a lost response) finds the row and gets the first outcome
  back (``replayed=True``) without changing anything. Two copies arriving at the same moment are
  serialised by the database: SQLite's ``BEGIN IMMEDIATE``; on PostgreSQL the second insert (in a
  savepoint) waits for the first transaction on the primary key and fails once it commits, and the
  first outcome is read back. An action that raises (bad input, not allowed now) stores nothing
  and may be sent again.
* **Only the courier's own route.** An order (or route) that is not on a route of a *confirmed* plan
  assigned to this volunteer raises :class:`~dispatch.errors.NotFound`, exactly as if it did not
  exist: the web page answers 404 and never confirms that someone else's order exists.
* **Custody first.** Who holds a parcel is the head of its custody chain (the last handoff's
  receiver, or its origin when nothing was handed yet). A courier delivers, fails or returns only a
  parcel they hold, and picks up only from the hub or supply point that holds it. A parcel that the
  plan brings to the hub by drone shuttle is refused until its landing is recorded (``drone_to_hub``).

Resident notifications go through :mod:`dispatch.services.notify` in the same transaction
(``out_for_delivery``, ``delivered``, ``delivery_failed``); operators are alerted through
:class:`OperatorAlert` rows (welfare notes, a PIN locked by wrong tries, a failed delivery), listed
by :func:`dispatch.read.alerts.open_alerts`. What the courier's page shows is read by
:mod:`dispatch.read.courier`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import ROUTE_WORKING, OrderState, PlanState, RouteState, can_transition, transition
from dispatch.localtime import timezone_of
from dispatch.models import (
    CourierAction,
    CourierPosition,
    HandoffEvent,
    Hub,
    OperatorAlert,
    Order,
    Plan,
    Resident,
    Route,
    Stop,
    Volunteer,
)
from dispatch.phrases import Phrase
from dispatch.services import notify
from dispatch.services.free_text import checked_text
from dispatch.services.handoffs import append_event
from dispatch.services.pins import MAX_ATTEMPTS, PinStatus, check_pin
from dispatch.services.plans import eta_window

log = logging.getLogger(__name__)

#: What a phone may use as an action id (a UUID, or any 8-64 URL-safe characters).
ACTION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: Why a delivery could not be made (the courier picks one).
FAIL_REASONS = ("nobody_home", "refused", "address_not_found", "other")
#: Where a parcel may be left with the resident's consent, and the custody kind it makes.
HANDOVER_KINDS = {"neighbour": "courier_to_neighbour", "hall": "courier_to_hall"}
#: ``Resident.handover_consent`` values that allow each handover.
CONSENT_ALLOWS = {"neighbour": frozenset({"neighbour", "either"}), "hall": frozenset({"hall", "either"})}
MAX_NOTE_CHARS = 1000
#: Route states in which the courier still carries out the route.
WORKING = ROUTE_WORKING
#: Order states in which an order still needs its courier (for "is the route done?").
OPEN_ON_ROUTE = frozenset({OrderState.PLANNED, OrderState.DISPATCHED, OrderState.IN_TRANSIT,
                           OrderState.FAILED})


@dataclass(frozen=True)
class Outcome:
    """What an action did. ``status`` is ``ok`` or a named refusal the courier must see
    (``wrong_pin``, ``locked``); ``detail`` holds the specifics (JSON-ready, no personal data).
    ``replayed`` is True when this is the stored outcome of an earlier copy of the action."""

    action_id: str
    kind: str
    status: str
    order_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return {"action_id": self.action_id, "kind": self.kind, "status": self.status,
                "order_id": self.order_id, "detail": self.detail, "replayed": self.replayed}


# --- deduplication ------------------------------------------------------------------------------


def check_action_id(action_id: str) -> str:
    """The action id, or :class:`DomainError` naming what is wrong with it."""
    if not isinstance(action_id, str) or not ACTION_ID.match(action_id):
        raise DomainError("an action id is 8 to 64 letters, digits, '-' or '_' (e.g. a UUID)")
    return action_id


def _replay(first: CourierAction, volunteer_id: str, kind: str, order_id: str | None) -> Outcome:
    if first.volunteer_id != volunteer_id or first.kind != kind or first.order_id != order_id:
        # Never reveal another courier's outcome; a phone that reuses ids has a bug.
        raise DomainError("action id '%(action_id)s' was already used for another action",
                          action_id=first.action_id)
    outcome = dict(first.outcome or {})
    status = str(outcome.pop("status", "ok"))
    return Outcome(first.action_id, first.kind, status, first.order_id, outcome, replayed=True)


def _begin_action(session: Session, volunteer_id: str, action_id: str, kind: str, order_id: str | None,
                  now: dt.datetime) -> Outcome | None:
    """Record ``action_id`` first, inside the action's transaction: None for a new action (go on),
    the first copy's outcome for a repeat (return it, change nothing)."""
    check_action_id(action_id)
    _aware(now)
    first = session.get(CourierAction, action_id)
    if first is not None:
        return _replay(first, volunteer_id, kind, order_id)
    _volunteer(session, volunteer_id)
    if order_id is not None and session.get(Order, order_id) is None:
        raise NotFound(f"order {order_id!r} is not on a route of this courier")
    try:
        with session.begin_nested():  # PostgreSQL: a concurrent copy waits here for the first
            session.add(CourierAction(action_id=action_id, volunteer_id=volunteer_id, kind=kind,
                                      order_id=order_id, received_at=now, outcome={}))
    except IntegrityError:
        first = session.get(CourierAction, action_id)  # committed by the copy that won
        if first is None:
            raise
        return _replay(first, volunteer_id, kind, order_id)
    return None


def _end_action(session: Session, action_id: str, status: str, detail: dict[str, Any]) -> Outcome:
    """Store the action's outcome with it (what a repeat of the action gets back) and return it."""
    record = session.get_one(CourierAction, action_id)
    record.outcome = {"status": status, **detail}
    log.info("courier action %s: %s by volunteer %s -> %s", action_id, record.kind, record.volunteer_id,
             status)
    return Outcome(action_id, record.kind, status, record.order_id, detail)


# --- who may act on what ------------------------------------------------------------------------


def _aware(now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now.isoformat()} given where an aware one is needed")


def _volunteer(session: Session, volunteer_id: str) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or not volunteer.active:
        raise NotFound(f"volunteer {volunteer_id!r} does not exist")
    return volunteer


def _assignment(session: Session, volunteer_id: str, order_id: str,
                states: Iterable[str] | None = WORKING) -> tuple[Order, Route, Stop]:
    """The order (row-locked), the volunteer's confirmed route that delivers it, and that stop.

    :class:`NotFound` unless the order is on such a route (in one of ``states``; None: any).
    """
    query = (select(Route, Stop).join(Stop, Stop.route_id == Route.id).join(Plan, Plan.id == Route.plan_id)
             .where(Route.volunteer_id == volunteer_id, Stop.order_id == order_id,
                    Stop.kind == "delivery", Plan.state == PlanState.CONFIRMED)
             .order_by(Plan.confirmed_at.desc()))
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"order {order_id!r} is not on a route of this courier")
    route, stop = row
    if states is not None and route.state not in states:
        raise DomainError("this route is %(state)s: bring the parcel back to the hub", state=route.state)
    order = session.scalars(select(Order).where(Order.id == order_id).with_for_update()).one()
    return order, route, stop


def own_route(session: Session, volunteer_id: str, route_id: str) -> Route:
    """The volunteer's route of a confirmed plan, or :class:`NotFound`."""
    route = session.scalars(select(Route).join(Plan, Plan.id == Route.plan_id).where(
        Route.id == route_id, Route.volunteer_id == volunteer_id, Plan.state == PlanState.CONFIRMED)).first()
    if route is None:
        raise NotFound(f"route {route_id!r} is not a route of this courier")
    return route


def resolve_route(db: Database, volunteer_id: str, route_id: str) -> str | None:
    """The id of the route the courier should look at for ``route_id``.

    A disruption revises a confirmed plan into a new confirmed version (new route rows), so a
    link or bookmark can name a superseded route: this returns the volunteer's route in the
    batch's current confirmed plan (None when they no longer have one), the same id when it is
    current, and raises :class:`NotFound` when ``route_id`` was never this volunteer's route.
    """
    with db.read() as session:
        row = session.execute(select(Route, Plan).join(Plan, Plan.id == Route.plan_id).where(
            Route.id == route_id, Route.volunteer_id == volunteer_id)).first()
        if row is None:
            raise NotFound(f"route {route_id!r} is not a route of this courier")
        route, plan = row
        if plan.state == PlanState.CONFIRMED:
            return route.id
        current = session.scalars(select(Route.id).join(Plan, Plan.id == Route.plan_id).where(
            Plan.batch_id == plan.batch_id, Plan.state == PlanState.CONFIRMED,
            Route.volunteer_id == volunteer_id)).first()
        return current


def active_route(session: Session, volunteer_id: str) -> Route | None:
    """The volunteer's route that is under way: marked ``active``, or carrying a parcel of theirs.

    Derived from the orders as well as the route's state, because a revised plan has fresh route
    rows while the courier is still out with the parcels.
    """
    carrying = (OrderState.DISPATCHED.value, OrderState.IN_TRANSIT.value, OrderState.FAILED.value)
    return session.scalars(
        select(Route).join(Plan, Plan.id == Route.plan_id).join(Stop, Stop.route_id == Route.id)
        .join(Order, Order.id == Stop.order_id)
        .where(Route.volunteer_id == volunteer_id, Plan.state == PlanState.CONFIRMED,
               Route.state != RouteState.CANCELLED, Stop.kind == "delivery",
               (Route.state == RouteState.ACTIVE) | Order.state.in_(carrying))
        .order_by(Route.depart_at.desc()).limit(1)).first()


def origin_party(session: Session, order: Order) -> str:
    """Where the parcel starts: its supply point (``supply:<id>``) or its hub (``hub:<id>``)."""
    if order.origin_hub_id is None:
        return f"hub:{order.hub_id}"
    origin = session.get(Hub, order.origin_hub_id)
    kind = "supply" if origin is not None and origin.kind == "supply" else "hub"
    return f"{kind}:{order.origin_hub_id}"


def holder(session: Session, order: Order) -> str:
    """Who holds the parcel now: the receiver of its last handoff, else its origin."""
    last = session.scalars(select(HandoffEvent.to_party).where(HandoffEvent.order_id == order.id)
                           .order_by(HandoffEvent.seq.desc()).limit(1)).first()
    return last if last is not None else origin_party(session, order)


def _held(session: Session, volunteer_id: str, order_id: str,
          states: Iterable[str] | None = WORKING) -> tuple[Order, Route, str]:
    """The order (row-locked) on the courier's route (see :func:`_assignment`), that route, and the
    courier as a custody party (``volunteer:<id>``); :class:`DomainError` unless they hold it."""
    actor = f"volunteer:{volunteer_id}"
    order, route, _ = _assignment(session, volunteer_id, order_id, states)
    if holder(session, order) != actor:
        raise DomainError("order #%(number)s: you do not hold this parcel (pick it up first)",
                          number=order.number)
    return order, route, actor


# --- small helpers ------------------------------------------------------------------------------


def _resident(session: Session, order: Order) -> Resident:
    resident = session.get(Resident, order.resident_id)
    assert resident is not None
    return resident


def _position(lon: float | None, lat: float | None) -> tuple[float | None, float | None]:
    if lon is None or lat is None:
        return None, None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise DomainError("position lon='%(lon)s', lat='%(lat)s' is not a WGS84 longitude and latitude",
                          lon=lon, lat=lat)
    return lon, lat


def _finish_route_if_done(session: Session, route: Route) -> None:
    """``active`` → ``done`` once no order of the route still needs its courier."""
    if route.state != RouteState.ACTIVE:
        return
    ids = [st.order_id for st in route.stops if st.kind == "delivery"]
    states = session.scalars(select(Order.state).where(Order.id.in_(ids))).all()
    if not any(OrderState(s) in OPEN_ON_ROUTE for s in states):
        transition(route, RouteState.DONE)


def _alert(session: Session, order: Order, kind: str, volunteer_id: str, text: str,
           now: dt.datetime) -> OperatorAlert:
    alert = OperatorAlert(hub_id=order.hub_id, kind=kind, order_id=order.id, resident_id=order.resident_id,
                          volunteer_id=volunteer_id, text=text, created_at=now)
    session.add(alert)
    session.flush()
    return alert


# --- actions ------------------------------------------------------------------------------------


def pick_up(db: Database, volunteer_id: str, action_id: str, now: dt.datetime, *,
            route_id: str | None = None, order_ids: Iterable[str] | None = None,
            lon: float | None = None, lat: float | None = None) -> Outcome:
    """The courier takes the parcels of their route from the hub (or supply point) that holds them.

    Give ``route_id`` (every parcel of that route still to pick up) or ``order_ids`` (some of them,
    e.g. a shuttled parcel collected later). For each parcel: a handoff ``hub_to_courier`` (or
    ``supply_to_courier``) proven by ``courier_scan``, the order ``planned → dispatched →
    in_transit``, and the resident's ``out_for_delivery`` SMS with the ETA window. Parcels that
    cannot be taken are reported in ``detail``, not raised: ``waiting`` (its drone shuttle has not
    landed), ``skipped`` (cancelled, held by someone else, ...), ``already`` (this courier has it).
    The route becomes ``active`` with the first parcel.
    """
    wanted = sorted(set(order_ids)) if order_ids is not None else None
    if route_id is None and not wanted:
        raise DomainError("name the route or the orders to pick up")
    lon, lat = _position(lon, lat)

    with db.write() as session:
        replayed = _begin_action(session, volunteer_id, action_id, "pick_up", None, now)
        if replayed is not None:
            return replayed
        actor = f"volunteer:{volunteer_id}"
        routes: dict[str, Route] = {}
        if route_id is not None:
            route = own_route(session, volunteer_id, route_id)
            ids = sorted(st.order_id for st in route.stops if st.kind == "delivery")
            if wanted is not None:
                stray = [o for o in wanted if o not in ids]
                if stray:
                    raise NotFound(f"order {stray[0]!r} is not on this route")
                ids = wanted
        else:
            ids = wanted or []
        detail: dict[str, list[str]] = {"picked": [], "already": [], "waiting": [], "skipped": []}
        for order_id in ids:
            order, route, stop = _assignment(session, volunteer_id, order_id)
            routes[route.id] = route
            detail[_pick_one(session, order, route, stop, actor, now, lon, lat)].append(order.id)
        for route in routes.values():
            if detail["picked"] and route.state == RouteState.PLANNED:
                transition(route, RouteState.ACTIVE)
        return _end_action(session, action_id, "ok", detail)


def _shuttled(session: Session, route: Route, order_id: str) -> bool:
    """True when the route's plan brings this order to the hub on a drone shuttle sortie."""
    found = session.scalars(select(Stop.id).join(Route, Route.id == Stop.route_id).where(
        Route.plan_id == route.plan_id, Route.drone_id.is_not(None), Stop.order_id == order_id,
        Stop.kind == "transfer").limit(1)).first()
    return found is not None


def _pick_one(session: Session, order: Order, route: Route, stop: Stop, actor: str, now: dt.datetime,
              lon: float | None, lat: float | None) -> str:
    """Hand one parcel to the courier; returns which ``detail`` list it belongs to."""
    held_by = holder(session, order)
    if held_by == actor:
        if order.state == OrderState.DISPATCHED:
            transition(order, OrderState.IN_TRANSIT)
        return "already" if order.state == OrderState.IN_TRANSIT else "skipped"
    if order.state != OrderState.PLANNED:
        return "skipped"
    party = held_by.split(":", 1)[0]
    if _shuttled(session, route, order.id) and held_by != f"hub:{order.hub_id}":
        return "waiting"  # the plan flies it to the hub; its landing is not recorded yet
    if party == "drone":
        return "waiting"
    if party not in ("hub", "supply"):
        return "skipped"  # another courier, a resident...: not ours to take
    append_event(session, order.id, f"{party}_to_courier", held_by, actor, actor, "courier_scan", now,
                 lon=lon, lat=lat)
    transition(order, OrderState.DISPATCHED)
    transition(order, OrderState.IN_TRANSIT)
    order.updated_at = now
    params: dict[str, Any] = {}
    if stop.eta is not None:
        start, end = eta_window(stop.eta, timezone_of(session, order))
        params = {"window_start": start.isoformat(), "window_end": end.isoformat()}
    notify.text_resident(session, order, "out_for_delivery", params, now=now,
                         dedupe_key=f"out_for_delivery:{order.id}:{route.id}")
    return "picked"


def deliver(db: Database, volunteer_id: str, order_id: str, pin: str, action_id: str, now: dt.datetime,
            *, lon: float | None = None, lat: float | None = None,
            max_attempts: int = MAX_ATTEMPTS) -> Outcome:
    """The resident tells the courier their PIN and the courier enters it.

    Right PIN: ``courier_to_resident`` handoff proven by ``resident_pin``, order ``delivered``, the
    resident's ``delivered`` receipt queued (status ``ok``). Wrong: status ``wrong_pin`` with
    ``tries_left`` (the try is counted and kept). The ``max_attempts``-th wrong try locks the PIN and
    raises an operator alert (status ``locked``); a locked PIN refuses everything until an operator
    re-issues it. A PIN that is not four digits raises :class:`DomainError` and counts nothing.
    """
    lon, lat = _position(lon, lat)

    with db.write() as session:
        replayed = _begin_action(session, volunteer_id, action_id, "deliver", order_id, now)
        if replayed is not None:
            return replayed
        order, route, actor = _held(session, volunteer_id, order_id)
        result = check_pin(session, order.id, pin, actor, at=now, lon=lon, lat=lat,
                           max_attempts=max_attempts)
        if result.status is PinStatus.OK:
            _receipt(session, order, now)
            _finish_route_if_done(session, route)
            return _end_action(session, action_id, "ok",
                               {"event_id": result.event_id, "number": order.number})
        if result.alert_operator:
            locked = Phrase("delivery PIN locked after %(count)s wrong tries", {"count": max_attempts})
            _alert(session, order, "pin_locked", volunteer_id, locked.stored(), now)
        if result.status is PinStatus.LOCKED:
            return _end_action(session, action_id, "locked",
                               {"number": order.number, "alerted": result.alert_operator})
        return _end_action(session, action_id, "wrong_pin",
                           {"number": order.number, "tries_left": result.tries_left})


def _receipt(session: Session, order: Order, now: dt.datetime) -> None:
    local = now.astimezone(timezone_of(session, order))
    notify.text_resident(session, order, "delivered", {"time": local.strftime("%H:%M")}, now=now,
                         dedupe_key=f"delivered:{order.id}")


def hand_over(db: Database, volunteer_id: str, order_id: str, to: str, action_id: str, now: dt.datetime,
              *, note: str = "", lon: float | None = None, lat: float | None = None) -> Outcome:
    """Leave the parcel with a neighbour (``to="neighbour"``) or at the community hall (``"hall"``),
    only when the resident consented to that (``Resident.handover_consent``).

    Custody ``courier_to_neighbour`` / ``courier_to_hall`` proven by ``resident_consent``; the
    receiving party is ``neighbour:<resident id>`` / ``hall:<resident id>``, i.e. "the one named in
    this resident's consent" (who that is stays in the consent note, out of the hash chain). The
    order is ``delivered`` and the receipt queued. A locked PIN blocks this too: an operator looks
    at the order first.
    """
    if to not in HANDOVER_KINDS:
        raise DomainError("hand over to '%(to)s'? expected one of %(expected)s",
                          to=to, expected=', '.join(HANDOVER_KINDS))
    text = checked_text(note, "note", MAX_NOTE_CHARS)
    lon, lat = _position(lon, lat)

    with db.write() as session:
        replayed = _begin_action(session, volunteer_id, action_id, "handover", order_id, now)
        if replayed is not None:
            return replayed
        order, route, actor = _held(session, volunteer_id, order_id)
        resident = _resident(session, order)
        if resident.handover_consent not in CONSENT_ALLOWS[to]:
            raise DomainError("order #%(number)s: the resident has not agreed to delivery to a %(to)s",
                              number=order.number, to=to)
        if order.pin_locked:
            raise DomainError("order #%(number)s: the PIN is locked; call the hub", number=order.number)
        if order.state != OrderState.IN_TRANSIT:
            raise DomainError("order #%(number)s is %(state)s, not in transit",
                              number=order.number, state=order.state)
        transition(order, OrderState.DELIVERED)
        order.updated_at = now
        event = append_event(session, order.id, HANDOVER_KINDS[to], actor, f"{to}:{resident.id}", actor,
                             "resident_consent", now, lon=lon, lat=lat, note=text)
        _receipt(session, order, now)
        _finish_route_if_done(session, route)
        return _end_action(session, action_id, "ok", {"event_id": event.id, "number": order.number, "to": to})


def fail(db: Database, volunteer_id: str, order_id: str, reason: str, action_id: str, now: dt.datetime,
         *, note: str = "") -> Outcome:
    """Could not deliver (``reason`` one of :data:`FAIL_REASONS`): order ``in_transit → failed``,
    the resident's ``delivery_failed`` SMS queued, and the operator alerted at once (nobody at
    home can itself be a welfare concern). The courier still holds the parcel until
    :func:`return_to_hub`. ``note`` (free text) goes to the operator's alert only."""
    if reason not in FAIL_REASONS:
        raise DomainError("reason '%(reason)s': expected one of %(expected)s",
                          reason=reason, expected=', '.join(FAIL_REASONS))
    text = checked_text(note, "note", MAX_NOTE_CHARS)

    with db.write() as session:
        replayed = _begin_action(session, volunteer_id, action_id, "fail", order_id, now)
        if replayed is not None:
            return replayed
        order, route, _ = _held(session, volunteer_id, order_id)
        if order.state != OrderState.IN_TRANSIT:
            raise DomainError("order #%(number)s is %(state)s, not in transit",
                              number=order.number, state=order.state)
        transition(order, OrderState.FAILED)
        order.note = f"delivery failed: {reason}"
        order.updated_at = now
        said = Phrase("%(reason)s: %(note)s", {"reason": reason, "note": text}) if text else \
            Phrase("%(reason)s", {"reason": reason})
        _alert(session, order, "delivery_failed", volunteer_id, said.stored(), now)
        notify.text_resident(session, order, "delivery_failed", {}, now=now,
                             dedupe_key=f"delivery_failed:{order.id}:{route.id}")
        return _end_action(session, action_id, "ok", {"number": order.number, "reason": reason})


def return_to_hub(db: Database, volunteer_id: str, order_id: str, action_id: str, now: dt.datetime,
                  *, lon: float | None = None, lat: float | None = None) -> Outcome:
    """The courier brings an undelivered parcel back: ``returned`` handoff courier → hub (proof
    ``courier_scan``), order ``failed → returned → confirmed``, so the hub's next batch takes it
    (``close_batch`` claims ``confirmed`` orders). Also for a parcel still ``in_transit`` when the
    lifecycle allows it (a courier called off mid-route). Allowed on a cancelled route too."""
    lon, lat = _position(lon, lat)

    with db.write() as session:
        replayed = _begin_action(session, volunteer_id, action_id, "return", order_id, now)
        if replayed is not None:
            return replayed
        order, route, actor = _held(session, volunteer_id, order_id, states=None)
        if not can_transition(order.state, OrderState.RETURNED):
            raise DomainError("order #%(number)s is %(state)s: only an undelivered parcel comes back to the "
                              "hub",
                              number=order.number, state=order.state)
        event = append_event(session, order.id, "returned", actor, f"hub:{order.hub_id}", actor,
                             "courier_scan", now, lon=lon, lat=lat)
        transition(order, OrderState.RETURNED)
        transition(order, OrderState.CONFIRMED)  # offered for the next batch
        order.updated_at = now
        _finish_route_if_done(session, route)
        return _end_action(session, action_id, "ok", {"event_id": event.id, "number": order.number})


def welfare_note(db: Database, volunteer_id: str, text: str, action_id: str, now: dt.datetime, *,
                 order_id: str | None = None, resident_id: str | None = None) -> Outcome:
    """見守り: the courier noticed something about a resident ("seemed unwell", "no answer for days").

    Stored at once as a ``welfare`` :class:`OperatorAlert` for the resident's hub. Name the
    resident by one of their orders on the courier's route (``order_id``) or directly
    (``resident_id``, who must have an order on one of the courier's confirmed routes).
    """
    body_text = checked_text(text, "welfare note", MAX_NOTE_CHARS, required=True)
    if (order_id is None) == (resident_id is None):
        raise DomainError("name either the order or the resident the welfare note is about")

    with db.write() as session:
        replayed = _begin_action(session, volunteer_id, action_id, "welfare", order_id, now)
        if replayed is not None:
            return replayed
        if order_id is not None:
            order, _, _ = _assignment(session, volunteer_id, order_id, states=None)
        else:
            order = _order_of_resident(session, volunteer_id, str(resident_id))
        alert = _alert(session, order, "welfare", volunteer_id, body_text, now)
        return _end_action(session, action_id, "ok", {"alert_id": alert.id})


def _order_of_resident(session: Session, volunteer_id: str, resident_id: str) -> Order:
    order = session.scalars(
        select(Order).join(Stop, Stop.order_id == Order.id).join(Route, Route.id == Stop.route_id)
        .join(Plan, Plan.id == Route.plan_id)
        .where(Order.resident_id == resident_id, Route.volunteer_id == volunteer_id,
               Plan.state == PlanState.CONFIRMED, Stop.kind == "delivery")
        .order_by(Plan.confirmed_at.desc())).first()
    if order is None:
        raise NotFound(f"resident {resident_id!r} is not on a route of this courier")
    return order


def share_position(db: Database, volunteer_id: str, lon: float, lat: float, accuracy_m: float | None,
                   now: dt.datetime) -> str:
    """Store the courier's position for the console's live map, only while one of their routes is
    ``active`` (picked up, not finished); otherwise :class:`DomainError` and nothing is stored.
    Returns the position's id. No deduplication: a repeated fix is harmless."""
    _aware(now)
    checked_lon, checked_lat = _position(lon, lat)
    if checked_lon is None or checked_lat is None:
        raise DomainError("a position needs both lon and lat")
    if accuracy_m is not None and not (math.isfinite(accuracy_m) and accuracy_m >= 0):
        raise DomainError("accuracy '%(accuracy_m)s' m is not a distance", accuracy_m=accuracy_m)
    with db.write() as session:
        _volunteer(session, volunteer_id)
        route = active_route(session, volunteer_id)
        if route is None:
            raise DomainError("no active route: the position is shared only while delivering")
        position = CourierPosition(volunteer_id=volunteer_id, route_id=route.id, lon=checked_lon,
                                   lat=checked_lat, accuracy_m=accuracy_m, recorded_at=now)
        session.add(position)
        session.flush()
        return position.id


# --- alerts for the console ---------------------------------------------------------------------


def acknowledge_alert(db: Database, alert_id: str, user_id: str, *, now: dt.datetime,
                      hub_ids: set[str] | None = None) -> None:
    """Mark an alert seen by console user ``user_id``; an alert outside ``hub_ids`` is NotFound."""
    with db.write() as session:
        alert = session.get(OperatorAlert, alert_id)
        if alert is None or (hub_ids is not None and alert.hub_id not in hub_ids):
            raise NotFound(f"alert {alert_id!r} does not exist")
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = now, user_id
