"""A whole delivery day on a simulated clock (issue 5, item 10): the way we test a day end to end.

Everything goes through the real services, in time order, on a real database:

* residents text orders (and now and then ``取消`` to cancel) through the SMS service function that
  the webhooks call; the outbox is drained by the real sender on the simulator transport;
* each hub's batch closes at each cutoff (:func:`~dispatch.services.batching.close_batch`) and is
  solved by the worker function the scheduler uses (:func:`~dispatch.services.solving.solve_batch`);
  a valid plan is confirmed two minutes later (as an operator would);
* hub staff fly the drones at their planned times through the same services as the drone page
  (:mod:`dispatch.services.sorties`: checklist and take-off, drops, landing), couriers pick
  up, share their position, and deliver at the planned ETAs with the PIN the resident read in their
  SMS (:mod:`dispatch.services.delivery`); a seeded share of deliveries fail (nobody home), and the
  parcel goes back to the hub and into the next batch;
* a cancellation after planning revises the confirmed plan (:mod:`dispatch.services.disruptions`);
  the couriers then follow the revised routes.

The day may be run into a database that holds other days (``hakobu demo`` adds a past simulated
day to the demo database): the simulator then only drives its own batches' plans, and the summary
accounts for the orders created on the simulated day (and the plans of its batches), not for the
rest of the database.

Nothing may be unaccounted for at the end of the day: every order is ``delivered``, ``cancelled``,
``returned`` (back at the hub after a failed attempt, waiting for another day) or ``unserved`` (with
the planner's reason, or because it came after the last cutoff); ``summary.json`` says so and the
run fails otherwise.

The SMS layer sits above ``dispatch`` in the import graph, so the caller hands in an
:class:`SmsEdge` (the ``hakobu simulate`` command wires the real one).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

import routing
from dispatch import simulate_standing
from dispatch.config import Settings
from dispatch.db import Database
from dispatch.demo_texts import DEMO_TEXTS
from dispatch.errors import DomainError
from dispatch.imports import import_manifest
from dispatch.lifecycle import BatchState, MessageStatus, OrderState, PlanState
from dispatch.models import Batch, HandoffEvent, Hub, Message, Order, Plan, Region, Resident, Route
from dispatch.models.courier import CourierAction
from dispatch.planning import plan_batch
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.schema import upgrade
from dispatch.services import delivery, sorties
from dispatch.services.batching import close_batch, cutoff_instants
from dispatch.services.continuity import carry_over_hub
from dispatch.services.handoffs import verify_custody
from dispatch.services.plans import confirm_plan
from dispatch.services.solving import solve_batch

log = logging.getLogger(__name__)

OPERATOR = "user:simulator"
#: When the supply point's morning manifest of parcels arrives (local time after midnight).
SUPPLY_MANIFEST_AT = dt.timedelta(hours=8, minutes=30)
#: The pilot a simulated sortie names when it needs no permit.
SIM_PILOT = "simulated pilot"
#: Couriers' action ids in a simulated day start with this (how :func:`simulated_days` finds them).
ACTION_PREFIX = "sim"
#: How long after a batch's plan is stored the (simulated) operator confirms it.
CONFIRM_AFTER = dt.timedelta(minutes=2)
#: When (local time after midnight) the evening sweep carries on what missed its day.
EVENING_SWEEP = dt.timedelta(hours=20)
#: Custody kinds that put a parcel in the resident's (or a consenting neighbour's) hands.
DELIVERED_KINDS = ("courier_to_resident", "drone_to_resident", "courier_to_neighbour", "courier_to_hall")
_PIN = re.compile(r"(?:暗証番号は|PIN is )(\d{4})")


class SmsEdge(Protocol):
    """What the simulator needs of the SMS layer."""

    def receive(self, phone: str, body: str, at: dt.datetime) -> object:
        """An inbound text, handled as a webhook would."""

    def send_due(self, now: dt.datetime) -> object:
        """Send what the outbox holds for ``now``."""


@dataclass(frozen=True)
class SimConfig:
    region: Path
    orders: int
    seed: int = 1
    time_limit_s: float = 10.0
    solution_limit: int | None = None  # stops each solve first: the same day on any machine
    day: dt.date | None = None  # default: the next Monday
    fail_rate: float = 0.05  # share of courier deliveries where nobody is home
    cancel_rate: float = 0.03  # share of orders the resident cancels later by SMS
    days: int = 1  # consecutive days from ``day``; ``orders`` texts on each
    #: Share of the day's orders that are parcels waiting at the region's supply point (the post
    #: office), sent as its morning manifest; none when the region has no supply point.
    supply_share: float = 0.2
    standing: int = 0  # residents who set a standing order the first morning (simulate_standing)


@dataclass
class Day:
    """The running state of a simulated day."""

    db: Database
    config: SimConfig
    sms: SmsEdge
    settings: Settings
    tz: ZoneInfo
    rng: random.Random
    date: dt.date  # the simulated local date (in couriers' action ids: two days never share one)
    queue: list[tuple[dt.datetime, int, int, Callable[[dt.datetime], None]]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    scheduled: set[tuple[str, str, str]] = field(default_factory=set)  # what has events already
    batch_ids: set[str] = field(default_factory=set)  # the batches this day closed (with orders)
    solves: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    days: list[dict[str, Any]] = field(default_factory=list)  # one account per simulated day

    def at(self, when: dt.datetime, action: Callable[[dt.datetime], None], rank: int = 1) -> None:
        """Schedule ``action`` at ``when``; at equal times lower ``rank`` runs first (landings before
        pick-ups, batches before the couriers)."""
        heapq.heappush(self.queue, (when, rank, next(self.counter), action))


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)


def simulate(db: Database, config: SimConfig, sms: SmsEdge, settings: Settings,
             out: Path | None = None, *, region_code: str | None = None) -> dict[str, Any]:
    """Run ``config.days`` consecutive days and return the summary (also written with
    ``plan.geojson`` to ``out``).

    By default the schema is upgraded and ``config.region`` loaded first; a caller that has just
    done both (the demo) passes the loaded ``region_code`` instead.
    """
    started = time.perf_counter()
    if region_code is None:
        upgrade(db)
        code = load_region(db, read_region(config.region)).region_code
    else:
        code = region_code
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == code)).one()
        tz = ZoneInfo(region.timezone)
        hubs = list(s.scalars(select(Hub).where(Hub.region_id == region.id, Hub.kind == "hub")))
        residents = list(s.execute(select(Resident.phone, Resident.hub_id, Resident.code).where(
            Resident.region_id == region.id, Resident.active.is_(True)).order_by(Resident.code)))
        supply = s.scalars(select(Hub.code).where(Hub.region_id == region.id, Hub.kind == "supply")
                           .order_by(Hub.code)).first()
    first = config.day or next_monday(dt.date.today())
    day = Day(db, config, sms, settings, tz, random.Random(config.seed), first)
    for offset in range(config.days):
        midnight = dt.datetime.combine(first + dt.timedelta(days=offset), dt.time(), tz)
        cutoffs = {h.id: cutoff_instants(h.cutoffs or [], tz, midnight, midnight + dt.timedelta(days=1))
                   for h in hubs}
        for hub in hubs:
            for cutoff in cutoffs[hub.id]:
                day.at(cutoff, _closer(day, hub.id), rank=0)
        _orders_arrive(day, residents, cutoffs, midnight, supply)
        # The scheduler's sweep after the day's last plans: what missed its day is carried on.
        day.at(midnight + EVENING_SWEEP, lambda now: _sweep(day, [h.id for h in hubs], now), rank=0)
        day.at(midnight + dt.timedelta(days=1) - dt.timedelta(seconds=1),
               lambda now, lo=midnight: _end_of_day(day, region.id, lo, now), rank=9)
    if config.standing:
        served = [r.phone for r in residents if any(h.id == r.hub_id and h.cutoffs for h in hubs)]
        simulate_standing.schedule(day.at, lambda phone, body, now: _text(day, phone, body, now), db,
                                   served[:config.standing], dt.datetime.combine(first, dt.time(), tz),
                                   config.days, sms.send_due)
    _run(day)
    end = dt.datetime.combine(first + dt.timedelta(days=config.days), dt.time(), tz)
    sms.send_due(end)
    midnight = dt.datetime.combine(first, dt.time(), tz)
    summary = _summary(day, region.id, (midnight, end), started)
    if config.standing:
        summary["standing"] = simulate_standing.account(db, region.id, first, config.days, DELIVERED_KINDS)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        (out / "plan.geojson").write_text(json.dumps(_geojson(db, day.batch_ids), ensure_ascii=False) + "\n")
    return summary


# --- the day's events ----------------------------------------------------------------------------


def _orders_arrive(day: Day, residents: list[Any], cutoffs: dict[str, list[dt.datetime]],
                   midnight: dt.datetime, supply: str | None) -> None:
    """``config.orders`` orders from random residents: a ``supply_share`` of them parcels in the
    supply point's manifest at 08:30, the others texts between 07:00 and their hub's last cutoff."""
    served = [(phone, hub_id, code) for phone, hub_id, code in residents if cutoffs.get(hub_id)]
    opens = midnight + dt.timedelta(hours=7)
    parcels = round(day.config.orders * day.config.supply_share) if supply and served else 0
    if parcels:
        codes = [day.rng.choice(served)[2] for _ in range(parcels)]
        manifest = "resident,items,origin\n" + "".join(f"{c},小包:1,{supply}\n" for c in codes)
        day.at(midnight + SUPPLY_MANIFEST_AT, lambda now: _manifest(day, manifest, now))
    for _ in range(day.config.orders - parcels):
        phone, hub_id, _code = day.rng.choice(served)
        last = max(cutoffs[hub_id])
        at = opens + dt.timedelta(seconds=day.rng.uniform(0, max((last - opens).total_seconds(), 60)))
        at = at.replace(microsecond=0)
        text = day.rng.choice(DEMO_TEXTS)
        day.at(at, lambda now, p=phone, t=text: _text(day, p, t, now))
        if day.rng.random() < day.config.cancel_rate:
            later = at + dt.timedelta(minutes=day.rng.uniform(10, 240))
            day.at(later.replace(microsecond=0), lambda now, p=phone: _text(day, p, "取消", now))


def _manifest(day: Day, text: str, now: dt.datetime) -> None:
    """The supply point's parcel manifest, imported as an operator would (``hakobu import orders``)."""
    import_manifest(day.db, "manifest.csv", text.encode(), now)
    day.sms.send_due(now)


