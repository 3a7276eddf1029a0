"""Demo data: accounts for every role, and a demo day (orders, closed batches, proposed plans) on
top of a loaded region, so that ``make demo`` opens on a console with work to review.

The demo day (what :func:`demo_day` decides, and the README's tour explains)
---------------------------------------------------------------------------
The demo runs on the real clock: the console confirms, the courier delivers and the board updates
*now*. A batch can only close at or before now (:func:`dispatch.services.batching.close_batch`), and
a batch plans its cutoff's local day (:func:`dispatch.planning.build.horizon_of`). So:

* started before the hubs' first cutoff of the day (10:00 in Tajima), the demo day's orders arrive
  in the hours before start-up and the batches close **now**: the plans cover the rest of the day
  (from the hubs' opening, 08:00, at the earliest);
* started later, the orders are placed as if they had arrived before this morning's first cutoff and
  the batches close **at that cutoff**, which is exactly the batch a scheduler would have closed then.
  The plans cover the day from 10:00; ETAs before now are already past, and the handoff board marks
  such parcels overdue once their plan is confirmed.

Either way the morning volunteers of every Tajima hub are on shift (each hub has one every day of
the week), so each hub's plan has a courier route. A restart on the same day adds nothing: orders are
placed once per local day and each hub's batch of the day is closed and solved once.

The simulated day (for planners)
--------------------------------
Planners replay days that happened. Before the demo day is seeded, :func:`seed_simulated_day` runs
*yesterday* (local) through :func:`dispatch.simulate.simulate` into the demo database: residents
text, batches close at both cutoffs, plans are solved and confirmed, drones fly and couriers deliver
with the residents' PINs, a few fail or cancel. It runs first because a resident's bare ``取消``
cancels their newest open order: run after the demo day, it would cancel today's orders. What the
day leaves undelivered (orders asked for "tomorrow morning", parcels back at the hub) is taken by
today's batches, as the scheduler would. Each solve stops at a solution limit (a few seconds at
most), so the day is the same on any machine. Yesterday is simulated only when it has no orders:
a restart (or yesterday's own demo day) keeps what is there.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.demo_texts import DEMO_TEXTS
from dispatch.imports import import_manifest
from dispatch.lifecycle import BatchState, MessageStatus
from dispatch.models import Batch, Hub, Message, Order, Plan, Region, Resident, Volunteer, utcnow
from dispatch.requests import ItemRequest
from dispatch.services.batching import close_batch, parse_cutoff
from dispatch.services.ordering import place_order
from dispatch.services.solving import release_batch, solve_batch
from dispatch.services.users import upsert_user

#: Web items residents typically order (their SMS texts: :data:`dispatch.demo_texts.DEMO_TEXTS`).
WEB_ITEMS = ((("米", 1), ("牛乳", 1)), (("水", 2),), (("新聞", 1), ("パン", 1)))
#: The demo day's orders arrive over this long before the batches close (5 minutes apart at most).
ORDER_SPREAD = dt.timedelta(minutes=150)
ORDER_GAP = dt.timedelta(minutes=5)
#: Parcels the supply point (the post office) has for residents of drone-port hubs on the demo day.
POST_OFFICE_PARCELS = 4
#: Solver time per hub at start-up: the demo should open within ~20 s on a small machine.
DEMO_SOLVE_SECONDS = 3.0
#: The simulated past day: orders texted over the day, seed, and each batch's solve (an upper bound
#: in seconds, and the solution limit that normally stops it first: ~0.5 s per batch on Tajima).
SIMULATED_ORDERS = 30
SIMULATED_SEED = 1  # a day on which Kannabe has drone-eligible orders (docs/planners.md)
SIMULATED_SOLVE_SECONDS = 2.0
SIMULATED_SOLUTION_LIMIT = 100

#: A function that takes an inbound SMS as the real service would (injected by the caller, who
#: may import the SMS layer): (phone, body, received_at) -> anything.
ReceiveSms = Callable[[str, str, dt.datetime], Any]
if TYPE_CHECKING:  # at run time imported only when a day is simulated (it imports OR-Tools)
    from dispatch.simulate import SmsEdge

#: Where progress lines go while the demo is being prepared (``click.echo`` in the CLI).
Echo = Callable[[str], None]


def seed_demo(db: Database, region_code: str, password: str) -> list[str]:
    """Create (or reset) the demo accounts; returns human lines describing what was seeded."""
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == region_code)).one()
        hub_codes = list(s.scalars(select(Hub.code).where(Hub.region_id == region.id,
                                                          Hub.kind == "hub")))
    upsert_user(db, "operator@demo", "Demo operator", "operator", password, hub_codes)
    upsert_user(db, "planner@demo", "Demo planner", "planner", password)
    upsert_user(db, "admin@demo", "Demo admin", "admin", password)
    return [f"operator@demo runs hubs: {', '.join(hub_codes)}"]


@dataclass(frozen=True)
class DemoDay:
    """When the demo day's batches close (see the module docstring) and the local day they plan."""

    cutoff_at: dt.datetime  # aware UTC, at or before ``now``
    day: dt.date  # the region's local date
    tz: ZoneInfo
    rewound: bool  # True when the cutoff is this morning's first cutoff rather than now

    @property
    def day_start(self) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(0), self.tz)

    def local(self, at: dt.datetime) -> str:
        return at.astimezone(self.tz).strftime("%H:%M")


