"""Server time of the console's map pages for a hub day with 1,000 orders (issue 6, item 3).

A temporary SQLite database gets the Tajima sample region and one hub day at Izushi: N orders
placed through the real ordering service, the batch closed at the 10:00 cutoff, and a *synthetic*
plan stored through the real ``save_version`` (every order delivered: the hub's few volunteers
share them in angular sweeps, a drone flies a few sorties). The plan is synthetic because no real
day has 1,000 orders for four couriers: the solver would leave most unserved and the page would
not show the load we want to measure. The validator reports the synthetic plan's violations, as
it would for any plan.

Each page is fetched with the Flask test client as a signed-in admin. Its *first view* is the first
fetch in a fresh process (a subprocess per page, as after a deploy: no Jinja or folium template
compiled, nothing cached in memory); *warm* is the median of ``--runs`` fetches after a first one.
Both are reported as wall-clock seconds and the process's CPU seconds (the machine is shared, so
wall time includes waiting for a core), with the SQL statements of one warm fetch (a count that
grows with the orders would be an N+1 query). The reference is measured in the same run:

* the same pages for a day with ``--reference-orders`` orders (100 by default);
* a naive folium map of the same plan: one ``folium.Marker`` per stop and one ``PolyLine`` per leg
  (what the console would be without clustering and one GeoJSON layer per route), rendered to HTML.

Run: ``python benchmarks/console_map.py [--orders 1000] [--runs 7]`` (prints the table and writes
``benchmarks/results/console_map.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import folium
from sqlalchemy import event, select

import routing
from dispatch.db import Database
from dispatch.models import Batch, Hub, Resident
from dispatch.planning import build_problem
from dispatch.planning.store import save_version
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.requests import ItemRequest
from dispatch.schema import upgrade
from dispatch.services.batching import close_batch
from dispatch.services.ordering import place_order
from dispatch.services.users import upsert_user

REPO = Path(__file__).resolve().parent.parent
REGION = REPO / "sample_regions" / "tajima"
RESULTS = Path(__file__).resolve().parent / "results" / "console_map.md"
TOKYO = ZoneInfo("Asia/Tokyo")
#: A Tuesday: the Izushi volunteers with Tuesday shifts are on duty.
DAY = dt.date(2026, 3, 3)
CUTOFF = dt.datetime.combine(DAY, dt.time(10), TOKYO)
PASSWORD = "benchmark password"
HUB = "IZUSHI"


#: The files of a region folder (copied, so extra folders beside them do not matter here).
REGION_FILES = ("region.toml", "hubs.geojson", "residents.geojson", "roads.geojson", "zones.geojson",
                "volunteers.csv", "drones.csv")


def region_copy(folder: Path) -> Path:
    target = folder / REGION.name
    target.mkdir(exist_ok=True)
    for name in REGION_FILES:
        shutil.copyfile(REGION / name, target / name)
    return target


def hub_day(folder: Path, n_orders: int) -> tuple[str, str]:
    """Build the database for one hub day; returns (database URL, plan id)."""
    url = f"sqlite:///{folder / f'day{n_orders}.sqlite'}"
    db = Database(url)
    try:
        upgrade(db)
        load_region(db, read_region(region_copy(folder)))
        upsert_user(db, "admin@bench", "Bench admin", "admin", PASSWORD)
        with db.read() as s:
            hub_id = s.scalars(select(Hub.id).where(Hub.code == HUB)).one()
            residents = list(s.scalars(select(Resident.id).where(Resident.hub_id == hub_id)
                                       .order_by(Resident.code)))
        placed = CUTOFF - dt.timedelta(hours=2)
        for k in range(n_orders):
            place_order(db, residents[k % len(residents)], [ItemRequest("パン", 1)], channel="web",
                        now=placed + dt.timedelta(seconds=k))
        batch_id = close_batch(db, hub_id, CUTOFF, now=CUTOFF).batch_id
        with db.read() as s:
            batch = s.get(Batch, batch_id)
            assert batch is not None
            built = build_problem(s, batch)
        solution = synthetic_solution(built.problem)
        with db.write() as s:
            batch = s.get(Batch, batch_id)
            assert batch is not None
            plan = save_version(s, batch, built.problem, solution, built.excluded, note="synthetic")
            return url, plan.id
    finally:
        db.dispose()


def synthetic_solution(problem: routing.Problem) -> routing.Solution:
    """Every order delivered: a few drone sorties, the rest shared by the couriers in angular
    sweeps around the hub, timed at two minutes a stop (not a good plan; a big one)."""
    hub = problem.hub
    orders = sorted(problem.orders, key=lambda o: math.atan2(o.home[1] - hub.lat, o.home[0] - hub.lon))
    routes: list[routing.Route] = []
    flown = [o for o in orders if o.drop is not None][: 3 * len(problem.drones)]
    for k, order in enumerate(flown):
        drone = problem.drones[k % len(problem.drones)]
        start = 600 * k
        assert order.drop is not None
        stop = routing.Stop(order.id, "delivery", order.drop[0], order.drop[1], start + 300, start + 300,
                            start + 360, 0.0, 0, 3000)
        routes.append(routing.Route(drone.id, "drone", "direct", hub.id, hub.id, start, start + 660,
                                    (stop,), order.weight_kg, 1, 3000, sortie=k // len(problem.drones) + 1))
    ground = [o for o in orders if o not in flown]
    couriers = list(problem.vehicles)
    share = math.ceil(len(ground) / max(len(couriers), 1))
    for c, vehicle in enumerate(couriers):
        mine = ground[c * share:(c + 1) * share]
        if not mine:
            continue
        stops = tuple(routing.Stop(o.id, "delivery", o.home[0], o.home[1], 120 * (i + 1), 120 * (i + 1),
                                   120 * (i + 1) + 60, 0.0, 0, 500) for i, o in enumerate(mine))
        routes.append(routing.Route(vehicle.id, vehicle.mode, "ground", hub.id, hub.id, 0,
                                    120 * (len(mine) + 1), stops, sum(o.weight_kg for o in mine),
                                    len(mine), 500))
    return routing.Solution(routes=tuple(routes))


#: The pages measured, by name: their paths are filled in with the plan id and the day.
PAGES = {"plan page": "/plans/{plan_id}", "dashboard": "/", "handoff board": "/board?day={day}"}


@dataclass(frozen=True)
class PageTimes:
    """One page of one hub day: its first view in a fresh process and its warm fetches."""

    first_wall: float
    first_cpu: float
    warm_wall: float  # median
    warm_cpu: float  # median
    statements: int  # SQL statements of one warm fetch
    size: int  # bytes of the page


def signed_in_app(url: str) -> tuple[Any, Any]:
    """(app, test client) of a new app on ``url``, the benchmark admin signed in."""
    from web import create_app

    app = create_app({"database_url": url, "secret_key": "bench", "tiles": "none",
                      "outbox_worker": False, "TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    login = client.post("/login", data={"email": "admin@bench", "password": PASSWORD})
    assert login.status_code == 302, login.status_code
    return app, client


def fetch(client: Any, path: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, bytes) of one GET answered 200."""
    w0, c0 = time.perf_counter(), time.process_time()
    response = client.get(path)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert response.status_code == 200, (path, response.status_code)
    return wall, cpu, len(response.data)