def _text(day: Day, phone: str, body: str, now: dt.datetime) -> None:
    day.sms.receive(phone, body, now)
    day.sms.send_due(now)
    _follow_revisions(day, now)


def _closer(day: Day, hub_id: str) -> Callable[[dt.datetime], None]:
    def close(now: dt.datetime) -> None:
        _sweep(day, [hub_id], now)
        result = close_batch(day.db, hub_id, now, now=now)
        if not result.order_ids:
            return
        day.batch_ids.add(result.batch_id)
        started = time.perf_counter()
        state = solve_batch(day.db.url, result.batch_id,
                            planner=lambda db, batch_id: plan_batch(
                                db, batch_id, time_limit_s=day.config.time_limit_s,
                                solution_limit=day.config.solution_limit))
        seconds = round(time.perf_counter() - started, 2)
        day.solves.append({"batch_id": result.batch_id, "hub_id": hub_id, "cutoff": now.isoformat(),
                           "orders": len(result.order_ids), "state": state, "seconds": seconds})
        if state == BatchState.SOLVED:
            day.at(now + CONFIRM_AFTER, lambda t, b=result.batch_id: _confirm(day, b, t), rank=0)

    return close


def _confirm(day: Day, batch_id: str, now: dt.datetime) -> None:
    with day.db.read() as s:
        plan = s.scalars(select(Plan).where(Plan.batch_id == batch_id).order_by(Plan.version.desc())).first()
        plan_id = plan.id if plan is not None and plan.state == PlanState.PROPOSED else None
    if plan_id is None:
        return
    try:
        confirm_plan(day.db, plan_id, None, now, day.settings)
    except DomainError as error:  # invalid plan, or an order cancelled meanwhile: left for a person
        log.warning("batch %s not confirmed: %s", batch_id, error)
        day.skipped["plan not confirmed"] += 1
        return
    day.sms.send_due(now)
    _schedule_plan(day, plan_id, now)


