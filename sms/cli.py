"""``hakobu sms``: the outbox sender as its own process.

The web process sends queued SMS from a background thread by default (``HAKOBU_OUTBOX_WORKER``).
A deployment with several web processes, or one that wants sending isolated from the console, turns
that off and runs ``hakobu sms worker`` once: a claimed message is sent by exactly one worker
(``outbox.claim_due``), so even two workers never send a message twice.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click

from dispatch.cli import database_option, open_db
from dispatch.config import settings_from_env
from dispatch.errors import ConfigError


@click.group("sms")
def sms_group() -> None:
    """Outbound SMS: the outbox sender, and what it could not send."""


@sms_group.command("worker")
@click.option("--interval", type=click.FloatRange(min=0.5), default=10.0, show_default=True,
              help="Seconds between rounds (retries fall due between them).")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@database_option
def worker(interval: float, once: bool, database_url: str | None) -> None:
    """Send queued SMS through the configured transport (HAKOBU_SMS_TRANSPORT) and queued webhook
    deliveries until stopped."""
    from dispatch.services import webhooks
    from sms.sender import OutboxWorker, send_due
    from sms.transports import PermanentSendError, build_transport

    try:
        settings = settings_from_env()
        transport = build_transport(settings)
    except (ConfigError, PermanentSendError) as error:
        click.echo(f"sms worker: {error}", err=True)
        sys.exit(2)
    db = open_db(database_url)
    if once:
        stats = send_due(db, transport, limit=10_000)
        click.echo(f"sent {stats.sent}, retry later {stats.retried}, dead-lettered {stats.dead}")
        hooks = webhooks.deliver_due(db, limit=10_000)
        click.echo(f"webhooks delivered {hooks.delivered}, retry later {hooks.retried}, dead {hooks.dead}")
        return
    thread = OutboxWorker(db, transport, interval_s=interval)

    def stop(signum: int, frame: FrameType | None) -> None:
        thread.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"sms worker: sending through {transport.name} every {interval:g} s (Ctrl-C stops)")
    thread.start()
    thread.wake()
    while thread.is_alive():
        thread.join(0.5)


@sms_group.command("problems")
@click.option("--hours", type=click.IntRange(min=1), default=24, show_default=True,
              help="How far back to list dead letters.")
@database_option
def problems(hours: int, database_url: str | None) -> None:
    """List what the outbox cannot resolve by itself: dead letters (with the reason) and messages
    stuck in 'sending' (a sender stopped before recording the provider's answer; check with the
    provider before sending again). Ids and reasons only, no phone numbers."""
    import datetime as dt

    from dispatch.services.outbox import needing_attention

    found = needing_attention(open_db(database_url), dt.datetime.now(dt.UTC), dt.timedelta(hours=hours))
    if not found:
        click.echo("nothing needs attention")
        return
    for item in found:
        click.echo(f"{item.updated_at:%Y-%m-%d %H:%M} UTC  {item.status:8} {item.template:22} "
                   f"message {item.id}  order {item.order_id or '-'}  attempts {item.attempts}  "
                   f"{item.error or '(no error recorded)'}")
    click.echo(f"{len(found)} message(s) need attention")


commands = [sms_group]
