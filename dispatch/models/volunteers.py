"""What volunteers tell us about themselves and what we ask of them: the availability they text
(issue 15, item 3) and the call-outs that ask an available volunteer to join a batch's plan."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, IdMixin, utcnow
from dispatch.models.region import Volunteer


class Availability(IdMixin, Base):
    """A volunteer's declared availability for one local day: a time range, or ``off``.

    One row per (volunteer, day): a later text for the same day replaces the earlier one (the
    volunteer changed their mind), so the console and the call-out read one answer per day.
    ``start``/``end`` are local clock times of the region; both None with ``off`` False means the
    whole day.
    """

    __tablename__ = "availability"
    __table_args__ = (UniqueConstraint("volunteer_id", "day"),)

    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    start: Mapped[dt.time | None] = mapped_column(Time)
    end: Mapped[dt.time | None] = mapped_column(Time)
    off: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("message.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    volunteer: Mapped[Volunteer] = relationship()


#: States of a call-out: texted and waiting, then one of the answers (``expired`` = no answer in
#: time, ``withdrawn`` = the batch no longer needs the volunteer).
CALLOUT_STATES = ("sent", "accepted", "declined", "expired", "withdrawn")


class CallOut(IdMixin, Base):
    """One volunteer asked by SMS to join one batch's plan, answered by reply or signed link."""

    __tablename__ = "callout"
    __table_args__ = (UniqueConstraint("batch_id", "volunteer_id"),)

    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteer.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="sent", index=True)  # CALLOUT_STATES
    #: The shift offered: the volunteer's declared range on the delivery day (aware, UTC).
    shift_start: Mapped[dt.datetime] = mapped_column()
    shift_end: Mapped[dt.datetime] = mapped_column()
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column()

    volunteer: Mapped[Volunteer] = relationship()
