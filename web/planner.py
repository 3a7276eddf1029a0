"""Planners' pages: KPIs (with CSV), the replay of a day, and one what-if scenario at a time.

A scenario is never solved inside a request: the form is checked here (fast), then the run goes to
a background worker process (:mod:`dispatch.studies.runs`) and the page follows its progress.

Access: planners and admins. Operators have none: the pages aggregate every hub of the region and
the replay shows any hub's day, while an operator's scope is their own hubs (docs/planners.md).
Views stay thin: the numbers come from :mod:`dispatch.studies`, the charts from :mod:`web.studies`,
the maps from :mod:`web.maps`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from dispatch.errors import DomainError, NotFound
from dispatch.models import utcnow
from dispatch.read.region import RegionOverview, region_overview
from dispatch.simulate import simulated_days
from dispatch.studies.facts import load_facts, recent_days
from dispatch.studies.kpis import FACTORS, HEADLINE, Kpis, kpi_table
from dispatch.studies.replay import load_replay
from dispatch.studies.runs import ScenarioRunPool, recent_runs, settle, submit_run
from dispatch.studies.scenario_spec import ScenarioError, parse
from dispatch.studies.scenarios import check_against_database
from dispatch.tasks import TaskQueue, task_queue
from dispatch.tasks.local import LocalQueue
from web.context import db, read, settings
from web.forms import choices
from web.inputs import parse_day
from web.maps import HubPoint, MapAssets, MapData, RouteLine, ZoneShape, build_map, render_parts
from web.phrases import zone_name
from web.security import access
from web.studies.charts import bar_chart
from web.studies.reports import kpi_charts, scope_label
from web.translations import N_

bp = Blueprint("planner", __name__, url_prefix="/planner")

#: The web page runs small scenarios (in a background worker); the CLI is for long runs and sweeps.
WEB_TIME_LIMIT_S = 10
WEB_SOLUTION_LIMIT = 30


def _range() -> tuple[dt.date, dt.date, list[str] | None, list[str]]:
    """``from``/``to``/``hub`` from the query string (default: today), and any problems with them."""
    problems: list[str] = []
    today = dt.date.today()

    def day(name: str) -> dt.date:
        raw = request.args.get(name, "")
        if not raw:
            return today
        parsed = parse_day(raw)
        if parsed is None:
            problems.append(_("%(name)s: %(value)s is not a date like 2026-03-03", name=name, value=raw))
            return today
        return parsed

    start, end = day("from"), day("to")
    if end < start:
        problems.append(_("the range ends before it starts"))
    hub = request.args.get("hub") or None
    return start, end, [hub] if hub else None, problems


def _overview() -> RegionOverview | None:
    """The region the planner's maps and forms are drawn on (None before a region is loaded);
    read once per request (the replay page asked three times: a quarter of a second each)."""
    if "region_overview" not in g:
        g.region_overview = read(region_overview, utcnow())
    overview: RegionOverview | None = g.region_overview
    return overview


def _hub_choices() -> list[tuple[str, str]]:
    overview = _overview()
    return [(h.code, h.name) for h in overview.hubs if h.kind == "hub"] if overview else []


def _days() -> list[dict[str, Any]]:
    """Recent days with orders for the range form's shortcuts; simulated days are marked (a planner
    should know a day came from ``hakobu simulate``, not from residents)."""
    simulated = set(simulated_days(db()))
    return [{"day": d, "orders": n, "simulated": d in simulated} for d, n in recent_days(db())]


SHARES = frozenset({"on_time_share", "residents_reached_share"})


def shown(key: str, value: object) -> str:
    """A KPI as the page shows it: shares in percent, other decimals shortened; undefined is n/a
    (the CSV keeps the exact values)."""
    if value is None:
        return _("n/a")
    if key in SHARES and isinstance(value, int | float):
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _kpi_rows(ranges: list[Kpis]) -> list[tuple[str, str, list[str]]]:
    """(translated label, key, shown value per scope) for each headline KPI."""
    flat = [r.row() for r in ranges]
    return [(_(label), key, [shown(key, r.get(key, 0)) for r in flat]) for label, key in HEADLINE]


@bp.route("/")
@access("planner", "admin")
def index() -> Any:
    start, end, hubs, problems = _range()
    table = None
    if not problems:
        try:
            table = kpi_table(load_facts(db(), start, end, hub_codes=hubs))
        except (DomainError, ValueError) as error:
            problems.append(str(error))
    ranges = [r for r in table.rows if r.day == "range"] if table else []
    daily = [r for r in table.rows if r.day != "range" and r.hub == "all"] if table else []
    charts = kpi_charts(ranges, _) if ranges else ""
    if len(daily) > 1:
        charts += bar_chart(_("Delivered per day"), [r.day for r in daily],
                            [(_("delivered"), [r.delivered for r in daily])])
    return render_template("planner/index.html", start=start, end=end, hub=(hubs or [""])[0],
                           hubs=_hub_choices(), days=_days(), problems=problems,
                           scopes=[scope_label(r, _) for r in ranges],
                           kpis=_kpi_rows(ranges) if ranges else [],
                           charts=charts, factors=list(FACTORS.values()),
                           unserved=table.total().unserved if table else {},
                           basis=table.basis if table else "")


@bp.route("/kpis.csv")
@access("planner", "admin")
def kpis_csv() -> Any:
    start, end, hubs, problems = _range()
    if problems:
        return Response("\n".join(problems) + "\n", status=400, mimetype="text/plain")
    try:
        text = kpi_table(load_facts(db(), start, end, hub_codes=hubs)).to_csv()
    except (DomainError, ValueError) as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    name = f"hakobu-kpis-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def _assets() -> MapAssets:
    return MapAssets.under(url_for("static", filename="vendor").rstrip("/"))


def _map_data(plan_features: list[dict[str, Any]]) -> MapData:
    """Region background (hubs, roads, zones) with routes from routing's plan GeoJSON."""
    overview = _overview()
    assert overview is not None
    legs: dict[tuple[str, Any], list[tuple[tuple[float, float], ...]]] = {}
    modes: dict[tuple[str, Any], str] = {}
    for f in plan_features:
        if f["geometry"]["type"] != "LineString":
            continue
        p = f["properties"]
        key = (p["vehicle_id"], p.get("sortie"))
        legs.setdefault(key, []).append(tuple((float(x), float(y)) for x, y in f["geometry"]["coordinates"]))
        modes[key] = p["mode"]
    routes = [RouteLine(vehicle=f"{vid[:6]}{'' if sortie is None else f' #{sortie}'}",
                        mode=modes[(vid, sortie)], legs=tuple(lines))
              for (vid, sortie), lines in legs.items()]
    return MapData(
        center=overview.center,
        hubs=[HubPoint(h.code, h.name, h.kind, h.drone_port, h.lon, h.lat) for h in overview.hubs],
        roads=overview.roads,
        zones=[ZoneShape(z.identifier, zone_name(z.name, z.names), z.type, z.geometry, z.validity, z.active)
               for z in overview.zones],
        routes=routes, zoom=11,
    )