def demo_day(db: Database, region_code: str, now: dt.datetime) -> DemoDay:
    """The demo day at ``now``: batches close now before the region's first cutoff of the day, and
    at that cutoff once it has passed (module docstring). A region without cutoffs closes now."""
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == region_code)).one()
        cutoffs = [c for hub_cutoffs in s.scalars(select(Hub.cutoffs).where(
            Hub.region_id == region.id, Hub.kind == "hub")) for c in (hub_cutoffs or [])]
    tz = ZoneInfo(region.timezone)
    local = now.astimezone(tz)
    if cutoffs:
        first = dt.datetime.combine(local.date(), min(parse_cutoff(c) for c in cutoffs), tz)
        if local >= first:
            return DemoDay(first.astimezone(dt.UTC), local.date(), tz, rewound=True)
    return DemoDay(now.astimezone(dt.UTC), local.date(), tz, rewound=False)


def describe_day(day: DemoDay, now: dt.datetime) -> str:
    """One line for the person starting the demo: which day, and why the batches close when they do."""
    head = f"demo day {day.day.isoformat()} ({day.tz.key}, now {day.local(now)} there)"
    if day.rewound:
        return (f"{head}: past the first cutoff, so the batches close at this morning's "
                f"{day.local(day.cutoff_at)} cutoff; ETAs before now are already past")
    return f"{head}: before the first cutoff, so the batches close now"


def seed_demo_day(db: Database, region_code: str, receive_sms: ReceiveSms, orders: int = 30,
                  seed: int = 7, now: dt.datetime | None = None) -> list[str]:
    """Place ``orders`` orders of the demo day through the real intake paths (SMS, web, phone),
    all before the demo day's cutoff, unless the region already has orders from today (so
    restarting the demo adds nothing)."""
    now = now or utcnow()
    day = demo_day(db, region_code, now)
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == region_code)).one()
        existing = s.scalar(select(func.count()).select_from(Order).where(
            Order.region_id == region.id, Order.created_at >= day.day_start)) or 0
        if existing:
            return [f"demo day already has {existing} orders"]
        residents = list(s.execute(select(Resident.id, Resident.phone).where(
            Resident.region_id == region.id, Resident.active).order_by(Resident.code)))
        supply = s.scalars(select(Hub.code).where(Hub.region_id == region.id, Hub.kind == "supply")
                           .order_by(Hub.code)).first()
        by_drone = list(s.scalars(select(Resident.code).join(Hub, Hub.id == Resident.hub_id).where(
            Resident.region_id == region.id, Resident.active, Hub.drone_port).order_by(Resident.code)))
    rng = random.Random(seed)
    chosen = rng.sample(residents, min(orders, len(residents)))
    first = max(day.cutoff_at - ORDER_SPREAD, day.day_start)  # all of them today
    gap = min(ORDER_GAP, (day.cutoff_at - first) / (len(chosen) + 1))
    channels: dict[str, int] = {}
    for index, (resident_id, phone) in enumerate(chosen):
        at = day.cutoff_at - gap * (len(chosen) - index)
        if index % 5 == 3:
            items = [ItemRequest(n, q) for n, q in rng.choice(WEB_ITEMS)]
            place_order(db, resident_id, items, channel="web", now=at)
            channels["web"] = channels.get("web", 0) + 1
        elif index % 5 == 4:
            place_order(db, resident_id, [ItemRequest("薬", 1)], channel="phone", now=at, priority=1)
            channels["phone"] = channels.get("phone", 0) + 1
        else:
            receive_sms(phone, rng.choice(DEMO_TEXTS), at)
            channels["sms"] = channels.get("sms", 0) + 1
    if supply and by_drone:  # the post office's morning manifest: parcels the drone shuttle fetches
        codes = rng.sample(by_drone, min(POST_OFFICE_PARCELS, len(by_drone)))
        manifest = "resident,items,origin\n" + "".join(f"{c},小包:1,{supply}\n" for c in codes)
        channels["import"] = len(import_manifest(db, "manifest.csv", manifest.encode(), first))
    return ["demo day: " + ", ".join(f"{n} orders by {c}" for c, n in sorted(channels.items()))]


