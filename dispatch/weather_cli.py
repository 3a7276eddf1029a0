"""``hakobu weather load``: store a weather file's readings for a hub (issue 14, item 2).

``--format file`` is the local CSV (``starts_at,ends_at,wind_ms,gust_ms,precip_mmh,temp_c,
visibility_m``), ``--format open-meteo`` an Open-Meteo ``/v1/forecast`` answer saved with
``curl -o`` (see docs/drones.md#weather). Every row is checked first; nothing is stored when one
is wrong (exit 2, each problem as ``file:row: field: message``).
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from dispatch.cli import database_option, fail, open_db
from dispatch.models import Hub
from dispatch.weather import readings


@click.group("weather")
def weather_group() -> None:
    """Weather for the drones' go/no-go."""


@weather_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--hub", "hub_code", required=True, help="The hub (code) the readings are for.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(readings.PARSERS)), default="file", show_default=True
)
@database_option
def weather_load(path: Path, hub_code: str, fmt: str, database_url: str | None) -> None:
    """Store the readings of PATH for HUB."""
    db = open_db(database_url)
    with db.read() as session:
        hub_id = session.scalars(select(Hub.id).where(Hub.code == hub_code)).first()
    if hub_id is None:
        fail(f"no hub with code {hub_code!r}")
    try:
        found = readings.PARSERS[fmt](path.name, path.read_text(encoding="utf-8"))
    except readings.WeatherFileError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(2) from None
    count = readings.record(db, str(hub_id), found, fmt, "cli")
    click.echo(f"{count} reading(s) stored for {hub_code} ({fmt})")


commands = [weather_group]
