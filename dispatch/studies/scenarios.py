"""What-if scenarios: re-plan a recorded day on a scratch copy of the database, with changes.

How a scenario runs, and why:

1. **Snapshot** (:func:`snapshot`): the region (hubs, residents, volunteers, drones, roads, zones)
   and the base day's orders are copied into a scratch SQLite file. Orders are reset to
   ``confirmed`` with no batch; cancelled orders are left out. Names, phones and free texts are not
   copied (a scenario needs none). The operational database is only read.
2. **Base and scenario both re-plan** from that snapshot: the base with no change, the scenario
   with its changes (:func:`apply_changes`). Both use the real services (``close_batch`` at each
   cutoff of the day, then ``plan_batch``), with seed 0 and a fixed solution limit, so the two are
   solved the same way and differ only by the changes. Comparing the scenario with what happened on
   the day would mix the change with the solver's settings and the day's operator edits.
3. **KPIs** are computed on a planned basis (served = on the latest plan of each batch; lead time
   to the planned ETA; no on-time share, nothing was driven) by the same :mod:`kpis` code.

A sweep (``[sweep]``) runs one scenario per combination of added drones × added volunteers in a
process pool; each point works on its own copy of the snapshot.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import delete, insert, select, update

import routing
from dispatch.db import Database
from dispatch.lifecycle import OrderState
from dispatch.models import Base, Drone, Hub, Order, Plan, Region, Resident, Road, Volunteer, Zone
from dispatch.planning import plan_batch
from dispatch.services.batching import close_batch, cutoff_instants
from dispatch.studies.facts import load_facts, local_bounds, region_of
from dispatch.studies.kpis import Kpis, compare, compute, kpi_table
from dispatch.studies.scenario_spec import WEEKDAYS, Scenario, ScenarioError
from routing.geo import to_metric

DEFAULT_TIME_LIMIT_S = 30.0
DEFAULT_SOLUTION_LIMIT = 50
DRONE_DEFAULTS = {"model": "scenario multicopter", "payload_kg": 4.5, "range_km": 20.0, "cruise_kmh": 36.0,
                  "turnaround_min": 10.0}
VOLUNTEER_DEFAULTS = {"mode": "car", "capacity_kg": 150.0, "max_parcels": 30, "shift_start": "09:00",
                      "shift_end": "17:00", "days": list(WEEKDAYS)}


# --- checks against the database -------------------------------------------------------------------


def check_against_database(db: Database, sc: Scenario) -> None:
    """Raise :class:`ScenarioError` when the scenario names what the database does not have."""
    problems: list[str] = []
    d = sc.data
    with db.read() as s:
        try:
            region = region_of(s, d["base"].get("region"))
        except Exception as error:  # NotFound: no or several regions
            raise ScenarioError([f"{sc.source}: {sc.where(('base', 'region'))}: {error}"]) from None
        hubs = {h.code: h for h in s.scalars(select(Hub).where(Hub.region_id == region.id))}
        added_hubs = {h.get("code") for h in d.get("hubs", {}).get("add", [])}
        volunteers = set(s.scalars(select(Volunteer.code).where(Volunteer.region_id == region.id)))
        drones = set(s.scalars(select(Drone.code).where(Drone.region_id == region.id)))
        zones = set(s.scalars(select(Zone.identifier).where(Zone.region_id == region.id)))

        def hub_ok(path: tuple[Any, ...], code: Any, allow_new: bool = True) -> None:
            if code not in hubs and not (allow_new and code in added_hubs):
                problems.append(f"{sc.where(path)}: no hub {code!r} in region {region.code} "
                                f"(hubs: {', '.join(sorted(hubs))})")

        if sc.hub:
            hub_ok(("base", "hub"), sc.hub, allow_new=False)
        for table, key in (("drones", "add"), ("volunteers", "add"), ("hubs", "move")):
            for i, item in enumerate(d.get(table, {}).get(key, [])):
                hub_ok((table, key, i, "hub"), item.get("hub"), allow_new=table != "hubs")
        if "hub" in d.get("drones", {}).get("set", {}):
            hub_ok(("drones", "set", "hub"), d["drones"]["set"]["hub"])
        for code in d.get("hubs", {}).get("cutoffs", {}):
            hub_ok(("hubs", "cutoffs", code), code)
        for i, h in enumerate(d.get("hubs", {}).get("add", [])):
            if h.get("code") in hubs:
                problems.append(f"{sc.where(('hubs', 'add', i, 'code'))}: hub {h['code']!r} already exists")
        if "sweep" in d:
            hub_ok(("sweep", "hub"), d["sweep"].get("hub"))
        for table, key, known in (("volunteers", "remove", volunteers), ("drones", "remove", drones),
                                  ("zones", "remove", zones), ("zones", "activate", zones),
                                  ("zones", "deactivate", zones)):
            unknown = [c for c in d.get(table, {}).get(key, []) if c not in known]
            if unknown:
                problems.append(f"{sc.where((table, key))}: unknown {table[:-1]} code(s) "
                                f"{', '.join(unknown)}")
        for i, z in enumerate(d.get("zones", {}).get("add", [])):
            if z.get("identifier") in zones:
                problems.append(f"{sc.where(('zones', 'add', i, 'identifier'))}: zone {z['identifier']!r} "
                                "already exists (use zones.activate)")
        if not problems:
            scope = [hubs[sc.hub].id] if sc.hub else [h.id for h in hubs.values()]
            lo, hi = local_bounds(ZoneInfo(region.timezone), sc.date, sc.date)
            count = s.scalar(select(Order.id).where(
                Order.hub_id.in_(scope), Order.created_at >= lo, Order.created_at < hi,
                Order.state != OrderState.CANCELLED).limit(1))
            if count is None:
                problems.append(f"{sc.where(('base', 'date'))}: no orders on {sc.date.isoformat()}"
                                f"{' at hub ' + sc.hub if sc.hub else ''}: choose a recorded day"
                                f"{_recorded_days(s, scope, ZoneInfo(region.timezone))}")
    if problems:
        raise ScenarioError([f"{sc.source}: {p}" for p in problems])


def _recorded_days(s: Any, hub_ids: list[str], tz: ZoneInfo) -> str:
    times = s.scalars(select(Order.created_at).where(Order.hub_id.in_(hub_ids)).order_by(
        Order.created_at.desc()).limit(2000))
    days = sorted({t.astimezone(tz).date().isoformat() for t in times}, reverse=True)[:5]
    return f" (recent days with orders: {', '.join(days)})" if days else " (the database has no orders)"


# --- snapshot ----------------------------------------------------------------------------------------

COPIED = (Region, Hub, Resident, Volunteer, Drone, Road, Zone)
SCRUB = {Resident: {"name": "", "phone": "", "notes": ""}, Volunteer: {"name": "", "phone": ""}}


def scratch(path: Path) -> Database:
    """A scratch SQLite database with the current schema (``create_all``: a throw-away copy needs
    no migration history; tests/dispatch/test_db.py keeps models and migration equal)."""
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    return db


def snapshot(db: Database, sc: Scenario, path: Path) -> None:
    """Copy the region and the base day's orders (reset to ``confirmed``) into ``path``."""
    target = scratch(path)
    try:
        with db.read() as s:
            region = region_of(s, sc.data["base"].get("region"))
            tz = ZoneInfo(region.timezone)
            rows: dict[Any, list[dict[str, Any]]] = {}
            for model in COPIED:
                table = model.__table__
                query = select(table).where(table.c.id == region.id) if model is Region else \
                    select(table).where(table.c.region_id == region.id)
                rows[model] = [{**dict(r), **SCRUB.get(model, {})} for r in s.execute(query).mappings()]
            lo, hi = local_bounds(tz, sc.date, sc.date)
            hubs = {h["code"]: h["id"] for h in rows[Hub]}
            query = select(Order.__table__).where(Order.region_id == region.id, Order.created_at >= lo,
                                                  Order.created_at < hi, Order.state != OrderState.CANCELLED)
            if sc.hub:
                query = query.where(Order.hub_id == hubs[sc.hub])
            orders = [{**dict(r), "state": OrderState.CONFIRMED, "batch_id": None, "entered_by_user_id": None,
                       "proxy_id": None, "request_text": "", "note": "", "pin_hash": None, "pin_attempts": 0,
                       "pin_locked": False, "force_ground": False}
                      for r in s.execute(query).mappings()]
        with target.write() as t:
            for model in COPIED:
                if rows[model]:
                    t.execute(insert(model.__table__), rows[model])
            if orders:
                t.execute(insert(Order.__table__), orders)
    finally:
        target.dispose()


