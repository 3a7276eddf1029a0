"""What the residents' page shows beside the form (issue 15, item 5): the hub's name and phone,
the hub's common items as buttons, whether today's deliveries are still possible, and the day of
each order, all in the region's time."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.localtime import timezone_of
from dispatch.models import Hub, Order, OrderItem, Resident

#: Offered when the hub has few orders yet (everyday goods of dispatch.catalogue), per language.
DEFAULT_ITEMS = {"ja": ("米", "牛乳", "卵", "パン", "豆腐", "トイレットペーパー"),
                 "en": ("rice", "milk", "eggs", "bread", "tofu", "toilet paper")}
#: How many item buttons, and how far back the hub's orders count.
COMMON_ITEMS, COMMON_DAYS = 6, 60


@dataclass(frozen=True)
class HubCard:
    name: str
    phone: str  # E.164, "" when unknown
    today_closed: bool  # past the hub's last cutoff (or closing): an order now comes tomorrow at best
    common_items: tuple[str, ...]
    timezone: ZoneInfo


def hub_card(session: Session, resident_id: str, language: str, now: dt.datetime) -> HubCard:
    """The card of the resident's hub, as seen at ``now``."""
    resident = session.get(Resident, resident_id)
    assert resident is not None
    hub = session.get(Hub, resident.hub_id)
    assert hub is not None
    tz = timezone_of(session, hub)
    local = now.astimezone(tz).time()
    last = max((dt.time.fromisoformat(c) for c in hub.cutoffs or ()), default=hub.closes)
    return HubCard(hub.name, hub.phone or "", local >= min(last, hub.closes),
                   common_items(session, hub.id, language, now), tz)


def common_items(session: Session, hub_id: str, language: str, now: dt.datetime) -> tuple[str, ...]:
    """The hub's most ordered item names of the last :data:`COMMON_DAYS` days, topped up with
    :data:`DEFAULT_ITEMS` (most frequent first, then the defaults' order)."""
    since = now - dt.timedelta(days=COMMON_DAYS)
    names = session.scalars(select(OrderItem.name).join(Order, OrderItem.order_id == Order.id)
                            .where(Order.hub_id == hub_id, Order.created_at >= since))
    counts = Counter(name.strip() for name in names if name.strip())
    ranked = [name for name, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    defaults = DEFAULT_ITEMS.get(language, DEFAULT_ITEMS["ja"])
    return tuple(dict.fromkeys([*ranked, *defaults]))[:COMMON_ITEMS]


def hub_phones(session: Session) -> list[tuple[str, str]]:
    """(name, phone) of every hub with a phone, for the sign-in page's hint (the resident is not
    known yet)."""
    return [(name, phone) for name, phone in session.execute(
        select(Hub.name, Hub.phone).where(Hub.kind == "hub", Hub.phone != "").order_by(Hub.code))]