def _schedule_plan(day: Day, plan_id: str, now: dt.datetime) -> None:
    """Schedule the drone and courier events of a confirmed plan version (those not yet scheduled
    by an earlier version: a revision only adds what moved)."""
    with day.db.read() as s:
        batch_id = s.scalars(select(Plan.batch_id).where(Plan.id == plan_id)).one()
        routes = s.scalars(select(Route).where(Route.plan_id == plan_id).order_by(Route.position)).all()
        plan_routes = [(r.id, r.drone_id, r.volunteer_id, r.depart_at, r.return_at,
                        [(st.order_id, st.kind, st.eta, st.lon, st.lat) for st in r.stops]) for r in routes]
    for route_id, drone_id, volunteer_id, depart, back, stops in plan_routes:
        if drone_id is not None:
            if ("sortie", route_id, "") in day.scheduled or depart is None or back is None:
                continue
            day.scheduled.add(("sortie", route_id, ""))
            _schedule_sortie(day, route_id, depart, back, stops, now)
            continue
        assert volunteer_id is not None
        first = max(depart or now, now)
        day.at(first, lambda t, v=volunteer_id, r=route_id: _act(day, "pick_up", delivery.pick_up, v, t,
                                                                  route_id=r))
        for order_id, kind, eta, lon, lat in stops:
            key = (f"{batch_id}:{volunteer_id}", order_id, kind)  # a revision adds only what moved
            if key in day.scheduled:
                continue
            day.scheduled.add(key)
            when = max(eta or first, now)
            if kind == "pickup":
                day.at(when, lambda t, v=volunteer_id, o=order_id: _act(
                    day, "pick_up", delivery.pick_up, v, t, order_ids=[o]))
            elif kind == "delivery":
                day.at(when, lambda t, v=volunteer_id, o=order_id, x=lon, y=lat, b=back: _door(
                    day, v, o, x, y, b, t), rank=2)


