"""Search and filters of the order queue, the handoff board and the plans list (issue 16, item 6).

One :class:`Search` (what the operator typed and picked) and one rule for whether an order matches
it, so the three lists find the same orders: the text is an order number (``12`` or ``#12``), a
phone number (any 3+ digits of it, written ``090-…``, ``+8190…`` or with spaces), or part of a
resident's name or code (spaces ignored: ``田中花子`` finds ``田中 花子``); the state, the hub and
the route (the courier's or the drone's id) must be equal when given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Drone, Hub, Order, Resident, Route, Stop, Volunteer
from dispatch.read import HubScope, scoped

_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Search:
    text: str = ""
    state: str = ""
    hub_id: str = ""
    carrier_id: str = ""  # a volunteer id or a drone id: the route

    @property
    def active(self) -> bool:
        return bool(self.text.strip() or self.state or self.hub_id or self.carrier_id)


def _national(digits: str) -> str:
    """``81901234…`` (E.164 without +) as dialled in Japan, ``0901234…``."""
    return "0" + digits[2:] if digits.startswith("81") else digits


def text_matches(text: str, *, number: int | None, name: str, code: str, phone: str) -> bool:
    """Whether the typed ``text`` names this order or resident (see the module's docstring)."""
    wanted = text.strip().lstrip("#＃").strip()
    if not wanted:
        return True
    digits = _DIGITS.sub("", wanted)
    if digits and digits == _SPACES.sub("", wanted).replace("-", "").replace("+", ""):
        if number is not None and digits == str(number):
            return True
        own = _DIGITS.sub("", phone)
        return len(digits) >= 3 and (digits in own or _national(digits) in _national(own))
    squeezed = _SPACES.sub("", wanted).casefold()
    return squeezed in _SPACES.sub("", name).casefold() or squeezed in code.casefold()


def matches(search: Search, *, number: int | None, name: str, code: str, phone: str, state: str,
            hub_id: str, carrier_id: str) -> bool:
    """Whether an order (or a parcel of the board) is one the operator is looking for."""
    return ((not search.state or search.state == state) and (not search.hub_id or search.hub_id == hub_id)
            and (not search.carrier_id or search.carrier_id == carrier_id)
            and text_matches(search.text, number=number, name=name, code=code, phone=phone))


@dataclass(frozen=True)
class FilterOptions:
    """What the filter form offers: the user's hubs and the routes' couriers and drones."""

    hubs: tuple[tuple[str, str], ...]  # (hub id, name)
    carriers: tuple[tuple[str, str], ...]  # (volunteer or drone id, code and name / ✈ code)


def filter_options(session: Session, hub_ids: HubScope) -> FilterOptions:
    hubs = tuple((h.id, h.name) for h in session.scalars(
        scoped(select(Hub).where(Hub.kind == "hub").order_by(Hub.code), Hub.id, hub_ids)))
    couriers = [(v.id, f"{v.code} {v.name}") for v in session.scalars(
        scoped(select(Volunteer).order_by(Volunteer.code), Volunteer.hub_id, hub_ids))]
    drones = [(d.id, f"✈ {d.code}") for d in session.scalars(
        scoped(select(Drone).order_by(Drone.code), Drone.hub_id, hub_ids))]
    return FilterOptions(hubs=hubs, carriers=tuple(couriers + drones))


def plans_matching(session: Session, plan_ids: Iterable[str], search: Search) -> set[str]:
    """The plans among ``plan_ids`` with an order the search finds on one of their routes (the
    text, the order state and the route; the hub is a column of the plans list itself)."""
    ids = list(plan_ids)
    if not ids:
        return set()
    found = set()
    rows = session.execute(
        select(Route.plan_id, Route.volunteer_id, Route.drone_id, Order.number, Order.state, Order.hub_id,
               Resident.name, Resident.code, Resident.phone)
        .join(Stop, Stop.route_id == Route.id).join(Order, Order.id == Stop.order_id)
        .join(Resident, Resident.id == Order.resident_id)
        .where(Route.plan_id.in_(ids), Stop.kind == "delivery"))
    for r in rows:
        if r.plan_id not in found and matches(
                Search(search.text, search.state, "", search.carrier_id), number=r.number, name=r.name,
                code=r.code, phone=r.phone, state=r.state, hub_id=r.hub_id,
                carrier_id=r.volunteer_id or r.drone_id or ""):
            found.add(r.plan_id)
    return found
