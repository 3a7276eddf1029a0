"""``hakobu simulate``: a whole day on a simulated clock (see :mod:`dispatch.simulate`).

Here, above both ``dispatch`` and ``sms`` in the import graph, the simulator gets the real SMS
edge: inbound texts through :func:`sms.service.receive_sms` (as the webhooks call it) and the
outbox drained by :func:`sms.sender.send_due` on the simulator transport.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import sys
import tempfile
from pathlib import Path

import click

from dispatch.config import Settings, settings_from_env
from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.region.reader import RegionError
from dispatch.simulate import SimConfig, simulate


@dataclasses.dataclass
class RealSms:
    """The SMS layer as the simulator sees it (simulator transport: nothing leaves the machine)."""

    db: Database
    settings: Settings

    def receive(self, phone: str, body: str, at: dt.datetime) -> object:
        from sms.service import receive_sms

        return receive_sms(self.db, "simulator", None, phone, body, at, settings=self.settings)

    def send_due(self, now: dt.datetime) -> object:
        from sms.sender import send_due
        from sms.transports import SimulatorTransport

        return send_due(self.db, SimulatorTransport(), now=now, limit=10_000)


@click.command("simulate")
@click.option("--region", "region", type=click.Path(path_type=Path, exists=True, file_okay=False),
              required=True, help="Region folder (see docs/region-format.md).")
@click.option("--orders", type=click.IntRange(min=0), required=True, help="Order texts on each day.")
@click.option("--days", type=click.IntRange(min=1, max=31), default=1, show_default=True,
              help="Consecutive days to run (orders that miss their day are carried on).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder for summary.json and plan.geojson.")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0.1), default=None,
              help="Solver seconds per batch (default: HAKOBU_SOLVE_TIME_LIMIT_S).")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The simulated date (default: next Monday).")
@click.option("--standing", type=click.IntRange(min=0), default=0, show_default=True,
              help="Residents who set a weekly standing order by SMS on the first morning.")
@click.option("--database", "database_url", default=None,
              help="Keep the day in this database (default: a temporary SQLite file, removed after).")
def simulate_command(region: Path, orders: int, days: int, seed: int, out: Path,
                     time_limit: float | None, day: dt.datetime | None, standing: int,
                     database_url: str | None) -> None:
    """Run whole delivery days; exit 1 if an order is unaccounted for or stranded, a plan is
    invalid or the custody chain does not verify."""
    settings = settings_from_env()
    if not settings.secret_key and not database_url:
        # A day in a temporary database that is removed afterwards: its links and codes need a
        # key only for the run (a kept database, --database-url, must bring the deployment's key).
        settings = settings.with_overrides({"secret_key": secrets.token_hex(32)})
    config = SimConfig(region=region, orders=orders, seed=seed, day=day.date() if day else None, days=days,
                       standing=standing,
                       time_limit_s=time_limit if time_limit is not None else settings.solve_time_limit_s)
    with tempfile.TemporaryDirectory(prefix="hakobu-sim-") as tmp:
        db = Database(database_url or f"sqlite:///{Path(tmp) / 'day.sqlite'}")
        try:
            summary = simulate(db, config, RealSms(db, settings), settings, out)
        except RegionError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"simulate: {len(error.problems)} problem(s) in {region}; nothing simulated", err=True)
            sys.exit(2)
        except DomainError as error:
            click.echo(f"simulate: {error}", err=True)
            sys.exit(2)
        finally:
            db.dispose()
    o = summary["orders"]
    click.echo(f"{o['total']} orders: {o['delivered']} delivered, {o['unserved']} unserved, "
               f"{o['cancelled']} cancelled, {o['returned']} returned "
               f"({summary['failed_attempts']} failed attempts); {summary['drone_sorties']} drone sorties; "
               f"{len(summary['batches'])} batches; audit {'ok' if summary['audit']['ok'] else 'BROKEN'}")
    for account in summary["days"] if days > 1 else []:
        click.echo(f"  {account['date']}: {account['orders']} orders, {account['delivered']} delivered, "
                   f"{account['cancelled']} cancelled, {account['parked']} parked, "
                   f"{account['carried_over']} carried over, {account['stranded']} stranded")
    total = summary["total"]
    click.echo(f"in total: {total['delivered']} of {total['wanted_within_run']} orders wanted within the run "
               f"delivered ({total['delivered_share']:.1%}); {total['parked']} parked, "
               f"{total['carried_over']} carried over, {total['stranded']} stranded")
    held = summary.get("standing", {"ok": True})
    if standing:
        click.echo(f"standing orders: {held['due']} due, {held['delivered_once']} delivered once, "
                   f"{held['skipped']} skipped, {held['closed']} hub closed, {held['forgotten']} forgotten, "
                   f"{held['delivered_twice']} delivered twice, {held['not_delivered']} not delivered")
    click.echo(f"wrote {out / 'summary.json'} and {out / 'plan.geojson'} in {summary['wall_seconds']} s")
    if not (summary["accounted"] and summary["all_plans_valid"] and summary["audit"]["ok"]
            and total["stranded"] == 0 and held["ok"]):
        click.echo("simulate: the day does not add up (see summary.json)", err=True)
        sys.exit(1)


commands = [simulate_command]