def _schedule_sortie(day: Day, route_id: str, depart: dt.datetime, back: dt.datetime,
                     stops: list[tuple[str, str, dt.datetime | None, float, float]],
                     now: dt.datetime) -> None:
    """Hub staff fly the sortie as planned: checklist and take-off, a drop at each drop point's
    ETA (unattended drop points: no PIN), landing on return."""
    day.at(max(depart, now), lambda t: _take_off(day, route_id, t), rank=0)
    for order_id, kind, eta, _lon, _lat in stops:
        if kind == "delivery":
            day.at(max(eta or depart, now), lambda t, o=order_id: _sortie(
                day, "drop", lambda: sorties.drop(day.db, route_id, o, OPERATOR, t), t), rank=0)
    day.at(max(back, now), lambda t: _sortie(
        day, "land", lambda: sorties.land(day.db, route_id, OPERATOR, t), t), rank=0)


def _take_off(day: Day, route_id: str, now: dt.datetime) -> None:
    """Take off after the checklist (battery and weather checked, the planned payload, the first
    pilot named on the permit the plan relies on); a sortie that may not fly (weather hold, drone
    grounded, the permit expired) is aborted, its orders sent to the ground for the next batch."""
    pilots = sorties.pilots_for(day.db, route_id)
    checklist = sorties.PreFlight(battery_checked=True, weather_checked=True,
                                  pilot=pilots[0] if pilots else SIM_PILOT)
    try:
        record = sorties.take_off(day.db, route_id, OPERATOR, now, checklist)
    except DomainError as error:
        day.skipped[f"take_off: {type(error).__name__}"] += 1
        why = f"may not fly: {error}"[:sorties.MAX_TEXT]
        _sortie(day, "abort", lambda: sorties.abort(day.db, route_id, OPERATOR, now, why, to_ground=True),
                now)
        return
    day.skipped.update({f"sortie: {why}": 1 for why in record.skipped.values()})
    day.sms.send_due(now)


def _sortie(day: Day, kind: str, action: Callable[[], object], now: dt.datetime) -> None:
    """One staff action on a sortie; refused ones are counted (a revision may have grounded it)."""
    try:
        result = action()
    except DomainError as error:
        day.skipped[f"{kind}: {type(error).__name__}"] += 1
        return
    if isinstance(result, sorties.SortieRecord):
        day.skipped.update({f"sortie: {why}": 1 for why in result.skipped.values()})
    day.sms.send_due(now)


def _act(day: Day, kind: str, action: Callable[..., Any], volunteer_id: str, now: dt.datetime,
         *args: Any, **kwargs: Any) -> Any:
    """One courier action with a fresh action id (unique per seed, date and action: an id is the
    courier action's primary key, and a repeated id would be taken for a replayed action); refused
    actions are counted, not fatal (a revision may have moved the stop to someone else)."""
    action_id = f"{ACTION_PREFIX}{day.config.seed:04d}-{day.date:%Y%m%d}-{next(day.counter):08d}"
    try:
        return action(day.db, volunteer_id, *args, action_id=action_id, now=now, **kwargs)
    except DomainError as error:
        day.skipped[f"{kind}: {type(error).__name__}"] += 1
        return None


