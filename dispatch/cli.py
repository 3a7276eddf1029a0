"""Command-line entry points of the domain (click only; the ``hakobu`` group lives in web/cli.py)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click

from dispatch.config import settings_from_env
from dispatch.db import Database
from dispatch.errors import DomainError


def open_db(url: str | None = None) -> Database:
    """The application database: ``--database`` or ``HAKOBU_DATABASE_URL`` or the SQLite default.

    Inside a click command its connections are closed when the command ends.
    """
    db = Database(url or settings_from_env().database_url)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(db.dispose)
    return db


database_option = click.option(
    "--database", "database_url", envvar="HAKOBU_DATABASE_URL", default=None,
    help="SQLAlchemy URL (default: HAKOBU_DATABASE_URL or sqlite:///instance/hakobu.sqlite).",
)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@database_option
@click.option("--revision", default="head", show_default=True)
def db_upgrade(database_url: str | None, revision: str) -> None:
    """Create or migrate the schema to the newest revision."""
    from dispatch.schema import current_revision, upgrade

    db = open_db(database_url)
    upgrade(db, revision)
    click.echo(f"database at revision {current_revision(db)}")


@click.group("region")
def region_group() -> None:
    """Check and load region folders (see docs/region-format.md)."""


def _read(path: Path) -> Any:
    from dispatch.region.reader import RegionError, read_region

    try:
        return read_region(path)
    except RegionError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(error.problems)} problem(s) in {path}; nothing imported", err=True)
        sys.exit(2)


@region_group.command("check")
@click.argument("path", type=click.Path(path_type=Path))
def region_check(path: Path) -> None:
    """Validate a region folder without writing anything."""
    data = _read(path)
    click.echo(
        f"{path}: ok — {len(data.hubs)} hubs, {len(data.residents)} residents, "
        f"{len(data.roads)} roads, {len(data.zones)} zones, {len(data.volunteers)} volunteers, "
        f"{len(data.drones)} drones"
    )


@region_group.command("load")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--code", default=None,
              help="The region's code (default: the folder's name); several regions share a deployment.")
@database_option
def region_load(path: Path, code: str | None, database_url: str | None) -> None:
    """Import (or update) a region in one transaction; nothing is written if any check fails."""
    from dispatch.region.importer import load_region
    from dispatch.schema import upgrade

    data = _read(path)
    db = open_db(database_url)
    upgrade(db)
    report = load_region(db, data, code)
    click.echo(f"region {report.region_code} loaded")
    for line in report.lines():
        click.echo(f"  {line}")


@region_group.command("import-osm")
@click.argument("pbf", type=click.Path(path_type=Path))
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--area", required=True,
              help="WEST,SOUTH,EAST,NORTH in degrees, or a .geojson file with the area's polygon.")
def region_import_osm(pbf: Path, folder: Path, area: str) -> None:
    """Write FOLDER/roads.geojson from an OpenStreetMap extract (.osm.pbf), roads inside --area."""
    from dispatch.region.osm import OsmError, parse_area, roads_from_osm

    try:
        roads = roads_from_osm(pbf, parse_area(area))
    except OsmError as error:
        fail(str(error))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "roads.geojson"
    target.write_text(json.dumps(roads, ensure_ascii=False, indent=0), encoding="utf-8")
    kinds: dict[str, int] = {}
    for feature in roads["features"]:
        kinds[feature["properties"]["kind"]] = kinds.get(feature["properties"]["kind"], 0) + 1
    click.echo(f"{target}: {len(roads['features'])} road segments ("
               + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + f"); {roads['attribution']}")


@region_group.command("import-zones")
@click.argument("polygons", type=click.Path(path_type=Path))
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--category", default="DID", show_default=True,
              help="extendedProperties jp:category: DID, AIRPORT_SURFACE, LOCAL_RULE, COMMUNITY, ...")
@click.option("--type", "zone_type", default="REQ_AUTHORIZATION", show_default=True,
              type=click.Choice(["PROHIBITED", "REQ_AUTHORIZATION", "CONDITIONAL", "NO_RESTRICTION"]))
@click.option("--prefix", default=None, help="identifier prefix (default: the category)")
@click.option("--encoding", default=None, help="text encoding of a shapefile without .cpg (e-Stat: cp932)")
@click.option("--area", default=None, help="keep only polygons meeting this area (as for import-osm)")
def region_import_zones(polygons: Path, folder: Path, category: str, zone_type: str, prefix: str | None,
                        encoding: str | None, area: str | None) -> None:
    """Add the polygons of a shapefile / GeoPackage / GeoJSON (e.g. e-Stat DID) to FOLDER/zones.geojson."""
    from dispatch.region.osm import OsmError, parse_area
    from dispatch.region.polygons import PolygonFileError, merge_zones, zones_from_polygons

    try:
        bounds = parse_area(area) if area else None
        features = zones_from_polygons(polygons, category=category, zone_type=zone_type,
                                       prefix=prefix or category, encoding=encoding, area=bounds)
    except (OsmError, PolygonFileError) as error:
        fail(str(error))
    target = folder / "zones.geojson"
    existing = json.loads(target.read_text(encoding="utf-8-sig")) if target.is_file() else None
    merged = merge_zones(existing, features)
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(merged, ensure_ascii=False, indent=1), encoding="utf-8")
    click.echo(f"{target}: {len(features)} {category} zone(s) of type {zone_type} written, "
               f"{len(merged['features']) - len(features)} other zone(s) kept")


@region_group.command("geocode")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--table", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="a CSV address,lon,lat the municipality keeps")
@click.option("--jageocoder-dir", type=click.Path(path_type=Path), default=None,
              help="a local jageocoder dictionary directory (pip install jageocoder; never online)")
def region_geocode(folder: Path, table: Path | None, jageocoder_dir: Path | None) -> None:
    """Fill in the coordinates of residents given only by "address" in FOLDER/residents.geojson."""
    from dispatch.region.geocode import GeocodeError, JageocoderGeocoder, TableGeocoder, geocode_residents

    if (table is None) == (jageocoder_dir is None):
        fail("give exactly one of --table FILE or --jageocoder-dir DIR")
    try:
        geocoder = TableGeocoder(table) if table is not None else JageocoderGeocoder(jageocoder_dir)  # type: ignore[arg-type]
        filled = geocode_residents(folder / "residents.geojson", geocoder)
    except GeocodeError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        fail(f"{len(error.problems)} address(es) not geocoded; residents.geojson unchanged")
    click.echo(f"{folder / 'residents.geojson'}: {filled} resident(s) geocoded")


@click.group("export")
def export_group() -> None:
    """Exports for operators (no names or phone numbers)."""


@export_group.command("orders")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-")
@database_option
def export_orders(fmt: str, out: Any, database_url: str | None) -> None:
    """Every order once: number, state, channel, hub, resident code, items, weight, times."""
    from dispatch.exports import order_rows

    rows = order_rows(open_db(database_url))
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["number"])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                         for k, v in row.items()})


@click.group("user")
def user_group() -> None:
    """Console accounts."""


@user_group.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["operator", "planner", "admin"]), required=True)
@click.option("--hub", "hubs", multiple=True,
              help="Hub the account may run, as region/HUB (or HUB when no other region has that code; "
                   "repeatable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@database_option
def user_add(email: str, name: str, role: str, hubs: tuple[str, ...], password: str,
             database_url: str | None) -> None:
    """Create or reset a console account."""
    from dispatch.services.users import upsert_user

    try:
        upsert_user(open_db(database_url), email, name, role, password, hubs)
    except DomainError as error:
        fail(str(error))
    click.echo(f"account {email} ({role}) saved")


@click.group("import")
def import_group() -> None:
    """Bulk imports, all or nothing."""


@import_group.command("orders")
@click.argument("path", type=click.Path(path_type=Path))
@database_option
def import_orders_command(path: Path, database_url: str | None) -> None:
    """Import orders from a CSV manifest (see dispatch/imports.py for the columns)."""
    from dispatch.imports import ImportError_, import_orders

    try:
        numbers = import_orders(open_db(database_url), path)
    except ImportError_ as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        fail(str(error))
    click.echo(f"{len(numbers)} orders imported: " + ", ".join(f"#{n}" for n in numbers))


commands = [db_group, region_group, export_group, user_group, import_group]