def seed_demo_plans(db: Database, region_code: str, now: dt.datetime | None = None,
                    time_limit_s: float = DEMO_SOLVE_SECONDS, echo: Echo | None = None) -> list[str]:
    """Close each hub's batch of the demo day and solve it, so the operator finds proposed plans.

    Idempotent per local day: a hub that already has a batch cut off today keeps it (a batch left
    ``closed``, or ``solving`` by a demo stopped mid-solve, is solved now; nothing is re-planned).
    Solves run one hub after the other, each for ``time_limit_s`` seconds, through the scheduler's
    worker function (:func:`~dispatch.services.solving.solve_batch`) and the real planner.
    """
    from dispatch.planning import plan_batch  # OR-Tools: imported only when a demo is prepared

    say = echo or (lambda line: None)
    now = now or utcnow()
    day = demo_day(db, region_code, now)
    say(describe_day(day, now))
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == region_code)).one()
        hubs = list(s.execute(select(Hub.id, Hub.code).where(Hub.region_id == region.id, Hub.kind == "hub")
                              .order_by(Hub.code)))
    lines = []
    for hub_id, code in hubs:
        batch_id, state, created = _days_batch(db, hub_id, day, now)
        if state == BatchState.SOLVING:  # a demo stopped during this solve: nobody else solves demo batches
            release_batch(db, batch_id)
            state = BatchState.CLOSED
        if state == BatchState.CLOSED:
            say(f"planning {code}: solving its batch for {time_limit_s:g} s …")
            solve_batch(db.url, batch_id, planner=lambda database, batch: plan_batch(
                database, batch, time_limit_s=time_limit_s))
        lines.append(f"{code}: " + _describe(db, batch_id, day, "" if created else " (planned earlier)"))
    return lines


def _days_batch(db: Database, hub_id: str, day: DemoDay, now: dt.datetime) -> tuple[str, BatchState, bool]:
    """(batch id, state, created now) of the hub's batch of the demo day, closing it if needed."""
    with db.read() as s:
        batch = s.scalars(select(Batch).where(
            Batch.hub_id == hub_id, Batch.cutoff_at >= day.day_start,
            Batch.cutoff_at < day.day_start + dt.timedelta(days=1)).order_by(Batch.cutoff_at)).first()
        if batch is not None:
            return batch.id, batch.state, False
    result = close_batch(db, hub_id, day.cutoff_at, now=now)
    return result.batch_id, result.state, True


def _describe(db: Database, batch_id: str, day: DemoDay, note: str) -> str:
    with db.read() as s:
        batch = s.get_one(Batch, batch_id)
        orders = s.scalar(select(func.count()).select_from(Order).where(Order.batch_id == batch_id)) or 0
        plan = s.scalars(select(Plan).where(Plan.batch_id == batch_id).order_by(Plan.version.desc())).first()
        head = f"batch closed at {day.local(batch.cutoff_at)}{note}, {orders} orders"
        if plan is None:
            return f"{head}, {batch.state}" + (f" ({batch.display_reason})" if batch.display_reason else "")
        couriers = sum(1 for r in plan.routes if r.volunteer_id and r.stops)
        sorties = sum(1 for r in plan.routes if r.drone_id and r.stops)
        deliveries = sum(1 for r in plan.routes for st in r.stops if st.kind == "delivery")
        return (f"{head} → plan v{plan.version} {plan.state}: {deliveries} deliveries, "
                f"{couriers} courier route(s), {sorties} drone sortie(s), {len(plan.unserved)} unserved")


# --- the SMS simulator's "sent messages" (demo and training only) --------------------------------

#: A link in a sent text: absolute, or the relative form a deployment without a public URL sends.
_LINK = re.compile(r"(?:https?://[^\s]+|(?<!\S)/(?:courier/login|c)/[^\s]+)")