def _door(day: Day, volunteer_id: str, order_id: str, lon: float, lat: float, back: dt.datetime | None,
          now: dt.datetime) -> None:
    """The courier at the resident's door: delivered with the PIN from the resident's SMS, or nobody
    home (then the parcel goes back to the hub when the route ends)."""
    try:
        delivery.share_position(day.db, volunteer_id, lon, lat, 15.0, now)
    except DomainError:
        day.skipped["position: no active route"] += 1
    if day.rng.random() < day.config.fail_rate:
        if _act(day, "fail", delivery.fail, volunteer_id, now, order_id=order_id, reason="nobody_home"):
            day.failures += 1
            day.at(max(back or now, now), lambda t: _act(day, "return", delivery.return_to_hub,
                                                         volunteer_id, t, order_id=order_id))
        day.sms.send_due(now)
        return
    pin = _pin_from_sms(day, order_id)
    _act(day, "deliver", delivery.deliver, volunteer_id, now, order_id=order_id, pin=pin or "0000",
         lon=lon, lat=lat)  # where the phone is, as the courier page sends it: the replay draws it there
    day.sms.send_due(now)


def _pin_from_sms(day: Day, order_id: str) -> str | None:
    """The PIN as the resident reads it: from the newest planned-delivery SMS sent for the order."""
    with day.db.read() as s:
        body = s.scalars(select(Message.body).where(
            Message.order_id == order_id, Message.template == "order_planned",
            Message.status != MessageStatus.QUEUED)
            .order_by(Message.created_at.desc())).first()
    match = _PIN.search(body or "")
    return match.group(1) if match else None


def _follow_revisions(day: Day, now: dt.datetime) -> None:
    """After a cancellation: couriers follow the newest confirmed versions (of this day's batches:
    other days' plans in the same database are not the simulator's to drive)."""
    if not day.batch_ids:
        return
    with day.db.read() as s:
        confirmed = s.scalars(select(Plan.id).where(Plan.state == PlanState.CONFIRMED,
                                                    Plan.batch_id.in_(day.batch_ids))).all()
    for plan_id in confirmed:
        if ("plan", plan_id, "") not in day.scheduled:
            day.scheduled.add(("plan", plan_id, ""))
            _schedule_plan(day, plan_id, now)


def _sweep(day: Day, hub_ids: list[str], now: dt.datetime) -> None:
    """What the scheduler's sweep does for each hub before closing a cutoff (and in the evening):
    carry on the orders that missed their day, telling the residents."""
    for hub_id in hub_ids:
        carry_over_hub(day.db, hub_id, now=now, settings=day.settings)
    day.sms.send_due(now)


def _run(day: Day) -> None:
    while day.queue:
        when, _, _, action = heapq.heappop(day.queue)
        action(when)


# --- the day's account ---------------------------------------------------------------------------


