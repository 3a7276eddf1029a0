"""Standing orders (a resident's weekly rice or medicine), their occurrences, and hub closures.

An occurrence row is written once per standing order and delivery day, in the same transaction
as the order it places (or the closure that skips it): the unique (standing order, day) key is
what makes each occurrence happen exactly once, whichever process or retry gets there first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, IdMixin, JSONText, utcnow
from dispatch.models.region import Hub, Resident

#: A standing order's states: ``paused`` skips occurrences until resumed, ``stopped`` is final.
STANDING_STATES = ("active", "paused", "stopped")
#: What became of one occurrence: an order was placed, or the hub was closed that day.
OCCURRENCE_OUTCOMES = ("placed", "closed")


class StandingOrder(IdMixin, Base):
    """The same items every ``every_weeks`` weeks on ``weekday``, from ``first_day`` on."""

    __tablename__ = "standing_order"

    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    items: Mapped[list[Any]] = mapped_column(JSONText)  # [[name, quantity, unit|None], ...]
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday .. 6 Sunday
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    first_day: Mapped[dt.date] = mapped_column(Date)  # the first occurrence, on ``weekday``
    part: Mapped[str] = mapped_column(String(16), default="any")  # morning | afternoon | evening | any
    state: Mapped[str] = mapped_column(String(16), default="active")  # one of STANDING_STATES
    channel: Mapped[str] = mapped_column(String(16))  # how it was set: sms | web | proxy | phone
    proxy_id: Mapped[str | None] = mapped_column(ForeignKey("proxy.id"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))  # the operator who set it
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship()


class StandingOccurrence(IdMixin, Base):
    __tablename__ = "standing_occurrence"
    __table_args__ = (UniqueConstraint("standing_order_id", "day"),)

    standing_order_id: Mapped[str] = mapped_column(
        ForeignKey("standing_order.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[dt.date] = mapped_column(Date)  # the delivery day, local
    outcome: Mapped[str] = mapped_column(String(16))  # one of OCCURRENCE_OUTCOMES
    order_id: Mapped[str | None] = mapped_column(ForeignKey("order.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class HubClosure(IdMixin, Base):
    """A day a hub delivers nothing (a holiday, the hub closed): standing orders skip it, with notice."""

    __tablename__ = "hub_closure"
    __table_args__ = (UniqueConstraint("hub_id", "day"),)

    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    hub: Mapped[Hub] = relationship()
