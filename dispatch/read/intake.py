"""The intake tools: phone-proxy order entry (finding a resident), the SMS review queue and the SMS
simulator's residents and conversations. Staff-only data: names and phones are shown, never logged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.models import Hub, Message, Resident
from dispatch.read import HubScope, scoped
from dispatch.services.outbox import message_timezone


@dataclass(frozen=True)
class ResidentBrief:
    id: str
    code: str
    name: str
    phone: str
    hub_id: str
    hub_name: str
    notes: str
    language: str


def _brief(resident: Resident, hub: Hub) -> ResidentBrief:
    return ResidentBrief(resident.id, resident.code, resident.name, resident.phone, hub.id, hub.name,
                         resident.notes, resident.language)


def find_residents(session: Session, query: str, hub_ids: HubScope,
                   limit: int = 30) -> list[ResidentBrief]:
    """Residents whose name, phone or code contains ``query`` (phone digits match loosely)."""
    digits = "".join(ch for ch in query if ch.isdigit())
    like = f"%{query}%"
    conditions = [Resident.name.ilike(like), Resident.code.ilike(like)]
    if len(digits) >= 4:
        conditions.append(Resident.phone.like(f"%{digits.lstrip('0')}%"))
    stmt = (select(Resident, Hub).join(Hub, Resident.hub_id == Hub.id)
            .where(Resident.active, or_(*conditions)).order_by(Resident.code).limit(limit))
    stmt = scoped(stmt, Resident.hub_id, hub_ids)
    return [_brief(r, h) for r, h in session.execute(stmt)]


def resident_brief(session: Session, resident_id: str) -> ResidentBrief | None:
    row = session.execute(select(Resident, Hub).join(Hub, Resident.hub_id == Hub.id)
                          .where(Resident.id == resident_id)).first()
    return _brief(*row) if row else None


@dataclass(frozen=True)
class ReviewItem:
    id: str
    phone: str
    body: str
    reason: str
    received_at: dt.datetime
    resident_code: str | None
    resident_id: str | None = None
    resident_name: str = ""


def review_queue(session: Session, hub_ids: HubScope) -> list[ReviewItem]:
    """Inbound texts waiting for an operator, oldest first. Unknown numbers are shown to every
    operator (nobody knows their hub yet); known residents' only to their hub's operators."""
    stmt = (select(Message, Resident).outerjoin(Resident, Message.resident_id == Resident.id)
            .where(Message.direction == "in", Message.review == "pending")
            .order_by(Message.created_at))
    return [
        ReviewItem(m.id, m.phone, m.body, m.review_reason, m.created_at, r.code if r else None,
                   r.id if r else None, r.name if r else "")
        for m, r in session.execute(stmt)
        if hub_ids is None or r is None or r.hub_id in hub_ids
    ]


def simulator_residents(session: Session, hub_ids: HubScope, limit: int = 200) -> list[ResidentBrief]:
    stmt = (select(Resident, Hub).join(Hub, Resident.hub_id == Hub.id).where(Resident.active)
            .order_by(Resident.code).limit(limit))
    stmt = scoped(stmt, Resident.hub_id, hub_ids)
    return [_brief(r, h) for r, h in session.execute(stmt)]


@dataclass(frozen=True)
class ThreadMessage:
    direction: str
    body: str
    template: str
    params: dict[str, Any]
    language: str
    status: str
    at: dt.datetime
    timezone: str  # the recipient's region's, for rendering a templated text's clock times

def conversation(session: Session, phone: str, limit: int = 40) -> list[ThreadMessage]:
    """The latest messages to and from ``phone``, oldest first."""
    rows = list(session.scalars(select(Message).where(Message.phone == phone)
                                .order_by(Message.created_at.desc(), Message.direction.desc()).limit(limit)))
    return [ThreadMessage(m.direction, m.body, m.template, dict(m.params or {}), m.language, m.status,
                          m.created_at, "UTC" if m.body else message_timezone(session, m))
            for m in reversed(rows)]
