"""Operator alerts (welfare notes, a PIN locked by wrong tries, a failed delivery): the open ones,
as the handoff board lists them. Written by :mod:`dispatch.services.delivery`, acknowledged with
:func:`dispatch.services.delivery.acknowledge_alert`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import OperatorAlert, Order, Resident, Volunteer
from dispatch.read import HubScope, scoped


@dataclass(frozen=True)
class AlertRow:
    """An open alert as the console lists it (``text`` may be personal: show, never log)."""

    id: str
    hub_id: str
    kind: str
    order_id: str | None
    order_number: int | None
    resident_id: str | None
    resident_code: str | None
    volunteer_id: str | None
    text: str
    created_at: dt.datetime
    resident_name: str = ""  # whom the operator calls about it (and the courier who raised it)
    resident_phone: str = ""
    volunteer: str = ""  # the courier's code and name
    volunteer_phone: str = ""


def open_alerts(session: Session, hub_ids: HubScope = None, limit: int = 200) -> list[AlertRow]:
    """Unacknowledged alerts, newest first (of ``hub_ids`` only, unless None = every hub)."""
    query = scoped(select(OperatorAlert, Order.number, Resident, Volunteer)
                   .outerjoin(Order, Order.id == OperatorAlert.order_id)
                   .outerjoin(Resident, Resident.id == OperatorAlert.resident_id)
                   .outerjoin(Volunteer, Volunteer.id == OperatorAlert.volunteer_id)
                   .where(OperatorAlert.acknowledged_at.is_(None))
                   .order_by(OperatorAlert.created_at.desc()).limit(limit), OperatorAlert.hub_id, hub_ids)
    return [AlertRow(a.id, a.hub_id, a.kind, a.order_id, number, a.resident_id, r.code if r else None,
                     a.volunteer_id, a.text, a.created_at,
                     resident_name=r.name if r else "", resident_phone=r.phone if r else "",
                     volunteer=f"{v.code} {v.name}" if v else "", volunteer_phone=v.phone if v else "")
            for a, number, r, v in session.execute(query)]