# --- changes -----------------------------------------------------------------------------------------


def apply_changes(db: Database, sc: Scenario, extra_drones: int = 0, extra_volunteers: int = 0) -> None:
    """Apply the scenario's changes to a scratch copy (plus a sweep point's added units)."""
    d = sc.data
    with db.write() as s:
        region = s.scalars(select(Region)).one()
        hubs = {h.code: h for h in s.scalars(select(Hub))}
        for i, h in enumerate(d.get("hubs", {}).get("add", [])):
            hub = Hub(region_id=region.id, code=h["code"], name=h.get("name", h["code"]), kind="hub",
                      drone_port=h.get("drone_port", False), opens=_time(h.get("opens", "08:00")),
                      closes=_time(h.get("closes", "18:00")), cutoffs=h.get("cutoffs", ["10:00", "14:00"]),
                      lon=h["lon"], lat=h["lat"])
            s.add(hub)
            hubs[hub.code] = hub
            del i
        for m in d.get("hubs", {}).get("move", []):
            hubs[m["hub"]].lon, hubs[m["hub"]].lat = m["lon"], m["lat"]
        for code, times in d.get("hubs", {}).get("cutoffs", {}).items():
            hubs[code].cutoffs = list(times)
        s.flush()
        if d.get("hubs", {}).get("add") or d.get("hubs", {}).get("move"):
            _reassign_residents(s, region, [h for h in hubs.values() if h.kind == "hub"])
        drones = d.get("drones", {})
        if drones.get("remove"):
            s.execute(update(Drone).where(Drone.code.in_(drones["remove"])).values(status="maintenance"))
        if drones.get("set"):
            values = {k: v for k, v in drones["set"].items() if k != "hub"}
            query = update(Drone)
            if "hub" in drones["set"]:
                query = query.where(Drone.hub_id == hubs[drones["set"]["hub"]].id)
            s.execute(query.values(**values))
        adds = list(drones.get("add", []))
        sweep = d.get("sweep", {})
        if extra_drones:
            adds.append({**_template(adds, sweep["hub"]), "hub": sweep["hub"], "count": extra_drones})
        for n, item in enumerate(adds):
            hub = hubs[item["hub"]]
            hub.drone_port = True  # a drone needs a port: adding drones to a hub makes it one
            like = s.scalars(select(Drone).where(Drone.hub_id == hub.id).order_by(Drone.code)).first() \
                or s.scalars(select(Drone).order_by(Drone.code)).first()
            base = {k: getattr(like, k) for k in DRONE_DEFAULTS} if like is not None else DRONE_DEFAULTS
            for k in range(item["count"]):
                s.add(Drone(region_id=region.id, hub_id=hub.id, code=f"SC-{hub.code}-D{n + 1}-{k + 1}",
                            status="available", **{f: item.get(f, base[f]) for f in DRONE_DEFAULTS}))
        volunteers = d.get("volunteers", {})
        if volunteers.get("remove"):
            s.execute(update(Volunteer).where(Volunteer.code.in_(volunteers["remove"])).values(active=False))
        vadds = list(volunteers.get("add", []))
        if extra_volunteers:
            vadds.append({**_template(vadds, sweep["hub"]), "hub": sweep["hub"], "count": extra_volunteers})
        for n, item in enumerate(vadds):
            hub = hubs[item["hub"]]
            spec = {**VOLUNTEER_DEFAULTS, **{k: v for k, v in item.items() if k in VOLUNTEER_DEFAULTS}}
            for k in range(item["count"]):
                s.add(Volunteer(region_id=region.id, hub_id=hub.id, code=f"SC-{hub.code}-V{n + 1}-{k + 1}",
                                name="", phone="", mode=spec["mode"], capacity_kg=spec["capacity_kg"],
                                max_parcels=spec["max_parcels"], shift_start=_time(spec["shift_start"]),
                                shift_end=_time(spec["shift_end"]), days=list(spec["days"]), active=True))
        zones = d.get("zones", {})
        if zones.get("remove"):
            s.execute(delete(Zone).where(Zone.identifier.in_(zones["remove"])))
        if zones.get("activate"):
            s.execute(update(Zone).where(Zone.identifier.in_(zones["activate"])).values(active_override=True))
        if zones.get("deactivate"):
            s.execute(update(Zone).where(Zone.identifier.in_(zones["deactivate"])).values(active_override=False))
        for z in zones.get("add", []):
            ring = [list(p) for p in z["polygon"]]
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            geometry = {"type": "Polygon", "coordinates": [ring]}
            s.add(Zone(region_id=region.id, identifier=z["identifier"], name=z.get("name", z["identifier"]),
                       type=z["type"], buffer_m=z.get("buffer_m", 0.0), geometry=geometry, applicability=[],
                       feature={"type": "Feature", "geometry": geometry, "properties": {}}))


