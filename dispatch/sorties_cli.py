"""``hakobu sorties``: the flight log (飛行日誌) and the flight-plan data for DIPS 2.0 of a day.

``log`` lists every sortie that took off that day (``--kind flights``, 飛行記録) or the day's
inspection per drone (``--kind inspections``, 日常点検記録); ``plan`` lists the confirmed sorties of
a day with what DIPS 2.0 asks when a flight plan is notified. See docs/drones.md.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

import click
from sqlalchemy import select

from dispatch.cli import database_option, fail, open_db
from dispatch.models import Hub
from dispatch.read.flight_log import (
    FlightRecord,
    Inspection,
    PlannedFlight,
    as_csv,
    flight_records,
    inspections,
    planned_flights,
)

KINDS = {"flights": (flight_records, FlightRecord), "inspections": (inspections, Inspection)}


@click.group("sorties")
def sorties_group() -> None:
    """Drone sorties: the flight log and the flight-plan data."""


def _hub_ids(session: Any, hub: str | None) -> list[str] | None:
    if hub is None:
        return None
    found = session.scalars(select(Hub.id).where(Hub.code == hub)).all()
    if not found:
        fail(f"no hub with code {hub!r}")
    return list(found)


def _emit(rows: list[Any], kind: type, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
    else:
        click.echo(as_csv(rows, kind), nl=False)


_date = click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="The local day (YYYY-MM-DD, the region's time).",
)
_fmt = click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
_hub = click.option("--hub", default=None, help="Only this hub (code); default every hub.")


@sorties_group.command("log")
@_date
@_fmt
@_hub
@click.option("--kind", type=click.Choice(sorted(KINDS)), default="flights", show_default=True)
@database_option
def sorties_log(day: dt.datetime, fmt: str, hub: str | None, kind: str, database_url: str | None) -> None:
    """The flight log of DAY: every sortie flown (or the daily inspections)."""
    reader, row_type = KINDS[kind]
    with open_db(database_url).read() as session:
        rows = reader(session, day.date(), _hub_ids(session, hub))
    _emit(rows, row_type, fmt)


@sorties_group.command("plan")
@_date
@_fmt
@_hub
@database_option
def sorties_plan(day: dt.datetime, fmt: str, hub: str | None, database_url: str | None) -> None:
    """The flight-plan notification data (DIPS 2.0) of DAY's confirmed sorties."""
    with open_db(database_url).read() as session:
        rows = planned_flights(session, day.date(), _hub_ids(session, hub))
    _emit(rows, PlannedFlight, fmt)


commands = [sorties_group]
