"""A prefecture's cutoff: 50 hubs in several regions, 200 orders each, solved by 1, 2 and 4 workers.

The prefecture is generated from the Tajima sample: ``ceil(hubs / 3)`` copies of it loaded side by
side as regions ``pref-01``, ``pref-02`` … (three hubs with cutoffs each; a copy's hubs, residents,
couriers, drones and zones are its own), ``--orders`` orders per hub placed through the ordering
service (``create_order``) an hour before one common cutoff, and every hub's batch closed at that
cutoff by the batching service. Then, for each worker count, the same 50 batches are queued on
procrastinate (``HAKOBU_TASK_ENGINE=procrastinate``, the application's PostgreSQL on loopback) and
solved by that many ``procrastinate --app=dispatch.tasks.worker.app worker`` processes, started and
warmed up before the cutoff; the batches are put back to ``closed`` between rounds (each round adds
a plan version per batch, as a re-plan would).

Reported per round: wall time from the cutoff (the solves queued) to the last plan proposed, the
per-hub solve time (``Batch.solve_seconds``: build + solve + store), the workers' CPU time over
wall time × cores (from /proc), and the load average, since the machine is shared. Written to
``benchmarks/results/prefecture_day.md`` with the commit.

Run: ``python benchmarks/prefecture_day.py [--hubs 50] [--orders 200] [--workers 1,2,4]
[--solve-seconds 10] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]`` (a schema of its
own, ``hakobu_bench_prefecture_<pid>``, made afresh and dropped at the end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dispatch.db import Database  # noqa: E402
from dispatch.models import Batch, Hub, Plan, Resident  # noqa: E402
from dispatch.region.importer import load_region  # noqa: E402
from dispatch.region.reader import read_region  # noqa: E402
from dispatch.requests import ItemRequest  # noqa: E402
from dispatch.schema import upgrade  # noqa: E402
from dispatch.services.batching import close_batch  # noqa: E402
from dispatch.services.ordering import create_order  # noqa: E402
from dispatch.tasks.engine import ProcrastinateQueue  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "prefecture_day.md"
TAJIMA = REPO / "sample_regions" / "tajima"
SCHEMA = f"hakobu_bench_prefecture_{os.getpid()}"
TOKYO = ZoneInfo("Asia/Tokyo")
CUTOFF = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)  # a Tuesday: every Tajima hub has couriers
ITEMS = ([ItemRequest("米", 1)], [ItemRequest("パン", 2)], [ItemRequest("米", 1), ItemRequest("パン", 1)])


def fresh_database(pg: str) -> Database:
    admin = Database(pg)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    sep = "&" if "?" in pg else "?"
    db = Database(f"{pg}{sep}options=-csearch_path%3D{SCHEMA}")
    upgrade(db)
    return db


def drop_schema(pg: str) -> None:
    admin = Database(pg)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    admin.dispose()


def generate(db: Database, hubs: int, orders: int) -> list[str]:
    """The prefecture's regions, its orders, and its batches closed at the cutoff; the batch ids."""
    data = read_region(TAJIMA)
    per_region = sum(1 for h in data.hubs if h.cutoffs)
    for n in range(math.ceil(hubs / per_region)):
        load_region(db, data, code=f"pref-{n + 1:02d}")
    with db.read() as s:
        every_hub = s.scalars(select(Hub).order_by(Hub.region_id, Hub.code))
        hub_ids = [h.id for h in every_hub if h.cutoffs][:hubs]
    placed = CUTOFF - dt.timedelta(hours=1)
    for hub_id in hub_ids:
        with db.write() as s:
            residents = list(s.scalars(select(Resident).where(Resident.hub_id == hub_id)
                                       .order_by(Resident.code)))
            for i in range(orders):
                create_order(s, residents[i % len(residents)], ITEMS[i % len(ITEMS)], channel="web",
                             now=placed)
    return [close_batch(db, hub_id, CUTOFF, now=CUTOFF).batch_id for hub_id in hub_ids]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def workers_registered(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one())