def _template(items: list[dict[str, Any]], hub: str) -> dict[str, Any]:
    same = [i for i in items if i.get("hub") == hub]
    return {k: v for k, v in (same or items or [{}])[0].items() if k not in ("hub", "count")}


def _time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def _reassign_residents(s: Any, region: Region, hubs: list[Hub]) -> None:
    """Each resident (and their unbatched orders) goes to the nearest village hub (straight line)."""
    residents = list(s.scalars(select(Resident)))
    if not residents or not hubs:
        return
    r = to_metric(region.crs, np.array([(x.lon, x.lat) for x in residents]))
    h = to_metric(region.crs, np.array([(x.lon, x.lat) for x in hubs]))
    nearest = np.sqrt(((r[:, None, :] - h[None, :, :]) ** 2).sum(axis=2)).argmin(axis=1)
    for resident, k in zip(residents, nearest, strict=True):
        if resident.hub_id != hubs[k].id:
            resident.hub_id = hubs[k].id
            s.execute(update(Order).where(Order.resident_id == resident.id, Order.batch_id.is_(None))
                      .values(hub_id=hubs[k].id))


# --- re-planning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    solution_limit: int = DEFAULT_SOLUTION_LIMIT

    @classmethod
    def of(cls, sc: Scenario) -> Limits:
        solve = sc.data.get("solve", {})
        return cls(float(solve.get("time_limit_s", DEFAULT_TIME_LIMIT_S)),
                   int(solve.get("solution_limit", DEFAULT_SOLUTION_LIMIT)))


