"""Server time of the console's map pages for a hub day with 1,000 orders (issue 6, item 3).

A temporary SQLite database gets the Tajima sample region and one hub day at Izushi: N orders
placed through the real ordering service, the batch closed at the 10:00 cutoff, and a *synthetic*
plan stored through the real ``save_version`` (every order delivered: the hub's few volunteers
share them in angular sweeps, a drone flies a few sorties). The plan is synthetic because no real
day has 1,000 orders for four couriers: the solver would leave most unserved and the page would
not show the load we want to measure. The validator reports the synthetic plan's violations, as
it would for any plan.

Each page is measured in its own fresh process (as after a deploy: no Jinja or folium template
compiled, nothing cached in memory), fetched with the Flask test client as a signed-in admin: its
*first view* is the first fetch, *warm* the median of ``--runs`` fetches after it. Both are
reported as wall-clock seconds and the process's CPU seconds (the machine is shared, so wall time
includes waiting for a core), with the SQL statements of one warm fetch (a count that grows with
the orders would be an N+1 query). The 1,000-order pages are measured a second time with
``gc.freeze()`` after start-up, to show what the garbage collector costs. The reference is
measured in the same run:

* the same pages for a day with ``--reference-orders`` orders (100 by default);
* a naive folium map of the same plan: one ``folium.Marker`` per stop and one ``PolyLine`` per leg
  (what the console would be without clustering and one GeoJSON layer per route), rendered to HTML.

Run: ``python benchmarks/console_map.py [--orders 1000] [--runs 7]`` (prints the table and writes
``benchmarks/results/console_map.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
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


def page_child(url: str, path: str, runs: int, freeze: bool) -> None:
    """Measure one page in this fresh process (as after a deploy: no Jinja or folium template
    compiled, nothing cached): its first fetch, then ``runs`` more with their SQL statements;
    print them as JSON. ``freeze``: ``gc.freeze()`` once the app is up. Run by :func:`measure`."""
    app, client = signed_in_app(url)
    if freeze:
        gc.freeze()
    engine = app.extensions["hakobu"].db.engine
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    try:
        first = fetch(client, path)
        event.listen(engine, "before_cursor_execute", count)
        warm = [fetch(client, path) for _ in range(runs)]
    finally:
        app.extensions["hakobu"].db.dispose()
    print(json.dumps({"first": first, "warm": warm, "statements": statements[0] // runs}))


def measure(url: str, path: str, runs: int, freeze: bool = False) -> PageTimes:
    """One page's :class:`PageTimes`, measured in a fresh process (:func:`page_child`)."""
    command = [sys.executable, __file__, "--page", url, path, "--runs", str(runs)]
    out = subprocess.run(command + (["--gc-freeze"] if freeze else []), check=True,
                         capture_output=True, text=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return PageTimes(got["first"][0], got["first"][1], statistics.median(w for w, _c, _s in got["warm"]),
                     statistics.median(c for _w, c, _s in got["warm"]), got["statements"], got["first"][2])


def timed_pages(url: str, plan_id: str, runs: int, freeze: bool = False) -> dict[str, PageTimes]:
    """Each page measured in its own fresh process."""
    return {name: measure(url, path.format(plan_id=plan_id, day=DAY.isoformat()), runs, freeze)
            for name, path in PAGES.items()}


def naive_map(url: str, plan_id: str, runs: int) -> tuple[float, int]:
    """(median seconds, bytes) of a folium map with one Marker per stop and one PolyLine per leg
    (the legs of :func:`routing.plan_geojson`, as they are, not joined or simplified)."""
    from dispatch.models import Plan
    from dispatch.read.plans import plan_view

    db = Database(url)
    try:
        with db.read() as s:
            view = plan_view(s, plan_id)
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
    parser.add_argument("--page", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--gc-freeze", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.page:
        page_child(*args.page, runs=args.runs, freeze=args.gc_freeze)
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
        frozen = timed_pages(big_url, big_plan, args.runs, freeze=True)
        naive_s, naive_bytes = naive_map(big_url, big_plan, max(3, args.runs // 2))
    load_after = os.getloadavg()[0]

    n, r = args.orders, args.reference_orders
    lines = [
        "# Console map pages: server time for a hub day",
        "",
        f"Izushi hub, {DAY.isoformat()}, synthetic plan delivering every order; Flask test client, "
        "signed-in admin. *First view*: the page's first fetch in a fresh process (as after a deploy: "
        "no template compiled, nothing cached), one process per page. *Warm*: median of "
        f"{args.runs} fetches after it, in the same process. Wall-clock seconds, with the process's "
        "CPU seconds in brackets (the machine is shared: wall time includes waiting for a core). "
        "Reference columns measured in the same run.",
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
    lines += [
        "",
        f"The same {n}-order pages with `gc.freeze()` called once the app is up (as `hakobu serve` "
        "does): the objects of start-up (some 190,000, most of them pandas and scipy imported "
        "by folium and the routing code) leave the garbage collector's full collections, which "
        "otherwise cost 0.1-0.2 s in every second or third request of a large page.",
        "",
        "| page | first view (s) | warm (s) |",
        "|---|---:|---:|",
        *(f"| {name} | {t.first_wall:.3f} ({t.first_cpu:.3f}) | {t.warm_wall:.3f} ({t.warm_cpu:.3f}) |"
          for name, t in frozen.items()),
    ]
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
