"""Other systems talking to Hakobu: integrations (a post office, a shop, the municipality's data
platform) with their API tokens, the webhook endpoints they registered, the order events recorded
for them and each event's delivery to each endpoint (the webhook outbox)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.lifecycle import DeliveryState
from dispatch.models.base import Base, IdMixin, JSONText, StateText, utcnow
from dispatch.models.orders import Order
from dispatch.models.region import Hub

integration_hub = Table(
    "integration_hub",
    Base.metadata,
    Column("integration_id", ForeignKey("integration.id", ondelete="CASCADE"), primary_key=True),
    Column("hub_id", ForeignKey("hub.id", ondelete="CASCADE"), primary_key=True),
)


class Integration(IdMixin, Base):
    """Another system allowed to use the API for the orders of its hubs."""

    __tablename__ = "integration"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    hubs: Mapped[list[Hub]] = relationship(secondary=integration_hub)


class ApiToken(IdMixin, Base):
    """A bearer token of an integration. Only a hash is stored; ``prefix`` names it in lists."""

    __tablename__ = "api_token"

    integration_id: Mapped[str] = mapped_column(ForeignKey("integration.id", ondelete="CASCADE"),
                                                index=True)
    secret_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()

    integration: Mapped[Integration] = relationship()


class WebhookEndpoint(IdMixin, Base):
    """Where an integration wants to hear of the events of its hubs. ``secret`` signs each body
    (HMAC-SHA256, Standard Webhooks); it must be readable to sign, so it is a server-side key."""

    __tablename__ = "webhook_endpoint"

    integration_id: Mapped[str] = mapped_column(ForeignKey("integration.id", ondelete="CASCADE"),
                                                index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # event types; [] = every type
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    integration: Mapped[Integration] = relationship()


class OrderEvent(IdMixin, Base):
    """Something that happened to an order (``order.created``, ``order.delivered``, ...), recorded in
    the transaction that did it. Its id is the event id receivers deduplicate by."""

    __tablename__ = "order_event"
    __table_args__ = (Index("ix_order_event_hub_id_recorded_at", "hub_id", "recorded_at"),)

    type: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONText)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # the service's clock
    #: The real time it was recorded: the order of the events feed (a simulated day's clock may
    #: lie in the past, and the feed's cursor must only move forward).
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship()


class WebhookDelivery(IdMixin, Base):
    """One event to one endpoint: queued with the event, sent by the outbox worker, retried with
    backoff. The (event, endpoint) key makes queueing it twice impossible."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("event_id", "endpoint_id"),
                      Index("ix_webhook_delivery_state_next_attempt_at", "state", "next_attempt_at"))

    event_id: Mapped[str] = mapped_column(ForeignKey("order_event.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
                                             index=True)
    state: Mapped[DeliveryState] = mapped_column(StateText(DeliveryState), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)  # HTTP status of the last answer
    error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    event: Mapped[OrderEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
