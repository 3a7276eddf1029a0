"""The admins' integration pages: integrations with their hubs, tokens and webhook endpoints, and
the webhook delivery log. Token and endpoint secrets never appear here (a token's prefix names it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from dispatch.lifecycle import DeliveryState
from dispatch.models import (
    ApiToken,
    Hub,
    Integration,
    Order,
    OrderEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


@dataclass(frozen=True)
class IntegrationRow:
    id: str
    name: str
    active: bool
    hubs: tuple[str, ...]  # hub names
    tokens: int  # not revoked
    endpoints: int  # active
    dead: int  # deliveries that gave up


def _counts(session: Session, stmt: Select[tuple[str, int]]) -> dict[str, int]:
    return {key: count for key, count in session.execute(stmt)}


def integration_rows(session: Session) -> list[IntegrationRow]:
    integrations = session.scalars(select(Integration).options(selectinload(Integration.hubs))
                                   .order_by(Integration.name)).all()
    tokens = _counts(session, select(ApiToken.integration_id, func.count())
                     .where(ApiToken.revoked_at.is_(None)).group_by(ApiToken.integration_id))
    endpoints = _counts(session, select(WebhookEndpoint.integration_id, func.count())
                        .where(WebhookEndpoint.active.is_(True)).group_by(WebhookEndpoint.integration_id))
    dead = _counts(session, select(WebhookEndpoint.integration_id, func.count())
                   .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
                   .where(WebhookDelivery.state == DeliveryState.DEAD.value)
                   .group_by(WebhookEndpoint.integration_id))
    return [IntegrationRow(i.id, i.name, i.active, tuple(sorted(h.name for h in i.hubs)),
                           tokens.get(i.id, 0), endpoints.get(i.id, 0), dead.get(i.id, 0))
            for i in integrations]


@dataclass(frozen=True)
class HubChoice:
    code: str
    name: str


def hub_choices(session: Session) -> list[HubChoice]:
    """Every hub code once (an integration is given hubs by code), with a name to show."""
    rows = session.execute(select(Hub.code, func.min(Hub.name)).group_by(Hub.code).order_by(Hub.code))
    return [HubChoice(code, name) for code, name in rows]


@dataclass(frozen=True)
class TokenRow:
    id: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class EndpointRow:
    id: str
    url: str
    events: tuple[str, ...]  # empty: every event type
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class IntegrationDetail:
    id: str
    name: str
    active: bool
    hubs: tuple[str, ...]
    tokens: tuple[TokenRow, ...]
    endpoints: tuple[EndpointRow, ...]


def integration_detail(session: Session, integration_id: str) -> IntegrationDetail | None:
    integration = session.get(Integration, integration_id)
    if integration is None:
        return None
    tokens = session.scalars(select(ApiToken).where(ApiToken.integration_id == integration_id)
                             .order_by(ApiToken.created_at.desc()))
    endpoints = session.scalars(select(WebhookEndpoint)
                                .where(WebhookEndpoint.integration_id == integration_id)
                                .order_by(WebhookEndpoint.created_at.desc()))
    return IntegrationDetail(
        integration.id, integration.name, integration.active,
        tuple(sorted(h.name for h in integration.hubs)),
        tuple(TokenRow(t.id, t.prefix, t.created_at, t.last_used_at, t.revoked_at) for t in tokens),
        tuple(EndpointRow(e.id, e.url, tuple(e.events or ()), e.active, e.created_at) for e in endpoints))


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    event_id: str
    event_type: str
    order_number: int | None
    occurred_at: dt.datetime
    url: str
    state: str
    attempts: int
    last_status: int | None
    error: str
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None


def delivery_log(session: Session, integration_id: str, state: str | None = None,
                 limit: int = 200) -> list[DeliveryRow]:
    """The integration's webhook deliveries, newest event first (``state``: only those)."""
    stmt = (select(WebhookDelivery, OrderEvent, WebhookEndpoint.url, Order.number)
            .join(OrderEvent, OrderEvent.id == WebhookDelivery.event_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .outerjoin(Order, Order.id == OrderEvent.order_id)
            .where(WebhookEndpoint.integration_id == integration_id)
            .order_by(OrderEvent.occurred_at.desc(), WebhookDelivery.id).limit(limit))
    if state is not None:
        stmt = stmt.where(WebhookDelivery.state == state)
    return [DeliveryRow(d.id, e.id, e.type, number, e.occurred_at, url, str(d.state), d.attempts,
                        d.last_status, d.error, d.next_attempt_at, d.delivered_at)
            for d, e, url, number in session.execute(stmt)]
