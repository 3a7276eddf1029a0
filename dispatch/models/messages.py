"""Every SMS in and out, and the outbox that sends the outgoing ones after commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, IdMixin, utcnow


class Message(IdMixin, Base):
    """An SMS. Inbound ones are unique per (transport, external id) so a webhook retry is a no-op;
    outbound ones carry a ``dedupe_key`` so a notification is never queued twice."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("transport", "external_id"),
        UniqueConstraint("dedupe_key"),
    )

    direction: Mapped[str] = mapped_column(String(8))  # in | out
    transport: Mapped[str] = mapped_column(String(24))  # twilio | android_gateway | simulator
    external_id: Mapped[str | None] = mapped_column(String(80))  # MessageSid, gateway id
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # the other party
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # received|queued|sending|sent|delivered|failed|dead
    kind: Mapped[str] = mapped_column(String(32), default="")  # parsed command or template key
    resident_id: Mapped[str | None] = mapped_column(ForeignKey("resident.id"), index=True)
    volunteer_id: Mapped[str | None] = mapped_column(ForeignKey("volunteer.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("order.id"))
    in_reply_to: Mapped[str | None] = mapped_column(ForeignKey("message.id"))
    review: Mapped[str] = mapped_column(String(16), default="none", index=True)  # none|pending|done
    review_reason: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
