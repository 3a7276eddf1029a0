"""What reading public data costs (issue 20): OSM roads, a GTFS-JP feed, bus legs in a plan.

Each figure has a reference measured in the same run, so the ratio says what Hakobu adds:

- ``region import-osm`` on the OSM test extract (``tests/data/osm/kotka_karhula.osm.pbf``)
  against one bare pyosmium pass over the same file with node locations (the least any reader
  must do);
- reading the Nyuzen town bus's GTFS-JP feed (``../shared/gtfs/nyuzen``, skipped when absent) with
  :func:`dispatch.region.gtfs.read_trips` against ``gtfs_kit.read_feed`` alone;
- :func:`routing.bus.plan_bus_legs` for 60 orders and 15 trips on the tiny region against
  building the travel matrices it needs (``routing.travel.matrices.build_travel``).

Usage::

    .venv/bin/python benchmarks/public_data.py [--repeat 5]

Prints a table and writes it to ``benchmarks/results/public_data.md`` (medians of ``--repeat``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import osmium

import routing
from dispatch.region.gtfs import read_trips
from dispatch.region.osm import parse_area, roads_from_osm
from routing.bus import BusTrip, Call, plan_bus_legs
from routing.travel.matrices import build_travel

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "public_data.md"
EXTRACT = ROOT / "tests" / "data" / "osm" / "kotka_karhula.osm.pbf"
NYUZEN = ROOT.parent / "shared" / "gtfs" / "nyuzen"


def median_s(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bare_osmium_pass() -> int:
    count = 0
    for obj in osmium.FileProcessor(str(EXTRACT), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        count += obj.is_way()
    return count


def tiny_problem(n_orders: int) -> routing.Problem:
    """The tiny region's roads and hub, ``n_orders`` homes spread along its valley road, a walker."""
    hub = routing.Place("H1", 134.86, 35.569865)
    roads = [
        routing.Road(f"r{i}", "secondary", ((134.86 + 0.0044 * i, 35.57), (134.86 + 0.0044 * (i + 1), 35.57)))
        for i in range(3)
    ]
    roads.append(routing.Road("r00", "local", ((134.86, 35.569865), (134.86, 35.57))))
    orders = [
        routing.Order(
            f"o{k}",
            0.5,
            (134.861 + 0.012 * k / n_orders, 35.5702),
            (0, 8 * 3600),
            "H1",
            modes=frozenset({"walk"}),
        )
        for k in range(n_orders)
    ]
    walker = routing.Vehicle("v1", "walk", 8, 4, 0, 8 * 3600, "H1", "H1")
    return routing.Problem(
        crs="EPSG:6673",
        timezone="Asia/Tokyo",
        t0=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
        hub=hub,
        vehicles=(walker,),
        orders=tuple(orders),
        roads=tuple(roads),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    rows: list[tuple[str, float, str, float]] = []
    area = parse_area("26.93,60.52,26.97,60.54")
    rows.append(
        (
            "import-osm, Karhula extract (544 segments)",
            median_s(lambda: roads_from_osm(EXTRACT, area), repeat),
            "bare pyosmium pass with locations",
            median_s(bare_osmium_pass, repeat),
        )
    )
    if NYUZEN.is_dir():
        import gtfs_kit

        def bare_feed() -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return gtfs_kit.read_feed(NYUZEN, dist_units="km")

        rows.append(
            (
                "read_trips, Nyuzen GTFS-JP (15 trips, 358 stop times)",
                median_s(lambda: read_trips(NYUZEN), repeat),
                "gtfs_kit.read_feed alone",
                median_s(bare_feed, repeat),
            )
        )
    problem = tiny_problem(60)
    params = routing.SolveParams(time_limit_s=1.0)
    travel = build_travel(problem, params)
    trips = [
        BusTrip(
            f"t{i}",
            (
                Call("S0", 134.8601, 35.5699, 3600 + 600 * i, 3600 + 600 * i),
                Call("S7", 134.8729, 35.5702, 4800 + 600 * i, 4800 + 600 * i),
            ),
            4,
            20.0,
        )
        for i in range(15)
    ]
    rows.append(
        (
            "plan_bus_legs, 60 orders x 15 trips",
            median_s(lambda: plan_bus_legs(problem, travel, trips), repeat),
            "build_travel for those 60 homes",
            median_s(lambda: build_travel(problem, params), repeat),
        )
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    load = os.getloadavg()[0]
    lines = [
        f"# Reading public data (commit {commit}, median of {repeat}, "
        f"load {load:.1f} on {os.cpu_count()} cores)",
        "",
        "| what | seconds | reference | seconds | × reference |",
        "|---|---:|---|---:|---:|",
    ]
    lines += [f"| {a} | {ta:.3f} | {b} | {tb:.3f} | {ta / tb:.2f} |" for a, ta, b, tb in rows]
    lines += [
        "",
        "On a loaded machine the ratios move by tens of percent between runs: compare within one run.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