def scope_codes(db: Database, sc: Scenario) -> list[str] | None:
    """Hub codes the scenario re-plans (the base hub and hubs it adds), None for the whole region."""
    if not sc.hub:
        return None
    return [sc.hub, *(h["code"] for h in sc.data.get("hubs", {}).get("add", []))]


#: ``progress(step, done, total)``: "snapshot", then "base" / "scenario" with cutoffs done of total.
StepProgress = Callable[..., None]


def _no_progress(step: str, done: int = 0, total: int = 0) -> None:
    del step, done, total


def replan_day(db: Database, day: dt.date, hub_codes: list[str] | None, limits: Limits,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Close every cutoff of the day (in time order, across hubs) and plan each batch; return the
    number of batches planned. Unserved orders return to ``confirmed`` and the next cutoff takes them.
    ``progress(done, total)`` is called after each cutoff (the web page shows it)."""
    with db.read() as s:
        region = s.scalars(select(Region)).one()
        tz = ZoneInfo(region.timezone)
        hubs = [h for h in s.scalars(select(Hub).where(Hub.kind == "hub"))
                if hub_codes is None or h.code in hub_codes]
    lo, hi = local_bounds(tz, day, day)
    instants = sorted((c, h.id) for h in hubs
                      for c in cutoff_instants(h.cutoffs or [], tz, lo - dt.timedelta(microseconds=1), hi))
    planned = 0
    for done, (cutoff, hub_id) in enumerate(instants, start=1):
        result = close_batch(db, hub_id, cutoff, now=cutoff)
        if result.order_ids:
            plan_batch(db, result.batch_id, time_limit_s=limits.time_limit_s,
                       solution_limit=limits.solution_limit)
            planned += 1
        if progress is not None:
            progress(done, len(instants))
    return planned


@dataclass
class Side:
    """One side of a comparison: its KPIs (scope total), the KPI table and the plans as GeoJSON."""

    kpis: Kpis
    csv: str
    plan_geojson: dict[str, Any]
    batches: int
    seconds: float


def plans_geojson(db: Database) -> dict[str, Any]:
    """Every latest plan version of the scratch copy as one FeatureCollection (routing's format)."""
    features: list[dict[str, Any]] = []
    with db.read() as s:
        newest: dict[str, Plan] = {}
        for plan in s.scalars(select(Plan).order_by(Plan.version)):
            newest[plan.batch_id] = plan
        docs = [(p.batch_id, p.problem, p.solution) for p in newest.values()]
    for batch_id, problem, solution in docs:
        pr = routing.problem_from_json(problem)
        features += routing.plan_geojson(pr, routing.solution_from_json(solution), batch_id)["features"]
    return {"type": "FeatureCollection", "features": features}


def run_side(snapshot_path: Path, sc: Scenario, workdir: Path, name: str, *, changes: bool,
             extra_drones: int = 0, extra_volunteers: int = 0, with_maps: bool = True,
             progress: Callable[[int, int], None] | None = None) -> Side:
    """Copy the snapshot, apply the changes (or not), re-plan the day and measure it."""
    started = time.perf_counter()
    path = workdir / f"{name}.sqlite"
    shutil.copyfile(snapshot_path, path)
    db = Database(f"sqlite:///{path}")
    try:
        if changes:
            apply_changes(db, sc, extra_drones, extra_volunteers)
        codes = scope_codes(db, sc)
        batches = replan_day(db, sc.date, codes, Limits.of(sc), progress)
        facts = load_facts(db, sc.date, sc.date, hub_codes=codes, plans="latest")
        scope = {h.id for h in facts.hubs.values() if codes is None or h.code in codes}
        kpis = compute(facts, scope, None, hub=",".join(codes) if codes else "all")
        table = kpi_table(facts)
        geo = plans_geojson(db) if with_maps else {"type": "FeatureCollection", "features": []}
    finally:
        db.dispose()
    return Side(kpis, table.to_csv(), geo, batches, round(time.perf_counter() - started, 2))


@contextmanager
def workspace(keep: Path | None = None) -> Iterator[Path]:
    """A scratch folder, removed afterwards unless ``keep`` names one to keep."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="hakobu-scenario-") as tmp:
        yield Path(tmp)


@dataclass
class ScenarioResult:
    scenario: Scenario
    base: Side
    changed: Side

    def comparison(self) -> list[tuple[str, object, object, object]]:
        return compare(self.base.kpis, self.changed.kpis)


def run_scenario(db: Database, sc: Scenario, *, workdir: Path | None = None,
                 progress: StepProgress | None = None) -> ScenarioResult:
    """Check the scenario against ``db``, snapshot the base day, re-plan base and scenario.

    ``progress(step, done, total)`` hears "snapshot", then each cutoff of "base" and "scenario"
    (the web page's background run shows it; the CLI passes none)."""
    report = progress or _no_progress
    check_against_database(db, sc)
    with workspace(workdir) as work:
        snap = work / "snapshot.sqlite"
        report("snapshot")
        snapshot(db, sc, snap)
        base = run_side(snap, sc, work, "base", changes=False,
                        progress=lambda done, total: report("base", done, total))
        changed = run_side(snap, sc, work, "scenario", changes=True,
                           progress=lambda done, total: report("scenario", done, total))
    return ScenarioResult(sc, base, changed)


def comparison_csv(result: ScenarioResult) -> str:
    lines = ["kpi,base,scenario,difference"]
    for label, a, b, diff in result.comparison():
        lines.append(",".join(_csv(v) for v in (label, a, b, diff)))
    return "\n".join(lines) + "\n"


def _csv(v: object) -> str:
    text = "" if v is None else str(v)
    return f'"{text}"' if "," in text else text


def write_outputs(result: ScenarioResult, out: Path, report_html: str | None = None) -> list[Path]:
    """comparison.csv, base/scenario KPI CSVs, both plans as GeoJSON, and the HTML report."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "comparison.csv": comparison_csv(result),
        "base_kpis.csv": result.base.csv,
        "scenario_kpis.csv": result.changed.csv,
        "base_plan.geojson": json.dumps(result.base.plan_geojson, ensure_ascii=False),
        "scenario_plan.geojson": json.dumps(result.changed.plan_geojson, ensure_ascii=False),
    }
    if report_html is not None:
        files["report.html"] = report_html
    written = []
    for name, content in files.items():
        (out / name).write_text(content, encoding="utf-8")
        written.append(out / name)
    return written


# --- sweeps ------------------------------------------------------------------------------------------


def sweep_points(sc: Scenario) -> list[tuple[int, int]]:
    sweep = sc.data.get("sweep", {})
    return list(itertools.product(sweep.get("drones", [0]), sweep.get("volunteers", [0])))


def _sweep_point(snapshot_path: str, sc: Scenario, drones: int, volunteers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="hakobu-sweep-") as tmp:
        side = run_side(Path(snapshot_path), sc, Path(tmp), "point", changes=True, extra_drones=drones,
                        extra_volunteers=volunteers, with_maps=False)
    return {"drones_added": drones, "volunteers_added": volunteers, "seconds": side.seconds,
            **side.kpis.row()}


Progress = Callable[[int, int, dict[str, object]], None]


def run_sweep(db: Database, sc: Scenario, *, workers: int | None = None,
              progress: Progress | None = None) -> list[dict[str, object]]:
    """Every sweep point in a process pool (spawned workers: no inherited database connections);
    ``progress(done, total, row)`` is called as each point finishes. Rows come back in grid order."""
    check_against_database(db, sc)
    points = sweep_points(sc)
    workers = max(1, min(workers or (os.cpu_count() or 1), len(points)))
    rows: dict[tuple[int, int], dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="hakobu-sweep-") as tmp:
        snap = Path(tmp) / "snapshot.sqlite"
        snapshot(db, sc, snap)
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_sweep_point, str(snap), sc, d, v): (d, v) for d, v in points}
            for done, future in enumerate(as_completed(futures), start=1):
                row = future.result()
                rows[futures[future]] = row
                if progress is not None:
                    progress(done, len(points), row)
    return [rows[p] for p in points]


def sweep_csv(rows: list[dict[str, object]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    lines = [",".join(columns)]
    lines += [",".join(_csv(row.get(c, "")) for c in columns) for row in rows]
    return "\n".join(lines) + "\n"
