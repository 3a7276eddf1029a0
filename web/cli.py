"""The ``hakobu`` command: one click group gathering the commands of every package.

It lives in ``web`` because ``web`` is the top of the import graph: it may import dispatch and
routing, which must not import it.
"""

from __future__ import annotations

import gc
import os
import secrets
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

import click

from dispatch import api_cli, audit_cli, backup_cli, scheduler_cli, sorties_cli, weather_cli
from dispatch import cli as dispatch_cli
from routing import bench
from routing import cli as routing_cli
from sms import cli as sms_cli
from web import simulate_cli
from web.studies import cli as studies_cli

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REGION = REPO / "sample_regions" / "tajima"


@click.group()
@click.version_option(package_name="hakobu")
def main() -> None:
    """Hakobu: community delivery with SMS ordering, couriers and drones."""


for command in [*dispatch_cli.commands, *audit_cli.commands, *backup_cli.commands, *api_cli.commands,
                *scheduler_cli.commands,
                *bench.commands, *routing_cli.commands, *studies_cli.commands,
                *simulate_cli.commands, *sms_cli.commands, *sorties_cli.commands,
                *weather_cli.commands]:
    main.add_command(command)
for command in studies_cli.export_commands:
    dispatch_cli.export_group.add_command(command)


@main.command("init")
@dispatch_cli.database_option
def init(database_url: str | None) -> None:
    """Create the instance folder and the database schema."""
    from dispatch.schema import current_revision, upgrade

    db = dispatch_cli.open_db(database_url)
    upgrade(db)
    click.echo(f"database ready at {db.url} (revision {current_revision(db)})")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the console with waitress (a production WSGI server)."""
    from waitress import serve as waitress_serve

    from dispatch.config import settings_from_env
    from web import create_app

    if not settings_from_env().secret_key:
        raise click.UsageError("HAKOBU_SECRET_KEY is not set: `hakobu serve` needs the deployment's one "
                               "secret key (every signed cookie, link and code is derived from it); "
                               "e.g. export HAKOBU_SECRET_KEY=$(python -c 'import secrets; "
                               "print(secrets.token_hex(32))')")
    app = create_app()
    gc.freeze()  # start-up objects (folium, pandas) need no collecting: big pages stop paying for it
    click.echo(f"Hakobu console on http://{host}:{port}/")
    waitress_serve(app, host=host, port=port, threads=threads)


@main.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option("--region", "region_path", type=click.Path(path_type=Path), default=DEFAULT_REGION,
              show_default=True)
@click.option("--solve-seconds", default=3.0, show_default=True, type=click.FloatRange(0.5, 120),
              help="Solver time per hub for the demo day's plans.")
@click.option("--simulated-orders", default=30, show_default=True, type=click.IntRange(0, 500),
              help="Orders of the simulated past day for planners (0: no simulated day).")
@dispatch_cli.database_option
def demo(port: int, host: str, no_browser: bool, region_path: Path, solve_seconds: float,
         simulated_orders: int, database_url: str | None) -> None:
    """Set up the demo: schema, the sample region, demo accounts, yesterday as a simulated day (for
    planners), a demo day with its orders closed into batches and planned (proposed plans to
    review); then serve. Restarting adds nothing."""
    from waitress import serve as waitress_serve

    from dispatch.config import settings_from_env
    from dispatch.demo import seed_demo, seed_demo_day, seed_demo_plans, seed_simulated_day
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region
    from dispatch.schema import upgrade
    from dispatch.simulate import simulated_days
    from web import create_app

    url = database_url or os.environ.get("HAKOBU_DATABASE_URL") or "sqlite:///instance/demo.sqlite"
    os.environ["HAKOBU_DATABASE_URL"] = url
    # The demo's one secret key, kept in the instance folder: sessions and links survive a restart.
    os.environ.setdefault("HAKOBU_SECRET_KEY", kept_secret_key(REPO / "instance"))
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    # Courier links in the SMS must open this server (set HAKOBU_PUBLIC_URL for phones on a network).
    os.environ.setdefault("HAKOBU_PUBLIC_URL", base.rstrip("/"))
    db = dispatch_cli.open_db(url)
    upgrade(db)
    report = load_region(db, read_region(region_path))
    click.echo(f"region {report.region_code} loaded: " + "; ".join(report.lines()))
    password = os.environ.get("HAKOBU_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    summary = seed_demo(db, report.region_code, password)
    # First the past day (its residents' bare 取消 must not find today's orders; dispatch/demo.py).
    settings = settings_from_env()
    sms = simulate_cli.RealSms(db, settings)  # inbound texts as the webhooks hand them to the SMS service
    summary += seed_simulated_day(db, report.region_code, region_path, sms, settings,
                                  orders=simulated_orders, echo=click.echo)
    summary += seed_demo_day(db, report.region_code, sms.receive)
    summary += seed_demo_plans(db, report.region_code, time_limit_s=solve_seconds, echo=click.echo)
    replayable = simulated_days(db, report.region_code)
    db.dispose()
    app = create_app()
    click.echo("")
    click.echo(f"Hakobu demo console: {base}")
    click.echo(f"  accounts: operator@demo, planner@demo, admin@demo   password: {password}")
    for line in summary:
        click.echo(f"  {line}")
    click.echo("  proposed plans are waiting on the map page; courier links and PINs appear in the SMS "
               f"simulator ({base}intake/simulator) once a plan is confirmed")
    if replayable:  # the planner's walk (docs/planners.md)
        day = replayable[-1].isoformat()
        click.echo(f"  planners: the simulated day {day}: replay {base}planner/replay?from={day}&to={day} "
                   f"and KPIs {base}planner/?from={day}&to={day}")
        for example in sorted((region_path / "scenarios").glob("*.toml")):
            click.echo(f"    hakobu scenario run {example} --date {day} --database {url}")
    scheduler_stop = start_demo_scheduler(url, solve_seconds)
    click.echo("  the batch scheduler runs inside the demo: cutoffs close and re-plans (force ground, "
               "weather hold) are solved in a worker process")
    if not no_browser:
        threading.Timer(1.0, webbrowser.open, args=(base,)).start()
    gc.freeze()
    try:
        waitress_serve(app, host=host, port=port, threads=8)
    finally:
        scheduler_stop()


def kept_secret_key(instance: Path) -> str:
    """The secret key kept in ``instance/secret_key`` (created, readable by its owner only, on the
    first run): the demo's ``HAKOBU_SECRET_KEY`` unless the environment gives one."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def start_demo_scheduler(url: str, solve_seconds: float) -> Callable[[], None]:
    """Run the batch scheduler in a thread of the demo (a deployment runs ``hakobu scheduler`` as its
    own process): cutoffs close, and re-plans asked for in the console are solved in a worker
    process, never in a web request. Returns the function that stops it."""
    from dispatch.config import settings_from_env
    from dispatch.db import Database
    from dispatch.scheduler import BatchScheduler
    from dispatch.services.solving import PlanBatch, SolvePool
    from dispatch.tasks.local import LocalQueue

    os.environ.setdefault("HAKOBU_SOLVE_TIME_LIMIT_S", str(max(solve_seconds, 1.0)))
    settings = settings_from_env()
    db = Database(url)
    service = BatchScheduler(db, settings, tick_s=5.0, make_queue=lambda: LocalQueue(db, solves=SolvePool(
        db, PlanBatch(settings.solve_time_limit_s), workers=1,
        hard_timeout_s=settings.solve_time_limit_s * 3 + 60)))
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), name="hakobu-demo-scheduler", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(15)
        db.dispose()

    return halt
