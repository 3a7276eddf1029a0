"""A resident's people page in the console: their proxies with the consent record, their standing
orders, and who ordered what for them (the resident, a proxy, an operator on the phone)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.localtime import timezone_of, timezone_of_hubs
from dispatch.models import Hub, HubClosure, Order, Proxy, Resident, StandingOrder, User
from dispatch.read import HubScope, scoped
from dispatch.services.standing import next_occurrence


@dataclass(frozen=True)
class ProxyRow:
    id: str
    name: str
    phone: str
    relation: str
    consented_by: str
    consent_method: str
    consented_at: dt.datetime
    ordering: bool
    receiving: bool
    note: str
    recorded_by: str  # the operator's name; "" when loaded from the region files
    active: bool
    revoked_at: dt.datetime | None
    revoked_by: str


@dataclass(frozen=True)
class OrderedBy:
    """One order and who placed it: ``by`` is ``resident``, ``proxy`` or ``operator``."""

    number: int
    state: str
    channel: str
    created_at: dt.datetime
    by: str
    proxy_name: str = ""
    proxy_relation: str = ""
    operator: str = ""


@dataclass(frozen=True)
class StandingRow:
    id: str
    items: tuple[tuple[str, int, str | None], ...]
    weekday: int
    every_weeks: int
    part: str
    state: str
    next_day: dt.date | None


def _user_names(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def proxies_of(session: Session, resident_id: str) -> list[ProxyRow]:
    """The resident's proxies, active ones first, each with its consent record."""
    rows = list(
        session.scalars(
            select(Proxy).where(Proxy.resident_id == resident_id).order_by(Proxy.active.desc(), Proxy.name)
        )
    )
    names = _user_names(session, {p.recorded_by_user_id for p in rows} | {p.revoked_by_user_id for p in rows})
    return [
        ProxyRow(
            p.id,
            p.name,
            p.phone,
            p.relation,
            p.consented_by,
            p.consent_method,
            p.consent_recorded_at,
            p.covers_ordering,
            p.covers_receiving,
            p.consent_note,
            names.get(p.recorded_by_user_id or "", ""),
            p.active,
            p.revoked_at,
            names.get(p.revoked_by_user_id or "", ""),
        )
        for p in rows
    ]


def callers(session: Session, resident_id: str) -> list[tuple[str, str, str]]:
    """(proxy id, name, relation) of who may phone the hub to order for the resident."""
    return [
        (p.id, p.name, p.relation)
        for p in session.scalars(
            select(Proxy)
            .where(Proxy.resident_id == resident_id, Proxy.active, Proxy.covers_ordering)
            .order_by(Proxy.name)
        )
    ]


def ordered_by(session: Session, resident_id: str, limit: int = 10) -> list[OrderedBy]:
    """The resident's latest orders, each with who placed it: the audit of who ordered for whom."""
    rows = session.execute(
        select(Order, Proxy)
        .outerjoin(Proxy, Order.proxy_id == Proxy.id)
        .where(Order.resident_id == resident_id)
        .order_by(Order.created_at.desc(), Order.number.desc())
        .limit(limit)
    ).all()
    names = _user_names(session, {o.entered_by_user_id for o, _ in rows})
    found = []
    for order, proxy in rows:
        operator = names.get(order.entered_by_user_id or "", "")
        by = "proxy" if proxy is not None else "operator" if operator else "resident"
        found.append(
            OrderedBy(
                order.number,
                order.state,
                order.channel,
                order.created_at,
                by,
                proxy.name if proxy else "",
                proxy.relation if proxy else "",
                operator,
            )
        )
    return found


def standing_of(session: Session, resident_id: str, today: dt.date) -> list[StandingRow]:
    """The resident's standing orders that are not stopped, with the next delivery day."""
    rows = session.scalars(
        select(StandingOrder)
        .where(StandingOrder.resident_id == resident_id, StandingOrder.state != "stopped")
        .order_by(StandingOrder.created_at)
    )
    return [
        StandingRow(
            s.id,
            tuple((n, int(q), u) for n, q, u in s.items),
            s.weekday,
            s.every_weeks,
            s.part,
            s.state,
            next_occurrence(s, today) if s.state == "active" else None,
        )
        for s in rows
    ]


@dataclass(frozen=True)
class PeoplePage:
    proxies: list[ProxyRow]
    orders: list[OrderedBy]
    standing: list[StandingRow]


def people_page(session: Session, resident_id: str, now: dt.datetime) -> PeoplePage:
    """Everything the console's page of one resident's people shows."""
    resident = session.get(Resident, resident_id)
    today = now.astimezone(timezone_of(session, resident)).date() if resident else now.date()
    return PeoplePage(
        proxies_of(session, resident_id),
        ordered_by(session, resident_id),
        standing_of(session, resident_id, today),
    )


@dataclass(frozen=True)
class ClosureRow:
    id: str
    hub_id: str
    hub_name: str
    day: dt.date
    reason: str


def closures(
    session: Session, hub_ids: HubScope, now: dt.datetime
) -> tuple[list[tuple[str, str]], list[ClosureRow]]:
    """The hubs in scope (id, name) and their closures from today (local) on, soonest first."""
    today = now.astimezone(timezone_of_hubs(session, hub_ids)).date()
    query = scoped(select(Hub.id, Hub.name).where(Hub.kind == "hub").order_by(Hub.code), Hub.id, hub_ids)
    hubs = [(hub_id, name) for hub_id, name in session.execute(query)]
    rows = session.execute(
        scoped(
            select(HubClosure, Hub.name)
            .join(Hub, Hub.id == HubClosure.hub_id)
            .where(HubClosure.day >= today)
            .order_by(HubClosure.day, Hub.code),
            HubClosure.hub_id,
            hub_ids,
        )
    ).all()
    return hubs, [ClosureRow(c.id, c.hub_id, name, c.day, c.reason) for c, name in rows]


def standing_for(session: Session, resident_id: str, now: dt.datetime) -> list[StandingRow]:
    """The resident's standing orders that are not stopped (the residents' page)."""
    resident = session.get(Resident, resident_id)
    today = now.astimezone(timezone_of(session, resident)).date() if resident else now.date()
    return standing_of(session, resident_id, today)
