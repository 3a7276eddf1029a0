"""Integrations (other systems using the API), their bearer tokens and their webhook endpoints.

An admin creates an integration for some hubs, issues it tokens and registers the URLs it wants to
hear events on, in the console or with ``hakobu api``. A token is shown once and stored as its
SHA-256 (it carries 256 random bits, so a plain hash cannot be brute-forced; no pepper, so the
command line and the app agree without sharing the app's secret key). Revoking is immediate.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.models import ApiToken, Hub, Integration, WebhookEndpoint
from dispatch.services.webhook_events import EVENT_TYPES

TOKEN_PREFIX = "hkb_"
#: A token's last use is written at most this often (an API call is otherwise a pure read).
LAST_USED_EVERY = dt.timedelta(minutes=5)
MAX_NAME = 100


@dataclass(frozen=True)
class Caller:
    """An authenticated API request's integration: who it is and which hubs it may touch."""

    integration_id: str
    name: str
    token_id: str
    hub_ids: frozenset[str]


@dataclass(frozen=True)
class IssuedSecret:
    """A new token or endpoint secret: ``secret`` exists in clear only in this answer."""

    id: str
    secret: str


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _hubs(session: Session, hub_codes: Collection[str]) -> list[Hub]:
    wanted = sorted({c.strip() for c in hub_codes if c.strip()})
    if not wanted:
        raise DomainError("an integration needs at least one hub")
    hubs = list(session.scalars(select(Hub).where(Hub.code.in_(wanted))))
    missing = sorted(set(wanted) - {h.code for h in hubs})
    if missing:
        raise DomainError(f"unknown hub(s): {', '.join(missing)}")
    return hubs


def create_integration(db: Database, name: str, hub_codes: Collection[str], *, now: dt.datetime,
                       created_by: str | None = None) -> str:
    """A new integration for the hubs with ``hub_codes`` (every region's hub of that code); its id."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise DomainError(f"an integration needs a name of 1-{MAX_NAME} characters")
    try:
        with db.write() as session:
            integration = Integration(name=name, created_by=created_by, created_at=now,
                                      hubs=_hubs(session, hub_codes))
            session.add(integration)
            session.flush()
            return integration.id
    except IntegrityError:
        raise DomainError(f"an integration named {name!r} exists already") from None


def set_active(db: Database, integration_id: str, active: bool) -> None:
    """Switch an integration off (its tokens stop working, its webhooks stop) or on again."""
    with db.write() as session:
        integration = session.get(Integration, integration_id)
        if integration is None:
            raise NotFound(f"integration {integration_id} not found")
        integration.active = active


def find_integration(db: Database, name_or_id: str) -> str:
    """The id of the integration called (or with the id) ``name_or_id``."""
    with db.read() as session:
        found = session.scalars(select(Integration.id).where(
            (Integration.name == name_or_id) | (Integration.id == name_or_id))).first()
    if found is None:
        raise NotFound(f"integration {name_or_id!r} not found")
    return found


def issue_token(db: Database, integration_id: str, *, now: dt.datetime) -> IssuedSecret:
    """A new bearer token for the integration (``hkb_`` + 43 URL-safe characters)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        if session.get(Integration, integration_id) is None:
            raise NotFound(f"integration {integration_id} not found")
        token = ApiToken(integration_id=integration_id, secret_hash=token_hash(secret),
                         prefix=secret[:len(TOKEN_PREFIX) + 6], created_at=now)
        session.add(token)
        session.flush()
        return IssuedSecret(token.id, secret)


def revoke_token(db: Database, token_id: str, *, now: dt.datetime,
                 integration_id: str | None = None) -> bool:
    """Revoke a token at once; False when it was revoked before. ``integration_id`` limits it to
    that integration's tokens (the console page of one integration)."""
    with db.write() as session:
        token = session.get(ApiToken, token_id)
        if token is None or (integration_id is not None and token.integration_id != integration_id):
            raise NotFound(f"token {token_id} not found")
        if token.revoked_at is not None:
            return False
        token.revoked_at = now
        return True


def authenticate(db: Database, secret: str, *, now: dt.datetime) -> Caller | None:
    """The caller presenting ``secret``, or None (unknown, revoked, or integration switched off)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = token_hash(secret)
    with db.read() as session:
        token = session.scalars(select(ApiToken).where(ApiToken.secret_hash == digest)).first()
        if token is None or token.revoked_at is not None or not token.integration.active:
            return None
        caller = Caller(token.integration_id, token.integration.name, token.id,
                        frozenset(h.id for h in token.integration.hubs))
        stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY
    if stale:
        with db.write() as session:
            row = session.get(ApiToken, caller.token_id)
            if row is not None:
                row.last_used_at = now
    return caller


def _checked_url(url: str) -> str:
    """An endpoint URL: https, or http to this machine only (a receiver under test, a local relay)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise DomainError("a webhook URL must be an http(s) URL of at most 500 characters")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise DomainError("a webhook URL must use https (plain http only to localhost)")
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_endpoint(db: Database, integration_id: str, url: str, events: Sequence[str] = (), *,
                 now: dt.datetime) -> IssuedSecret:
    """Register a webhook URL for the integration (``events``: the types it wants; none = all).
    The answer holds the signing secret (Standard Webhooks ``whsec_`` form), shown once."""
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(f"unknown event type(s): {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with db.write() as session:
        if session.get(Integration, integration_id) is None:
            raise NotFound(f"integration {integration_id} not found")
        endpoint = WebhookEndpoint(integration_id=integration_id, url=_checked_url(url), secret=secret,
                                   events=sorted(set(events)), created_at=now)
        session.add(endpoint)
        session.flush()
        return IssuedSecret(endpoint.id, secret)


def remove_endpoint(db: Database, endpoint_id: str, *, integration_id: str | None = None) -> None:
    """Stop sending to an endpoint; its delivery log stays readable."""
    with db.write() as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or (integration_id is not None and endpoint.integration_id != integration_id):
            raise NotFound(f"webhook endpoint {endpoint_id} not found")
        endpoint.active = False
