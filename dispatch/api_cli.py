"""``hakobu api``: integrations, their tokens and their webhook endpoints, from the command line
(the same services as the admins' console pages, :mod:`dispatch.services.integrations`).

A token or signing secret is printed once, on standard output, and never again.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from dispatch.cli import database_option, fail, open_db
from dispatch.errors import DomainError
from dispatch.models import ApiToken, Integration, utcnow
from dispatch.services import integrations
from dispatch.services.webhook_events import EVENT_TYPES


@click.group("api")
def api() -> None:
    """The API for other systems: integrations, tokens, webhook endpoints (docs/api.md)."""


@api.group("integration")
def integration_group() -> None:
    """Integrations: other systems, each scoped to some hubs."""


@integration_group.command("create")
@click.argument("name")
@click.option("--hub", "hubs", multiple=True, required=True, help="Hub code (repeat for several).")
@database_option
def integration_create(name: str, hubs: tuple[str, ...], database_url: str | None) -> None:
    """Create the integration NAME for the given hubs."""
    try:
        integration_id = integrations.create_integration(open_db(database_url), name, hubs, now=utcnow())
    except DomainError as error:
        fail(str(error))
    click.echo(f"integration {name} created (id {integration_id})")


@integration_group.command("list")
@database_option
def integration_list(database_url: str | None) -> None:
    """Every integration with its hubs and whether it is on."""
    with open_db(database_url).read() as session:
        for integration in session.scalars(select(Integration).order_by(Integration.name)):
            hubs = ",".join(sorted(h.code for h in integration.hubs))
            state = "on" if integration.active else "off"
            click.echo(f"{integration.id}  {integration.name}  hubs={hubs}  {state}")


@api.group("token")
def token_group() -> None:
    """Bearer tokens of an integration (stored hashed; shown once)."""


@token_group.command("create")
@click.argument("integration")
@database_option
def token_create(integration: str, database_url: str | None) -> None:
    """Issue a token for INTEGRATION (its name or id) and print it, once."""
    db = open_db(database_url)
    try:
        issued = integrations.issue_token(db, integrations.find_integration(db, integration), now=utcnow())
    except DomainError as error:
        fail(str(error))
    click.echo(f"token id {issued.id} (keep the token below; it is not shown again):", err=True)
    click.echo(issued.secret)


@token_group.command("revoke")
@click.argument("token_id")
@database_option
def token_revoke(token_id: str, database_url: str | None) -> None:
    """Revoke the token TOKEN_ID at once."""
    try:
        done = integrations.revoke_token(open_db(database_url), token_id, now=utcnow())
    except DomainError as error:
        fail(str(error))
    click.echo(f"token {token_id} revoked" if done else f"token {token_id} was revoked before")


@token_group.command("list")
@click.argument("integration")
@database_option
def token_list(integration: str, database_url: str | None) -> None:
    """The tokens of INTEGRATION: id, prefix, created, last used, revoked."""
    db = open_db(database_url)
    try:
        integration_id = integrations.find_integration(db, integration)
    except DomainError as error:
        fail(str(error))
    with db.read() as session:
        for token in session.scalars(select(ApiToken).where(ApiToken.integration_id == integration_id)
                                     .order_by(ApiToken.created_at)):
            revoked = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "active"
            used = token.last_used_at.isoformat() if token.last_used_at else "never"
            click.echo(f"{token.id}  {token.prefix}…  created {token.created_at.isoformat()}  "
                       f"last used {used}  {revoked}")


@api.group("endpoint")
def endpoint_group() -> None:
    """Webhook endpoints of an integration."""


@endpoint_group.command("add")
@click.argument("integration")
@click.argument("url")
@click.option("--event", "events", multiple=True, type=click.Choice(EVENT_TYPES),
              help="Event type to send (repeat; none: every type).")
@database_option
def endpoint_add(integration: str, url: str, events: tuple[str, ...], database_url: str | None) -> None:
    """Send INTEGRATION's events to URL; prints the signing secret, once."""
    db = open_db(database_url)
    try:
        issued = integrations.add_endpoint(db, integrations.find_integration(db, integration), url, events,
                                           now=utcnow())
    except DomainError as error:
        fail(str(error))
    click.echo(f"endpoint id {issued.id}; signing secret (not shown again):", err=True)
    click.echo(issued.secret)


commands = [api]
