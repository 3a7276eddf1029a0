"""Every SMS in and out, and the outbox that sends the outgoing ones after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.lifecycle import MessageStatus
from dispatch.models.base import Base, IdMixin, JSONText, StateText, utcnow


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
    body: Mapped[str] = mapped_column(Text, default="")  # outbound: rendered when sent
    template: Mapped[str] = mapped_column(String(40), default="")  # outbound reply/notification key
    params: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    status: Mapped[MessageStatus] = mapped_column(StateText(MessageStatus))
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


class OptOut(Base):
    """A phone number that texted STOP: nothing is ever sent to it until it texts START."""

    __tablename__ = "opt_out"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