def solve_round(db: Database, batch_ids: list[str], workers: int, solve_seconds: float) -> dict[str, object]:
    env = {**os.environ, "HAKOBU_DATABASE_URL": db.url, "HAKOBU_TASK_ENGINE": "procrastinate",
           "HAKOBU_SOLVE_TIME_LIMIT_S": str(solve_seconds), "PYTHONPATH": str(REPO)}
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_jobs; DELETE FROM procrastinate_workers"))
    procs = [subprocess.Popen([sys.executable, "-m", "procrastinate", "--app=dispatch.tasks.worker.app",
                               "worker", f"--name=bench-{i}"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
    try:
        deadline = time.monotonic() + 120
        while workers_registered(db) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2.0)  # imports done: the workers wait for jobs, as before a real cutoff
        load_before = os.getloadavg()
        cpu_before = sum(cpu_seconds(p.pid) for p in procs)
        cutoff = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        queue = ProcrastinateQueue(db.url)
        try:
            for batch_id in batch_ids:
                queue.solve(batch_id)
        finally:
            queue.shutdown()
        while True:
            with db.read() as s:
                states = list(s.scalars(select(Batch.state).where(Batch.id.in_(batch_ids))))
            if all(state in ("solved", "failed") for state in states):
                break
            time.sleep(0.5)
        polled_s = time.perf_counter() - started
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
        load_after = os.getloadavg()
        with db.read() as s:
            last_plan = s.scalar(select(Plan.created_at).where(Plan.batch_id.in_(batch_ids))
                                 .order_by(Plan.created_at.desc()).limit(1))
            rows = s.execute(select(Batch.state, Batch.solve_seconds).where(Batch.id.in_(batch_ids))).all()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    assert last_plan is not None
    last = last_plan if last_plan.tzinfo else last_plan.replace(tzinfo=dt.UTC)
    wall = (last - cutoff).total_seconds()
    solves = sorted(s for _state, s in rows if s is not None)
    ended = [state for state, _s in rows]
    return {"workers": workers, "wall": wall, "polled": polled_s,
            "solved": ended.count("solved"), "failed": ended.count("failed"),
            "median": statistics.median(solves), "p90": solves[int(0.9 * (len(solves) - 1))],
            "max": solves[-1], "cpu": cpu / (polled_s * (os.cpu_count() or 1)),
            "load": (load_before[0], load_after[0])}


def reset(db: Database, batch_ids: list[str]) -> None:
    with db.write() as s:
        s.execute(update(Batch).where(Batch.id.in_(batch_ids)).values(state="closed", attempts=0, reason="",
                                                                        solve_seconds=None, solved_at=None))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hubs", type=int, default=50)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--solve-seconds", type=float, default=10.0)
    parser.add_argument("--schema", default=None,
                        help="Reuse this schema's generated prefecture (migrated to the newest revision, "
                             "its batches put back to closed) instead of generating one.")
    parser.add_argument("--pg", default=os.environ.get("HAKOBU_TEST_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.schema:
        global SCHEMA
        SCHEMA = args.schema
        db = Database(f"{args.pg}{'&' if '?' in args.pg else '?'}options=-csearch_path%3D{SCHEMA}")
        upgrade(db)
        with db.read() as s:
            batch_ids = list(s.scalars(select(Batch.id).where(Batch.cutoff_at == CUTOFF)))
        reset(db, batch_ids)
    else:
        db = fresh_database(args.pg)
        batch_ids = generate(db, args.hubs, args.orders)
    generated_s = time.perf_counter() - started
    print(f"prefecture generated: {len(batch_ids)} hubs × {args.orders} orders in {generated_s:.0f} s",
          flush=True)
    rounds = []
    for n, workers in enumerate(int(w) for w in args.workers.split(",")):
        if n:
            reset(db, batch_ids)
        result = solve_round(db, batch_ids, workers, args.solve_seconds)
        print(result, flush=True)
        rounds.append(result)
    db.dispose()
    drop_schema(args.pg)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    base = rounds[0]["wall"]
    lines = [
        "# A prefecture's cutoff", "",
        f"Commit {commit}. {len(batch_ids)} hubs in {math.ceil(args.hubs / 3)} regions (copies of the Tajima "
        f"sample), {args.orders} orders each, one cutoff; solver time limit {args.solve_seconds:g} s per hub "
        f"(`HAKOBU_SOLVE_TIME_LIMIT_S`); procrastinate workers on this machine ({os.cpu_count()} cores, "
        "shared with other work), PostgreSQL on loopback. Generating and closing the prefecture took "
        f"{generated_s:.0f} s (not in the figures).", "",
        "| workers | cutoff → last plan | vs 1 worker | solved / failed | per-hub solve median | p90 | max "
        "| CPU use (of all cores) | load average before → after |",
        "|---|---|---|---|---|---|---|---|---|",
        *[f"| {r['workers']} | {r['wall']:.0f} s | {base / r['wall']:.2f}× | {r['solved']} / {r['failed']} "
          f"| {r['median']:.1f} s | {r['p90']:.1f} s | {r['max']:.1f} s | {r['cpu']:.0%} "
          f"| {r['load'][0]:.1f} → {r['load'][1]:.1f} |" for r in rounds],
        "", f"`python benchmarks/prefecture_day.py --hubs {args.hubs} --orders {args.orders} "
        f"--workers {args.workers} --solve-seconds {args.solve_seconds:g}`", ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