def _end_of_day(day: Day, region_id: str, lo: dt.datetime, now: dt.datetime) -> None:
    """The account of the local day starting at ``lo``, taken at its last second (``now``).

    ``orders`` were created that day, ``delivered`` handed over that day (whenever ordered);
    ``cancelled`` and ``parked`` are how many more there are than at the previous day's end; and at
    the day's end every order not delivered, cancelled or parked is either ``carried_over`` (in
    the queue for a later day, the resident told that day) or ``stranded`` (anything else).
    """
    hi = lo + dt.timedelta(days=1)
    with day.db.read() as s:
        created = s.scalar(select(func.count()).select_from(Order).where(
            Order.region_id == region_id, Order.created_at >= lo, Order.created_at < hi)) or 0
        delivered = s.scalar(select(func.count(func.distinct(HandoffEvent.order_id)))
                             .join(Order, Order.id == HandoffEvent.order_id)
                             .where(Order.region_id == region_id, HandoffEvent.kind.in_(DELIVERED_KINDS),
                                    HandoffEvent.occurred_at >= lo, HandoffEvent.occurred_at < hi)) or 0
        states = Counter(dict(s.execute(select(Order.state, func.count()).where(
            Order.region_id == region_id, Order.created_at < hi).group_by(Order.state)).all()))
        open_orders = s.scalars(select(Order).where(
            Order.region_id == region_id, Order.created_at < hi,
            Order.state.not_in([OrderState.DELIVERED, OrderState.CANCELLED, OrderState.PARKED]))).all()
        waiting = sum(1 for o in open_orders if _waits_told(o, hi, day.tz))
        batch_ids = set(s.scalars(select(Batch.id).where(Batch.id.in_(day.batch_ids), Batch.cutoff_at >= lo,
                                                         Batch.cutoff_at < hi)))
        plans = s.execute(select(Plan.state, Plan.validation).where(Plan.batch_id.in_(batch_ids))).all()
    before = day.days[-1]["_states"] if day.days else Counter()
    day.days.append({
        "date": lo.date().isoformat(),
        "orders": created,
        "delivered": delivered,
        "cancelled": states["cancelled"] - before["cancelled"],
        "parked": states["parked"] - before["parked"],
        "carried_over": waiting,
        "stranded": len(open_orders) - waiting,
        "audit_ok": verify_custody(day.db).ok,
        "plans_valid": all(bool(v.get("ok")) for state, v in plans
                           if state in (PlanState.CONFIRMED, PlanState.SUPERSEDED)),
        "_states": states,
    })


def _waits_told(order: Order, day_end: dt.datetime, tz: ZoneInfo) -> bool:
    """In the queue for a later day, and the resident was told that day."""
    return (order.state == OrderState.CONFIRMED and order.window_start is not None
            and order.window_start >= day_end
            and order.told_day == order.window_start.astimezone(tz).date())


