"""Orders, their items, and the per-hub batches they are claimed into at a cutoff."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.lifecycle import BatchState, OrderState
from dispatch.models.base import Base, IdMixin, StateText, owned_rows, utcnow
from dispatch.models.region import Hub, Resident
from dispatch.phrases import english


class Batch(IdMixin, Base):
    """The orders of one hub closed at one cutoff; the (hub, cutoff) key makes closing idempotent."""

    __tablename__ = "batch"
    __table_args__ = (UniqueConstraint("hub_id", "cutoff_at"),)

    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"), index=True)
    cutoff_at: Mapped[dt.datetime] = mapped_column()
    state: Mapped[BatchState] = mapped_column(StateText(BatchState), default=BatchState.CLOSED)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it failed, for the console
    #: Why a person or a disruption asked to plan the batch again (the new version's note); None when
    #: no re-plan is pending. Set with the move back to ``closed``, cleared when the solve ends.
    replan_reason: Mapped[str | None] = mapped_column(Text, default=None)
    closed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    solved_at: Mapped[dt.datetime | None] = mapped_column()
    solve_seconds: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    hub: Mapped[Hub] = relationship()
    orders: Mapped[list[Order]] = relationship(back_populates="batch")

    @property
    def display_reason(self) -> str:
        """What the command line and the demo print beside the state: why it failed, else the
        re-plan asked for, in the words they always printed (``re-plan: <why>``)."""
        if self.reason or self.replan_reason is None:
            return english(self.reason)
        return f"re-plan: {english(self.replan_reason)}"


class Order(IdMixin, Base):
    __tablename__ = "order"
    __table_args__ = (UniqueConstraint("region_id", "number"),
                      UniqueConstraint("integration_id", "external_ref"))

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # short number residents quote by SMS ("取消 12")
    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"), index=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id"), index=True)
    state: Mapped[OrderState] = mapped_column(StateText(OrderState), index=True, default=OrderState.RECEIVED)
    channel: Mapped[str] = mapped_column(String(16))  # sms | web | proxy | phone | import | api
    #: The integration that placed it through the API, and its own reference (idempotency key).
    integration_id: Mapped[str | None] = mapped_column(ForeignKey("integration.id"))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    entered_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    proxy_id: Mapped[str | None] = mapped_column(ForeignKey("proxy.id"))
    origin_hub_id: Mapped[str | None] = mapped_column(ForeignKey("hub.id"))  # None = at the hub
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 1 urgent (medicine) .. 3 low
    window_start: Mapped[dt.datetime | None] = mapped_column()
    window_end: Mapped[dt.datetime | None] = mapped_column()
    weight_kg: Mapped[float] = mapped_column(Float, default=0.0)
    parcels: Mapped[int] = mapped_column(Integer, default=1)
    request_text: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batch.id"), index=True)
    force_ground: Mapped[bool] = mapped_column(default=False)
    #: The training its courier must have (one of ``TRAINING``: medicine, a welfare visit), or "".
    needs_training: Mapped[str] = mapped_column(String(16), default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="")  # cancel / failure reason
    # Continuity (dispatch.services.continuity): days carried over, the delivery day the resident
    # was last told, and why the order waits for an operator when it is parked.
    carried_over: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    told_day: Mapped[dt.date | None] = mapped_column(Date)
    parked_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_attempts: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident] = relationship()
    hub: Mapped[Hub] = relationship(foreign_keys=[hub_id])
    origin_hub: Mapped[Hub | None] = relationship(foreign_keys=[origin_hub_id])
    batch: Mapped[Batch | None] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = owned_rows("order", order_by="OrderItem.position")


class OrderItem(IdMixin, Base):
    __tablename__ = "order_item"

    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(String(16))
    weight_kg: Mapped[float] = mapped_column(Float)  # total for the line

    order: Mapped[Order] = relationship(back_populates="items")