def first_view_child(url: str, path: str) -> None:
    """In a fresh process (as after a deploy: nothing cached, no template compiled yet), print the
    first fetch of ``path`` as JSON. Run by :func:`first_view`."""
    app, client = signed_in_app(url)
    try:
        wall, cpu, size = fetch(client, path)
    finally:
        app.extensions["hakobu"].db.dispose()
    print(json.dumps({"wall": wall, "cpu": cpu, "size": size}))


def first_view(url: str, path: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--first-view", url, path], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed_pages(url: str, plan_id: str, runs: int) -> dict[str, PageTimes]:
    """Each page's first view (its own fresh process) and the medians of ``runs`` fetches after a
    first one in this process, with the SQL statements of a warm fetch."""
    paths = {name: path.format(plan_id=plan_id, day=DAY.isoformat()) for name, path in PAGES.items()}
    firsts = {name: first_view(url, path) for name, path in paths.items()}
    app, client = signed_in_app(url)
    engine = app.extensions["hakobu"].db.engine
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    out = {}
    try:
        for name, path in paths.items():
            fetch(client, path)
            statements[0] = 0
            warm = [fetch(client, path) for _ in range(runs)]
            n_statements = statements[0] // runs
            out[name] = PageTimes(firsts[name]["wall"], firsts[name]["cpu"],
                                  statistics.median(w for w, _c, _s in warm),
                                  statistics.median(c for _w, c, _s in warm), n_statements, warm[-1][2])
    finally:
        event.remove(engine, "before_cursor_execute", count)
        app.extensions["hakobu"].db.dispose()
    return out


def naive_map(url: str, plan_id: str, runs: int) -> tuple[float, int]:
    """(median seconds, bytes) of a folium map with one Marker per stop and one PolyLine per leg
    (the legs of :func:`routing.plan_geojson`, as they are, not joined or simplified)."""
    from dispatch.models import Plan
    from web.plan_queries import plan_view

    db = Database(url)
    try:
        view = plan_view(db, plan_id)
        with db.read() as s:
            plan = s.get(Plan, plan_id)
            assert plan is not None
            problem, solution = plan.problem, plan.solution
    finally:
        db.dispose()
    assert view is not None
    collection = routing.plan_geojson(routing.problem_from_json(problem),
                                      routing.solution_from_json(solution), view.batch_id)
    legs = [f for f in collection["features"] if f["geometry"]["type"] == "LineString"]
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        m = folium.Map(location=[view.hub_lat, view.hub_lon], zoom_start=12, tiles=None)
        for route in view.routes:
            for st in route.deliveries:
                folium.Marker([st.lat, st.lon], tooltip=f"#{st.number} {st.resident_code}").add_to(m)
        for leg in legs:
            drone = leg["properties"]["mode"] == "drone"
            folium.PolyLine([(lat, lon) for lon, lat in leg["geometry"]["coordinates"]],
                            dash_array="8 6" if drone else None).add_to(m)
        html = m.get_root().render()
        times.append(time.perf_counter() - t0)
        size = len(html)
    return statistics.median(times), size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--reference-orders", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--first-view", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_view:
        first_view_child(*args.first_view)
        return

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hakobu-console-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        big_url, big_plan = hub_day(folder, args.orders)
        small_url, small_plan = hub_day(folder, args.reference_orders)
        setup_s = time.perf_counter() - t0
        big = timed_pages(big_url, big_plan, args.runs)
        small = timed_pages(small_url, small_plan, args.runs)
        naive_s, naive_bytes = naive_map(big_url, big_plan, max(3, args.runs // 2))
    load_after = os.getloadavg()[0]

    n, r = args.orders, args.reference_orders
    lines = [
        "# Console map pages: server time for a hub day",
        "",
        f"Izushi hub, {DAY.isoformat()}, synthetic plan delivering every order; Flask test client, "
        "signed-in admin. *First view*: the page's first fetch in a fresh process (as after a deploy: "
        "no template compiled, nothing cached), one process per page. *Warm*: median of "
        f"{args.runs} fetches after a first one. Wall-clock seconds, with the process's CPU seconds "
        "in brackets (the machine is shared: wall time includes waiting for a core). Reference "
        "columns measured in the same run.",
        "",
        f"| page | {n} orders first view (s) | {n} orders warm (s) | SQL statements | KiB | "
        f"{r} orders first view (s) | {r} orders warm (s) | ratio {n}/{r} warm |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, big_t in big.items():
        ref = small[name]
        lines.append(
            f"| {name} | {big_t.first_wall:.3f} ({big_t.first_cpu:.3f}) | "
            f"{big_t.warm_wall:.3f} ({big_t.warm_cpu:.3f}) | {big_t.statements} (vs {ref.statements}) | "
            f"{big_t.size / 1024:.0f} | {ref.first_wall:.3f} ({ref.first_cpu:.3f}) | "
            f"{ref.warm_wall:.3f} ({ref.warm_cpu:.3f}) | {big_t.warm_wall / ref.warm_wall:.1f}x |")
    plan = big["plan page"]
    lines += [
        "",
        f"Naive folium map of the {n}-order plan (one Marker per stop, one PolyLine per leg), map only: "
        f"{naive_s:.3f} s, {naive_bytes / 1024:.0f} KiB; the whole clustered plan page (map, tables, "
        f"forms) takes {plan.warm_wall:.3f} s warm ({plan.warm_wall / naive_s:.2f}x the naive map alone) "
        f"and {plan.size / 1024:.0f} KiB ({plan.size / naive_bytes:.2f}x its size).",
        "",
        f"Setup (two databases, {n + r} orders placed through the ordering service, plans stored "
        f"through save_version): {setup_s:.1f} s. Machine: {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), load average {load_before:.1f} before and "
        f"{load_after:.1f} after the run; Python {platform.python_version()}.",
        "",
        "Reproduce: `.venv/bin/python benchmarks/console_map.py "
        f"--orders {n} --reference-orders {r} --runs {args.runs}`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