@dataclass(frozen=True)
class SentMessage:
    """An SMS the simulator transport "delivered": its full text as the handset shows it (courier
    links and delivery PINs included: only the simulator keeps them, see ``sms.sender``)."""

    id: str
    phone: str
    recipient: str  # "courier" | "resident" | "unknown"
    label: str  # courier code and name, or resident code
    template: str
    order_number: int | None
    body: str
    link: str | None
    at: dt.datetime


def simulator_outbox(db: Database, hub_ids: set[str] | None, templates: Collection[str] = (),
                     limit: int = 60) -> list[SentMessage]:
    """The latest texts sent through the simulator transport, newest first, for the simulator page.

    ``hub_ids`` scopes it like the rest of the console: texts to a resident, courier or order of
    those hubs (and replies to unknown numbers, which belong to no hub); None means every hub.
    ``templates`` keeps only those kinds of text (all when empty). Messages of a real transport
    never appear (their stored copy has its secrets masked anyway).
    """
    stmt = (select(Message, Resident.code, Volunteer.code, Volunteer.name, Order.number)
            .outerjoin(Resident, Resident.id == Message.resident_id)
            .outerjoin(Volunteer, Volunteer.id == Message.volunteer_id)
            .outerjoin(Order, Order.id == Message.order_id)
            .where(Message.direction == "out", Message.transport == "simulator",
                   Message.status.in_((MessageStatus.SENT, MessageStatus.DELIVERED)))
            .order_by(Message.updated_at.desc(), Message.created_at.desc()).limit(limit))
    if templates:
        stmt = stmt.where(Message.template.in_(list(templates)))
    if hub_ids is not None:
        stmt = stmt.where(or_(Resident.hub_id.in_(hub_ids), Volunteer.hub_id.in_(hub_ids),
                              Order.hub_id.in_(hub_ids),
                              (Message.resident_id.is_(None) & Message.volunteer_id.is_(None)
                               & Message.order_id.is_(None))))
    out = []
    with db.read() as s:
        for message, resident_code, courier_code, courier_name, number in s.execute(stmt):
            if courier_code is not None:
                recipient, label = "courier", f"{courier_code} {courier_name}"
            elif resident_code is not None:
                recipient, label = "resident", resident_code
            else:
                recipient, label = "unknown", ""
            match = _LINK.search(message.body or "")
            out.append(SentMessage(message.id, message.phone, recipient, label, message.template, number,
                                   message.body or "", match.group(0) if match else None,
                                   message.updated_at))
    return out


# --- the simulated past day (planners' replay, KPIs and scenarios) ----------------------------------


def seed_simulated_day(db: Database, region_code: str, region_path: Path, sms: SmsEdge, settings: Settings,
                       now: dt.datetime | None = None, orders: int = SIMULATED_ORDERS,
                       echo: Echo | None = None) -> list[str]:
    """Simulate yesterday (local) into ``db`` unless it already has orders (module docstring)."""
    from dispatch.simulate import SimConfig, simulate  # OR-Tools: only when a day is simulated

    say = echo or (lambda line: None)
    now = now or utcnow()
    tz = demo_day(db, region_code, now).tz
    day = now.astimezone(tz).date() - dt.timedelta(days=1)
    with db.read() as s:
        region_id = s.scalars(select(Region.id).where(Region.code == region_code)).one()
        lo = dt.datetime.combine(day, dt.time(0), tz)
        existing = s.scalar(select(func.count()).select_from(Order).where(
            Order.region_id == region_id, Order.created_at >= lo,
            Order.created_at < lo + dt.timedelta(days=1))) or 0
    if existing or orders == 0:
        return [f"past day {day.isoformat()} already has {existing} orders: not simulated again"
                if existing else "no simulated day (--simulated-orders 0)"]
    say(f"simulating {day.isoformat()} for planners: {orders} orders, each batch solved for at most "
        f"{SIMULATED_SOLVE_SECONDS:g} s …")
    config = SimConfig(region=region_path, orders=orders, seed=SIMULATED_SEED,
                       time_limit_s=SIMULATED_SOLVE_SECONDS, solution_limit=SIMULATED_SOLUTION_LIMIT, day=day)
    summary = simulate(db, config, sms, settings, region_code=region_code)
    o = summary["orders"]
    return [f"simulated day {day.isoformat()}: {o['total']} orders, {o['delivered']} delivered, "
            f"{o['unserved']} unserved, {o['cancelled']} cancelled, {o['returned']} returned; "
            f"{summary['drone_sorties']} drone sorties; {len(summary['batches'])} batches "
            f"({summary['wall_seconds']} s)"]
