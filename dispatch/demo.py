"""Demo data: accounts for every role and a small demo day on top of a loaded region."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.models import Hub, Order, Region, Resident
from dispatch.requests import ItemRequest
from dispatch.services.ordering import place_order
from dispatch.services.users import upsert_user

#: (SMS text, or web items) residents typically send; Japanese and English.
DEMO_TEXTS = ("注文 米5kg 1、牛乳 2本", "注文 パン 2 午後", "注文 卵 1、豆腐 2", "注文 薬 1",
              "注文 トイレットペーパー 1 明日の午前", "ORDER milk 2, bread 1", "注文 お茶 2、野菜 1")
WEB_ITEMS = ((("米", 1), ("牛乳", 1)), (("水", 2),), (("新聞", 1), ("パン", 1)))

#: A function that takes an inbound SMS as the real service would (injected by the caller, who
#: may import the SMS layer): (phone, body, received_at) -> anything.
ReceiveSms = Callable[[str, str, dt.datetime], Any]


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


def seed_demo_day(db: Database, region_code: str, receive_sms: ReceiveSms, orders: int = 30,
                  seed: int = 7, now: dt.datetime | None = None) -> list[str]:
    """Place ``orders`` orders for today through the real intake paths (SMS, web, phone), unless
    the region already has orders from today (so restarting the demo adds nothing)."""
    now = now or dt.datetime.now(dt.UTC)
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == region_code)).one()
        since = now - dt.timedelta(hours=12)
        existing = s.scalar(select(func.count()).select_from(Order).where(
            Order.region_id == region.id, Order.created_at >= since)) or 0
        if existing:
            return [f"demo day already has {existing} orders"]
        residents = list(s.execute(select(Resident.id, Resident.phone).where(
            Resident.region_id == region.id, Resident.active).order_by(Resident.code)))
    rng = random.Random(seed)
    chosen = rng.sample(residents, min(orders, len(residents)))
    channels: dict[str, int] = {}
    for index, (resident_id, phone) in enumerate(chosen):
        at = now - dt.timedelta(minutes=5 * (len(chosen) - index))
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
    return ["demo day: " + ", ".join(f"{n} orders by {c}" for c, n in sorted(channels.items()))]
