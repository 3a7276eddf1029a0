"""Replay, plan edits and force ground on the demo data (issue 16, item 8).

A temporary SQLite database is prepared as ``hakobu demo`` prepares its own (the Tajima sample
region, demo accounts, yesterday as a simulated day for planners, today's 30 orders closed and
solved into three proposed plans), then the console is asked, through the Flask test client as
the operator and the planner would ask it:

* **replay**: ``GET /planner/replay`` of the simulated day (first view, then the median of
  ``--runs`` more);
* **plan edit**: ``POST /plans/<id>/move`` of a delivery to the front of a courier's route (each
  edit on the version the previous one made), and ``POST /plans/<id>/undo``;
* **force ground**: ``POST /plans/<id>/ground`` of a drone-served order (a local change: off the
  sortie, cheapest insertion on a courier), after an undo each time.

References measured in the same run: the plan page (``GET /plans/<id>``, warm median), the
ratios dividing each figure by it; and for force ground the full re-plan it replaces
(:func:`dispatch.services.plans.force_ground`: the batch solved again, ``--solve-seconds``).

Run: ``python benchmarks/plan_edits.py [--runs 5] [--solve-seconds 10]`` (prints the table and writes
``benchmarks/results/plan_edits.md``). About a minute on two cores; most of it building the demo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
REGION = REPO / "sample_regions" / "tajima"
RESULTS = Path(__file__).resolve().parent / "results" / "plan_edits.md"
PASSWORD = "benchmark password"


def build_demo(url: str, solve_seconds: float) -> dt.date:
    """The demo's database at ``url``, as ``hakobu demo`` builds it; returns the simulated day."""
    from dispatch.config import Settings
    from dispatch.db import Database
    from dispatch.demo import seed_demo, seed_demo_day, seed_demo_plans, seed_simulated_day
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region
    from dispatch.schema import upgrade
    from dispatch.simulate import simulated_days
    from web import simulate_cli

    db = Database(url)
    try:
        upgrade(db)
        report = load_region(db, read_region(REGION))
        seed_demo(db, report.region_code, PASSWORD)
        settings = Settings(secret_key="bench", public_url="http://127.0.0.1:5000")
        sms = simulate_cli.RealSms(db, settings)
        seed_simulated_day(db, report.region_code, REGION, sms, settings, orders=30, echo=lambda _l: None)
        seed_demo_day(db, report.region_code, sms.receive)
        seed_demo_plans(db, report.region_code, time_limit_s=solve_seconds)
        return simulated_days(db, report.region_code)[-1]
    finally:
        db.dispose()


def client_as(app: Any, email: str) -> Any:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, (email, response.status_code)
    return client


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def edit_target(db: Any) -> tuple[str, str, str, tuple[str, str] | None]:
    """From the demo's proposed plans: (plan id, the last delivery of a courier route with two or
    more, that courier's id, (plan id, order id) of a drone-served delivery or None)."""
    from dispatch.lifecycle import PlanState
    from dispatch.models import Plan

    edit: tuple[str, str, str] | None = None
    flown: tuple[str, str] | None = None
    with db.read() as s:
        for plan in s.scalars(select(Plan).where(Plan.state == PlanState.PROPOSED).order_by(Plan.created_at)):
            couriers = [r for r in plan.routes
                        if r.volunteer_id and sum(st.kind == "delivery" for st in r.stops) > 1]
            if couriers and edit is None:
                last = [st.order_id for st in couriers[0].stops if st.kind == "delivery"][-1]
                edit = (plan.id, last, couriers[0].volunteer_id or "")
            drone = next((st.order_id for r in plan.routes if r.drone_id for st in r.stops
                          if st.kind == "delivery"), None)
            if drone is not None and flown is None:
                flown = (plan.id, drone)
    if edit is None:
        raise SystemExit("no proposed demo plan has a courier route with two deliveries")
    # Some demo days fly no sortie: then a courier's delivery, taken off and put back by the same
    # removal and cheapest insertion.
    return (*edit, flown or (edit[0], edit[1]))