def _bounds(features: list[dict[str, Any]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the features' points and lines, None when there are none."""
    points = []
    for f in features:
        geometry = f["geometry"]
        if geometry["type"] == "Point":
            points.append(geometry["coordinates"])
        elif geometry["type"] == "LineString":
            points += geometry["coordinates"]
    if not points:
        return None
    lons, lats = [float(p[0]) for p in points], [float(p[1]) for p in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


@bp.route("/replay")
@access("planner", "admin")
def replay() -> Any:
    start, end, hubs, problems = _range()
    data = None
    if not problems:
        try:
            data = load_replay(db(), start, end, hubs)
        except (DomainError, ValueError) as error:
            problems.append(str(error))
    parts, happened, times = None, "[]", []
    if data is not None and _overview() is not None:
        m = build_map(_map_data(data.planned["features"]), _assets(), tiles=settings().tiles)
        # The slider draws into its own Leaflet layer (replay.html). A folium group added here, after
        # build_map's layer control, broke the map's script (the control referred to it before it
        # existed) and everything after it, the fitting to the day's bounds included.
        bounds = _bounds([*data.planned["features"], *data.happened])
        if bounds is not None:  # the day's routes and events, not the whole region
            m.fit_bounds(bounds, padding=(20, 20))
        parts = render_parts(m)
        happened = json.dumps(data.happened, ensure_ascii=False).replace("</", "<\\/")
        times = data.times
    return render_template("planner/replay.html", start=start, end=end, hub=(hubs or [""])[0],
                           hubs=_hub_choices(), days=_days(), problems=problems, data=data, map=parts,
                           happened=happened, times=times,
                           last_time=dt.datetime.fromisoformat(times[-1]) if times else None)


class ScenarioForm(FlaskForm):
    date = DateField(validators=[DataRequired()])
    hub = SelectField(validators=[Optional()])
    drones = IntegerField(default=2, validators=[Optional(), NumberRange(0, 50)])
    volunteers = IntegerField(default=0, validators=[Optional(), NumberRange(0, 200)])
    volunteer_mode = SelectField(default="car", choices=choices(
        [("car", _l("car")), ("bicycle", _l("bicycle")), ("walk", _l("walk"))]))
    remove_volunteers = StringField(validators=[Optional()])
    drone_range_km = IntegerField(validators=[Optional(), NumberRange(1, 200)])
    drone_payload_kg = IntegerField(validators=[Optional(), NumberRange(1, 50)])
    activate_zone = SelectField(validators=[Optional()])
    cutoffs = StringField(validators=[Optional()])


def scenario_toml(form: ScenarioForm) -> str:
    """The form as a scenario file: the page and the CLI share one format and one set of checks."""
    hub = form.hub.data or ""
    lines = [f"name = {json.dumps(scenario_name(form), ensure_ascii=False)}", "[base]",
             f"date = {form.date.data.isoformat()}"]
    if hub:
        lines.append(f"hub = {json.dumps(hub)}")
    lines += ["[solve]", f"time_limit_s = {WEB_TIME_LIMIT_S}", f"solution_limit = {WEB_SOLUTION_LIMIT}"]
    target = hub or (_hub_choices() or [("", "")])[0][0]
    if form.drones.data:
        lines += ["[[drones.add]]", f"hub = {json.dumps(target)}", f"count = {form.drones.data}"]
    if form.volunteers.data:
        lines += ["[[volunteers.add]]", f"hub = {json.dumps(target)}", f"count = {form.volunteers.data}",
                  f"mode = {json.dumps(form.volunteer_mode.data)}"]
    removed = [c.strip() for c in (form.remove_volunteers.data or "").split(",") if c.strip()]
    if removed:
        lines += ["[volunteers]", f"remove = {json.dumps(removed, ensure_ascii=False)}"]
    changes = {k: v for k, v in (("range_km", form.drone_range_km.data),
                                 ("payload_kg", form.drone_payload_kg.data)) if v}
    if changes:
        lines += ["[drones.set]", *(f"{k} = {v}" for k, v in changes.items())]
    if form.activate_zone.data:
        lines += ["[zones]", f"activate = [{json.dumps(form.activate_zone.data, ensure_ascii=False)}]"]
    times = [t.strip() for t in (form.cutoffs.data or "").split(",") if t.strip()]
    if times and target:
        lines += ["[hubs.cutoffs]", f"{json.dumps(target)} = {json.dumps(times)}"]
    return "\n".join(lines) + "\n"


def scenario_name(form: ScenarioForm) -> str:
    """A short name for the list of recent runs: the base day, the hub and what changes."""
    changes = []
    if form.drones.data:
        changes.append(f"+{form.drones.data} drones")
    if form.volunteers.data:
        changes.append(f"+{form.volunteers.data} volunteers ({form.volunteer_mode.data})")
    if form.remove_volunteers.data:
        changes.append(f"-{form.remove_volunteers.data}")
    if form.drone_range_km.data:
        changes.append(f"range {form.drone_range_km.data} km")
    if form.drone_payload_kg.data:
        changes.append(f"payload {form.drone_payload_kg.data} kg")
    if form.activate_zone.data:
        changes.append(f"zone {form.activate_zone.data} on")
    if form.cutoffs.data:
        changes.append(f"cutoffs {form.cutoffs.data}")
    where = form.hub.data or "all hubs"
    return f"{form.date.data.isoformat()} {where}: {', '.join(changes) or 'no change'}"[:200]


#: Run states the templates translate from data (``_(run.state)``); "done" and "failed" are marked
#: with the batch states in web/translations.
RUN_STATE_TERMS = (N_("queued"), N_("running"))

#: The study pack's words (web/studies/pack_page.py and reports.py translate them from this
#: catalogue without Flask). The extractor reads only web/, so they are marked here to stay in the
#: catalogue; tests/studies/test_studypack.py fails when the Japanese pack has English left in it.
STUDY_PACK_TERMS = (
    N_("Study pack: %(region)s"), N_("%(region)s · %(start)s – %(end)s · generated %(today)s"),
    N_("Orders per cell, routes and hubs"), N_("cells"), N_("routes"), N_("hubs"), N_("hub"), N_("day"),
    N_("hour"), N_("Orders by hour"), N_("Privacy"),
    N_("%(households)s households, %(orders)s orders, %(delivered)s delivered"),
    N_("%(n)s inhabited cells have fewer than %(k)s households (see Privacy below)."),
    N_("cells: %(kept)s of %(inhabited)s inhabited %(grid)s m cells kept (%(kept_households)s "
       "households); %(suppressed)s suppressed because they have fewer than k = %(k)s households "
       "(%(hidden)s households not shown on the map; they still count in the KPIs)"),
    N_("no cell has enough households at this grid: the map shows routes and hubs only"),
    N_("--grid %(grid)s would keep %(cells)s cell(s) with %(homes)s households"),
    N_("coarser grids keep more (k unchanged): %(options)s"),
    N_("route lines: %(shown)s of %(total)s routes have a part on the map (lines are cut out of "
       "every inhabited %(grid)s m cell and its neighbours, so a coarser grid shows less of them)"),
    N_("Anonymous, aggregated data: homes and stops are counted per %(grid)s m cell; cells with "
       "fewer than %(k)s households are left out; route lines are cut out of every inhabited cell "
       "and its neighbours; ids are random for this export; times are rounded to the hour; "
       "coordinates to about 10 m. No names, phone numbers or resident ids are included."),
    N_("Baseline: each delivered order replaces one household return trip by car to the nearest "
       "supply point (straight distance × circuity × 2). Service: km by mode × factor (walk and "
       "bicycle 0; drone = energy per km × grid factor)."),
)

_pool_lock = threading.Lock()


def run_pool() -> TaskQueue:
    """Where this web process sends scenario runs (created on first use): its own pool of scenario
    workers with the in-process executor (one at a time by default: the web host is small and a
    run keeps a core busy), else the task engine's queue."""
    with _pool_lock:
        pool = current_app.extensions.get("hakobu_scenario_runs")
        if pool is None:
            database = db()
            pool = task_queue(database, settings(),
                              local=lambda: LocalQueue(database, runs=ScenarioRunPool(database.url)))
            current_app.extensions["hakobu_scenario_runs"] = pool
        return pool  # type: ignore[no-any-return]


@bp.route("/scenario", methods=["GET", "POST"])
@access("planner", "admin")
def scenario() -> Any:
    form = ScenarioForm()
    hubs = _hub_choices()
    form.hub.choices = choices([("", _("whole region")), *hubs])
    overview = _overview()
    zones = [(z.identifier, z.name) for z in overview.zones] if overview else []
    form.activate_zone.choices = choices([("", _("none")), *zones])
    if request.method == "GET" and form.date.data is None:  # the latest day before today with orders
        past = [d for d, _n in recent_days(db()) if d < dt.date.today()]
        form.date.data = past[0] if past else dt.date.today()
    problems: list[str] = []
    if form.validate_on_submit():
        text = scenario_toml(form)
        pool = run_pool()
        try:
            check_against_database(db(), parse(text, "form"))  # fast: bad input runs nothing
        except ScenarioError as error:
            problems = [p.removeprefix("form: ") for p in error.problems]
        except DomainError as error:
            problems = [str(error)]
        else:
            if not pool.has_room():
                problems = [_("Too many scenarios are waiting for a worker; try again in a few minutes.")]
            else:
                run_id = submit_run(db(), text, scenario_name(form), current_user.user_id,
                                    local=pool.engine == "local")
                pool.run_scenario(run_id)
                return redirect(url_for("planner.scenario_run", run_id=run_id))
    elif request.method == "POST":
        problems = [f"{name}: {'; '.join(errors)}" for name, errors in form.errors.items()]
    return render_template("planner/scenario.html", form=form, problems=problems, runs=_recent())


def _progress_text(run: Any) -> str:
    """The run's state in words: what the worker is doing, or why it failed."""
    if run.state == "queued":
        return _("waiting for a worker")
    if run.state == "failed":
        return run.reason
    if run.state == "done":
        return ""
    step = (run.progress or {}).get("step", "")
    done, total = (run.progress or {}).get("done", 0), (run.progress or {}).get("total", 0)
    if step == "base":
        return _("re-planning the base day: cutoff %(done)s of %(total)s", done=done, total=total)
    if step == "scenario":
        return _("re-planning the scenario: cutoff %(done)s of %(total)s", done=done, total=total)
    if step == "saving":
        return _("saving the comparison")
    return _("copying the base day")


def _queued_limit() -> float | None:
    pool = current_app.extensions.get("hakobu_scenario_runs")
    return None if pool is None else pool.queued_for_s


def _recent() -> list[dict[str, Any]]:
    return [_run_view(r) for r in recent_runs(db(), queued_for_s=_queued_limit())]


def _run_view(run: Any) -> dict[str, Any]:
    return {"id": run.id, "name": run.name, "state": run.state, "created_at": run.created_at,
            "text": _progress_text(run)}


@bp.route("/scenario/runs/<run_id>")
@access("planner", "admin")
def scenario_run(run_id: str) -> Any:
    """One run: its progress (the page refreshes itself until it ends), then base vs scenario."""
    try:
        run = settle(db(), run_id, queued_for_s=_queued_limit())
    except NotFound:
        abort(404)
    result, rows, maps = run.result if run.state == "done" else None, [], []
    if result:
        rows = [(_(label), label, shown(key, a), shown(key, b), "" if d is None else shown(key, d))
                for (label, a, b, d), key in zip(result["comparison"], result["keys"], strict=True)]
        for side in ("base", "scenario"):
            maps.append(render_parts(build_map(_map_data(result[side]["plan"]["features"]), _assets(),
                                               tiles=settings().tiles)))
    return render_template("planner/scenario_run.html", run=_run_view(run), result=result, rows=rows,
                           maps=maps, runs=_recent())
