"""Standing orders in a simulated run (``hakobu simulate --standing N``; issue 15, item 2).

The first morning, ``N`` residents text ``定期 <item> <n> 毎週<weekday>`` (their weekdays spread
over the week) through the same SMS edge as every other text. Each simulated day, the scheduler's
sweep step :func:`dispatch.services.standing.run_due` runs at 07:00 (the catch-up a late sweep
does) and at 16:00 (the day before's reminders and orders), as the real sweep would at those
times. On the first day one resident answers the reminder with ``取消``: that occurrence is
skipped. :func:`account` then checks every occurrence due within the run: placed once (or closed),
delivered exactly once unless skipped, none forgotten, the skipped one never delivered.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.lifecycle import OrderState
from dispatch.models import HandoffEvent, Order, Resident, StandingOccurrence, StandingOrder
from dispatch.services import standing

_JA_WEEKDAYS = "月火水木金土日"
_ITEMS = ("米 2", "牛乳 1", "薬 1", "卵 1", "豆腐 2")
#: When the sweep's standing-order step runs in a simulated day (local clock).
RUNS = (dt.time(7, 0), standing.REMIND_AT)

At = Callable[[dt.datetime, Callable[[dt.datetime], None]], None]
Text = Callable[[str, str, dt.datetime], None]


def schedule(
    at: At,
    text: Text,
    db: Database,
    phones: Sequence[str],
    first: dt.datetime,
    days: int,
    send_due: Callable[[dt.datetime], object],
) -> None:
    """Queue the standing orders' texts and runs of a ``days``-day run starting at local midnight
    ``first``; ``phones`` are the residents who set one (resident ``i`` on weekday ``i % 7``)."""
    setup = first + dt.timedelta(hours=6)
    for i, phone in enumerate(phones):
        body = f"定期 {_ITEMS[i % len(_ITEMS)]} 毎週{_JA_WEEKDAYS[i % 7]}曜"
        at(setup + dt.timedelta(seconds=i), lambda now, p=phone, b=body: text(p, b, now))

    def run(now: dt.datetime) -> None:
        standing.run_due(db, now=now)
        send_due(now)

    for offset in range(days):
        midnight = first + dt.timedelta(days=offset)
        for time_of_day in RUNS:
            at(dt.datetime.combine(midnight.date(), time_of_day, first.tzinfo), run)
    # The first reminder's resident does not need it this week: they answer 取消.
    tomorrow = (first.weekday() + 1) % 7
    skipper = next((p for i, p in enumerate(phones) if i % 7 == tomorrow), None)
    if skipper is not None:
        reminded = dt.datetime.combine(first.date(), standing.REMIND_AT, first.tzinfo)
        at(reminded + dt.timedelta(minutes=5), lambda now: text(skipper, "取消", now))


def account(
    db: Database, region_id: str, first: dt.date, days: int, delivered_kinds: Sequence[str]
) -> dict[str, Any]:
    """Every occurrence due on a day of the run, and what became of it."""
    last = first + dt.timedelta(days=days - 1)
    with db.read() as s:
        orders = list(
            s.scalars(
                select(StandingOrder)
                .join(Resident, Resident.id == StandingOrder.resident_id)
                .where(Resident.region_id == region_id)
            )
        )
        occurrences = {
            (o.standing_order_id, o.day): o
            for o in s.scalars(
                select(StandingOccurrence).where(
                    StandingOccurrence.standing_order_id.in_([so.id for so in orders])
                )
            )
        }
        states = dict(
            s.execute(
                select(Order.id, Order.state).where(
                    Order.id.in_([o.order_id for o in occurrences.values() if o.order_id])
                )
            ).all()
        )
        deliveries = Counter(
            dict(
                s.execute(
                    select(HandoffEvent.order_id, func.count())
                    .where(
                        HandoffEvent.order_id.in_(list(states)), HandoffEvent.kind.in_(list(delivered_kinds))
                    )
                    .group_by(HandoffEvent.order_id)
                ).all()
            )
        )
    counts: Counter[str] = Counter()
    for so in orders:
        day = standing.next_occurrence(so, first)
        while day <= last:
            counts["due"] += 1
            occurrence = occurrences.get((so.id, day))
            if occurrence is None:
                counts["forgotten"] += 1
            elif occurrence.outcome == "closed":
                counts["closed"] += 1
            elif states.get(occurrence.order_id) == OrderState.CANCELLED:
                counts["skipped"] += 1
                counts["skipped_delivered"] += deliveries[occurrence.order_id] > 0
            else:
                delivered = deliveries[occurrence.order_id]
                counts[
                    "delivered_once"
                    if delivered == 1
                    else "delivered_twice"
                    if delivered > 1
                    else "not_delivered"
                ] += 1
            day = standing.next_occurrence(so, day + dt.timedelta(days=1))
    keys = (
        "due",
        "delivered_once",
        "skipped",
        "closed",
        "forgotten",
        "delivered_twice",
        "skipped_delivered",
        "not_delivered",
    )
    return {
        "standing_orders": len(orders),
        **{k: counts[k] for k in keys},
        "ok": counts["forgotten"] == counts["delivered_twice"] == counts["skipped_delivered"] == 0,
    }