def latest(db: Any, plan_id: str) -> str:
    from dispatch.models import Plan

    with db.read() as s:
        batch = s.get_one(Plan, plan_id).batch_id
        return s.scalars(select(Plan.id).where(Plan.batch_id == batch).order_by(Plan.version.desc())).first()


def measure(url: str, day: dt.date, runs: int, solve_seconds: float) -> list[tuple[str, float, str]]:
    from dispatch.services import plans as plan_service
    from web import create_app

    app = create_app({"database_url": url, "secret_key": "bench", "tiles": "none", "outbox_worker": False,
                      "TESTING": True, "WTF_CSRF_ENABLED": False})
    db = app.extensions["hakobu"].db
    planner, operator = client_as(app, "planner@demo"), client_as(app, "operator@demo")
    plan_id, order_id, courier, flown = edit_target(db)
    rows: list[tuple[str, float, str]] = []

    def page(client: Any, path: str) -> float:
        seconds, response = timed(lambda: client.get(path))
        assert response.status_code == 200, (path, response.status_code)
        return seconds

    replay = f"/planner/replay?from={day.isoformat()}&to={day.isoformat()}"
    rows.append(("replay, first view", page(planner, replay), "s"))
    rows.append(("replay, warm median", statistics.median(page(planner, replay) for _ in range(runs)), "s"))
    page(operator, f"/plans/{plan_id}")
    reference = statistics.median(page(operator, f"/plans/{plan_id}") for _ in range(runs))
    rows.append(("plan page (reference), warm median", reference, "s"))

    def post(path: str, **data: str) -> float:
        seconds, response = timed(lambda: operator.post(path, data=data))
        assert response.status_code == 302, (path, response.status_code)
        return seconds

    moves, undos = [], []
    for _ in range(runs):
        current = latest(db, plan_id)
        moves.append(post(f"/plans/{current}/move", order_id=order_id, vehicle=courier, position="1"))
        undos.append(post(f"/plans/{latest(db, plan_id)}/undo"))
    rows.append(("plan edit (move a stop), median", statistics.median(moves), "s"))
    rows.append(("undo (restore the version before), median", statistics.median(undos), "s"))
    if flown is not None:  # always, since a courier's order stands in on a day without sorties
        ground_plan, flown_order = flown
        grounds = []
        for _ in range(runs):
            grounds.append(post(f"/plans/{latest(db, ground_plan)}/ground", order_id=flown_order))
            post(f"/plans/{latest(db, ground_plan)}/undo")
        what = "a drone-served order" if flown_order != order_id else "a courier's order (no sortie today)"
        rows.append((f"force ground, local change ({what}), median", statistics.median(grounds), "s"))
        full, _ = timed(lambda: plan_service.force_ground(db, latest(db, ground_plan), flown_order,
                                                          time_limit_s=solve_seconds))
        rows.append((f"force ground, full re-plan (reference, {solve_seconds:g} s budget)", full, "s"))
        rows.append(("force ground: local / full re-plan", statistics.median(grounds) / full, "ratio"))
    for name in ("replay, warm median", "plan edit (move a stop), median"):
        value = next(v for n, v, _u in rows if n == name)
        rows.append((f"{name.split(',')[0]} / plan page", value / reference, "ratio"))
    db.dispose()
    return rows


def table(rows: list[tuple[str, float, str]]) -> str:
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value:.3f}{' s' if unit == 's' else '×'} |" for name, value, unit in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--solve-seconds", type=float, default=10.0,
                        help="budget of the demo's solves and of the full re-plan (the console's default)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite'}"
        built, day = timed(lambda: build_demo(url, min(args.solve_seconds, 3.0)))
        rows = measure(url, day, args.runs, args.solve_seconds)
    text = (f"# Replay, plan edits and force ground on the demo data\n\n"
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
            f"load {os.getloadavg()[0]:.1f}; demo built in {built:.0f} s; `python benchmarks/plan_edits.py "
            f"--runs {args.runs} --solve-seconds {args.solve_seconds:g}`\n\n{table(rows)}\n")
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
