"""What couriers send from the road: their deduplicated actions, and the alerts that reach the
hub's operators at once (welfare notes, a locked delivery PIN, a failed delivery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, IdMixin, JSONText, utcnow


class CourierAction(Base):
    """One action a courier's phone sent, keyed by the id the phone generated for it.

    The primary key on ``action_id`` is what makes a repeated action (an offline queue replayed,
    a double tap, a retry after a lost response) a no-op: the second insert fails in the database
    itself, even when both arrive at the same moment, and the first ``outcome`` is returned.
    """

    __tablename__ = "courier_action"

    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # pick_up|deliver|handover|fail|return|welfare
    order_id: Mapped[str | None] = mapped_column(ForeignKey("order.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)


class OperatorAlert(IdMixin, Base):
    """Something an operator of the hub must see now. ``text`` may hold personal or health
    information (a welfare note): it is shown in the console, never logged or exported."""

    __tablename__ = "operator_alert"

    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # welfare | pin_locked | delivery_failed
    order_id: Mapped[str | None] = mapped_column(ForeignKey("order.id"))
    resident_id: Mapped[str | None] = mapped_column(ForeignKey("resident.id"))
    volunteer_id: Mapped[str | None] = mapped_column(ForeignKey("volunteer.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