def _summary(day: Day, region_id: str, window: tuple[dt.datetime, dt.datetime],
             started: float) -> dict[str, Any]:
    """The account of the orders created on the day and of the plans of the day's batches."""
    lo, hi = window
    with day.db.read() as s:
        orders = s.scalars(select(Order).where(Order.region_id == region_id, Order.created_at >= lo,
                                               Order.created_at < hi)).all()
        returned_ids = set(s.scalars(select(HandoffEvent.order_id).where(
            HandoffEvent.kind == "returned", HandoffEvent.order_id.in_([o.id for o in orders]))))
        plans = s.scalars(select(Plan).join(Batch, Batch.id == Plan.batch_id).where(
            Plan.batch_id.in_(day.batch_ids)).order_by(Batch.cutoff_at, Plan.version)).all()
        last_reason: dict[str, str] = {}
        for plan in plans:
            for entry in plan.unserved:
                last_reason[entry["order_id"]] = entry["reason"]
        confirmed = [p for p in plans if p.state == PlanState.CONFIRMED]
        km: Counter[str] = Counter()
        for plan in confirmed:
            km.update(plan.solution.get("km_by_mode", {}))
        drone_sorties = sum(1 for p in confirmed for r in p.routes if r.drone_id is not None)
        validations = [{"plan_id": p.id, "batch_id": p.batch_id, "version": p.version, "state": p.state,
                        "ok": bool(p.validation.get("ok")),
                        "violations": len(p.validation.get("violations", []))} for p in plans]
        messages = dict(s.execute(select(Message.status, func.count()).where(
            Message.direction == "out", Message.created_at >= lo, Message.created_at < hi)
            .group_by(Message.status)).all())
    counts: Counter[str] = Counter()
    unserved: Counter[str] = Counter()
    unaccounted = []
    for order in orders:
        if order.state == OrderState.DELIVERED:
            counts["delivered"] += 1
        elif order.state == OrderState.CANCELLED:
            counts["cancelled"] += 1
        elif order.id in returned_ids and order.state in (OrderState.CONFIRMED, OrderState.RETURNED):
            counts["returned"] += 1
        elif order.state == OrderState.PARKED:
            counts["parked"] += 1
        elif order.state in (OrderState.RECEIVED, OrderState.CONFIRMED, OrderState.BATCHED,
                             OrderState.PLANNED):
            counts["unserved"] += 1
            default = "after_last_cutoff" if order.batch_id is None else "not_planned"
            unserved[last_reason.get(order.id, default)] += 1
        else:
            unaccounted.append({"number": order.number, "state": order.state})
    audit = verify_custody(day.db)
    total = len(orders)
    plans_valid = all(v["ok"] for v in validations if v["state"] in ("confirmed", "superseded"))
    week = _total(day, orders, audit.ok, plans_valid)
    accounted = sum(counts[k] for k in ("delivered", "unserved", "cancelled", "returned", "parked"))
    return {
        "region": day.config.region.name,
        "seed": day.config.seed,
        "orders_texted": day.config.orders,
        "orders": {"total": total, "delivered": counts["delivered"], "unserved": counts["unserved"],
                   "cancelled": counts["cancelled"], "returned": counts["returned"],
                   "parked": counts["parked"],
                   "unserved_by_reason": dict(sorted(unserved.items())), "unaccounted": unaccounted},
        "accounted": accounted == total and not unaccounted,
        "failed_attempts": day.failures,
        "km_by_mode": {mode: round(value, 3) for mode, value in sorted(km.items())},
        "drone_sorties": drone_sorties,
        "batches": day.solves,
        "plans": validations,
        "all_plans_valid": all(v["ok"] for v in validations
                               if v["state"] in (PlanState.CONFIRMED, PlanState.SUPERSEDED)),
        "messages_out": messages,
        "refused_actions": dict(sorted(day.skipped.items())),
        "audit": {"ok": audit.ok, "events": audit.checked, "first_broken_seq": audit.first_broken_seq,
                  "reason": audit.reason},
        "days": [{k: v for k, v in d.items() if not k.startswith("_")} for d in day.days],
        "total": week,
        "audit_ok": audit.ok,
        "plans_valid": plans_valid,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def _total(day: Day, orders: list[Order], audit_ok: bool, plans_valid: bool) -> dict[str, Any]:
    """The run's account: final states, and the last day's carried-over and stranded orders.

    ``delivered_share`` is of the orders that wanted delivery within the run: all but those still
    waiting at the end that were never carried (wished for a day after the run)."""
    last = day.days[-1] if day.days else {"carried_over": 0, "stranded": 0}
    states = Counter(o.state for o in orders)
    end = dt.datetime.combine(day.date + dt.timedelta(days=day.config.days), dt.time(), day.tz)
    later = sum(1 for o in orders if o.carried_over == 0 and _waits_told(o, end, day.tz))
    wanted = len(orders) - later
    return {
        "orders": len(orders), "delivered": states["delivered"], "cancelled": states["cancelled"],
        "parked": states["parked"], "carried_over": last["carried_over"], "stranded": last["stranded"],
        "audit_ok": audit_ok, "plans_valid": plans_valid,
        "wanted_within_run": wanted,
        "delivered_share": round(states["delivered"] / wanted, 4) if wanted else 1.0,
    }


def _geojson(db: Database, batch_ids: set[str]) -> dict[str, Any]:
    """The day's confirmed plans' legs and stops, in the routing GeoJSON format, as one collection."""
    features: list[dict[str, Any]] = []
    with db.read() as s:
        rows = s.execute(select(Plan.batch_id, Plan.problem, Plan.solution)
                         .join(Batch, Batch.id == Plan.batch_id)
                         .where(Plan.batch_id.in_(batch_ids), Plan.state == PlanState.CONFIRMED)
                         .order_by(Batch.cutoff_at)).all()
    for batch_id, problem_json, solution_json in rows:
        problem = routing.problem_from_json(problem_json)
        solution = routing.solution_from_json(solution_json)
        features += routing.plan_geojson(problem, solution, batch_id)["features"]
    return {"type": "FeatureCollection", "features": features}


def simulated_days(db: Database, region_code: str | None = None) -> list[dt.date]:
    """The local dates of the region's simulated days in ``db`` (oldest first): days with orders
    that a simulated courier acted on (their action ids start with :data:`ACTION_PREFIX`). Without
    a code, the first region (by code); none loaded: no days."""
    with db.read() as s:
        query = select(Region).order_by(Region.code)
        if region_code is not None:
            query = query.where(Region.code == region_code)
        region = s.scalars(query.limit(1)).first()
        if region is None:
            return []
        tz = ZoneInfo(region.timezone)
        created = s.scalars(select(Order.created_at).join(CourierAction, CourierAction.order_id == Order.id)
                            .where(Order.region_id == region.id,
                                   CourierAction.action_id.like(f"{ACTION_PREFIX}%")).distinct())
        return sorted({at.astimezone(tz).date() for at in created})
