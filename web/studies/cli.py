"""``hakobu kpis``, ``hakobu scenario run`` and ``hakobu export study-pack`` (registered in web/cli.py).

Entry points of the planners' studies: the numbers come from :mod:`dispatch.studies`, the HTML
(scenario report, study pack's page) from this package, which is why the commands live in ``web``.

Bad input (a scenario with an unknown key, an unknown hub, a range that ends before it starts) is
reported as ``error: ...`` lines with exit status 2, and nothing runs.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from dispatch.cli import database_option, fail, open_db
from dispatch.errors import DomainError


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-03", param=param) from None


@click.command("kpis")
@click.option("--from", "start", required=True, callback=_date, help="First local date (YYYY-MM-DD).")
@click.option("--to", "end", required=True, callback=_date, help="Last local date, inclusive.")
@click.option("--hub", "hubs", multiple=True, help="Hub code (repeatable; default: all hubs).")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every scope as CSV to this file.")
@database_option
def kpis_command(start: dt.date, end: dt.date, hubs: tuple[str, ...], csv_out: Path | None,
                 database_url: str | None) -> None:
    """KPIs per hub, per day and over the range (definitions: docs/planners.md)."""
    from dispatch.studies.facts import load_facts
    from dispatch.studies.kpis import HEADLINE, kpi_table

    try:
        facts = load_facts(open_db(database_url), start, end, hub_codes=list(hubs) or None)
    except (DomainError, ValueError) as error:
        fail(str(error))
    table = kpi_table(facts)
    rows = [r.row() for r in table.rows if r.day == "range"]
    click.echo(f"{facts.region_name}: {start} .. {end} ({table.basis})")
    width = max(len(label) for label, _ in HEADLINE)
    click.echo(" " * width + "".join(f"{r['hub']!s:>12}" for r in rows))
    for label, key in HEADLINE:
        click.echo(label.ljust(width) + "".join(f"{_short(r.get(key, 0)):>12}" for r in rows))
    unserved = table.total().unserved
    if unserved:
        click.echo("unserved by reason: " + ", ".join(f"{k} {v}" for k, v in unserved.items()))
    if csv_out is not None:
        csv_out.write_text(table.to_csv(), encoding="utf-8")
        click.echo(f"written {csv_out}")


def _short(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.1f}"
    return str(v)


@click.group("scenario")
def scenario_group() -> None:
    """What-if scenarios re-planned from a recorded day (format: docs/planners.md)."""


@scenario_group.command("run")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write comparison.csv, KPI CSVs, plans as GeoJSON and report.html here.")
@click.option("--date", "date_override", callback=_date, default=None, help="Use this base day instead.")
@click.option("--workers", type=int, default=None, help="Processes for a sweep (default: CPU count).")
@database_option
def scenario_run(path: Path, out_dir: Path | None, date_override: dt.date | None, workers: int | None,
                 database_url: str | None) -> None:
    """Re-plan the base day with and without the changes and compare (or run the [sweep])."""
    from dispatch.studies.scenario_spec import ScenarioError, parse

    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    try:
        scenario = parse(content, str(path))
    except ScenarioError as error:
        _problems(error.problems)
    if date_override is not None:
        scenario.data["base"]["date"] = date_override
    db = open_db(database_url)
    try:
        if "sweep" in scenario.data:
            _sweep(db, scenario, out_dir, workers)
        else:
            _single(db, scenario, out_dir)
    except ScenarioError as error:
        _problems(error.problems)
    except DomainError as error:
        fail(str(error))


def _problems(problems: list[str]) -> None:
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"{len(problems)} problem(s); nothing was run", err=True)
    sys.exit(2)


def _single(db: object, scenario: object, out_dir: Path | None) -> None:
    from dispatch.studies.scenarios import run_scenario, write_outputs
    from web.studies.reports import scenario_report

    result = run_scenario(db, scenario)  # type: ignore[arg-type]
    click.echo(f"scenario {result.scenario.name!r} on {result.scenario.date}")
    click.echo(f"{'KPI':<28}{'base':>12}{'scenario':>12}{'difference':>12}")
    for label, a, b, d in result.comparison():
        click.echo(f"{label:<28}{_short(a):>12}{_short(b):>12}{_short(d):>12}")
    if out_dir is not None:
        for written in write_outputs(result, out_dir, scenario_report(result)):
            click.echo(f"written {written}")


def _sweep(db: object, scenario: object, out_dir: Path | None, workers: int | None) -> None:
    from dispatch.studies.scenarios import run_sweep, sweep_csv, sweep_points

    total = len(sweep_points(scenario))  # type: ignore[arg-type]
    click.echo(f"sweep: {total} runs")

    def progress(done: int, of: int, row: dict[str, object]) -> None:
        click.echo(f"[{done}/{of}] drones +{row['drones_added']} volunteers +{row['volunteers_added']}: "
                   f"delivered {row['delivered']}, sorties {row['drone_sorties']}, "
                   f"unserved {row['unserved_total']} ({row['seconds']} s)")

    rows = run_sweep(db, scenario, workers=workers, progress=progress)  # type: ignore[arg-type]
    text = sweep_csv(rows)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "sweep.csv").write_text(text, encoding="utf-8")
        click.echo(f"written {out_dir / 'sweep.csv'}")
    else:
        click.echo(text, nl=False)


@click.command("study-pack")
@click.option("--from", "start", required=True, callback=_date, help="First local date (YYYY-MM-DD).")
@click.option("--to", "end", required=True, callback=_date, help="Last local date, inclusive.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--grid", "grid_m", type=click.IntRange(50, 5000), default=250, show_default=True,
              help="Grid cell size in metres (region CRS).")
@click.option("--k", "k_min", type=click.IntRange(2, 1000), default=5, show_default=True,
              help="Suppress cells with fewer households than this.")
@click.option("--hub", "hubs", multiple=True, help="Hub code (repeatable; default: all hubs).")
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None,
              help="Language of the HTML (default: the region's locale, ja for Tajima).")
@database_option
def study_pack_command(start: dt.date, end: dt.date, out_dir: Path, grid_m: int, k_min: int,
                       hubs: tuple[str, ...], lang: str | None, database_url: str | None) -> None:
    """Anonymous study-session pack: self-contained HTML, GeoPackage and CSV layers."""
    from dispatch.studies.studypack import PackOptions, build_pack, write_built
    from web.studies.pack_page import pack_html, suppression_lines

    try:
        options = PackOptions(start, end, grid_m, k_min, list(hubs) or None)
        for weakness in options.weaknesses():
            click.echo(f"warning: {weakness}", err=True)
        pack = build_pack(open_db(database_url), options)
    except (DomainError, ValueError) as error:
        fail(str(error))
    for path in write_built(pack, out_dir, pack_html(pack, lang)):
        click.echo(f"written {path}")
    # e.g. 250 m in a sparse valley: no cell has k households
    for line in suppression_lines(pack.suppression):
        click.echo(line)


commands = [kpis_command, scenario_group]
export_commands = [study_pack_command]
