"""The planner page's scenarios run in a background worker process, never inside the request.

Real parts only: the Flask test client, a real SQLite file (or PostgreSQL), real ``spawn``-ed worker
processes and real OR-Tools solves. Planners and admins only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from dispatch.db import Database
from dispatch.models import Drone, ScenarioRun, utcnow
from dispatch.studies.runs import ScenarioRunPool, settle, submit_run
from dispatch.tasks.local import LocalQueue
from tests.studies.day import DAY, record_day, two_more_drones
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.db

POOL = "hakobu_scenario_runs"
GOOD = two_more_drones("two drones", time_limit_s=10, solution_limit=30)


@pytest.fixture
def pool(app: Flask, database_url: str) -> Iterator[ScenarioRunPool]:
    """The web process's pool, installed before the first request so the test can wait on it and
    shut it down (its worker processes are killed) when the test ends."""
    runs = ScenarioRunPool(database_url, hard_timeout_s=180)
    app.extensions[POOL] = LocalQueue(Database(database_url), runs=runs)
    yield runs
    runs.shutdown()


def _submit(client: FlaskClient, **fields: str) -> tuple[int, str]:
    token = csrf_token(client, "/planner/scenario")
    data = {"csrf_token": token, "date": DAY.isoformat(), "hub": "H1", "drones": "2", "volunteers": "0",
            "volunteer_mode": "car", **fields}
    response = client.post("/planner/scenario", data=data)
    return response.status_code, response.headers.get("Location", "")


def _run_id(location: str) -> str:
    match = re.search(r"/planner/scenario/runs/([\w-]+)$", location)
    assert match, location
    return match.group(1)


def test_the_form_returns_at_once_and_the_run_page_shows_base_vs_scenario(
        client: FlaskClient, make_user: Callable[..., str], db: Database, tiny_region: str,
        pool: ScenarioRunPool) -> None:
    with db.write() as s:
        s.execute(update(Drone).values(status="maintenance"))
    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    login(client, make_user("planner"))
    status, location = _submit(client)
    assert status == 302
    run_id = _run_id(location)
    assert settle(db, run_id).state in ("queued", "running")  # the request did not wait for the solve
    page = client.get(location).get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in page and 'data-kpi="drone sorties"' not in page
    assert re.search(r'data-state="(queued|running)"', page)

    assert pool.wait_idle(180), "the run did not end"
    run = settle(db, run_id)
    assert run.state == "done", run.reason
    assert run.pid is not None and run.pid != os.getpid()  # solved in another process
    page = client.get(location).get_data(as_text=True)  # a reload: the result is in the database
    assert '<meta http-equiv="refresh"' not in page
    row = re.search(r'<tr data-kpi="drone sorties">(.*?)</tr>', page, re.S)
    assert row, page[:3000]
    base, changed, diff = re.findall(r"<td>([^<]*)</td>", row.group(1))
    assert base == "0" and int(changed) > 0 and diff == changed
    assert page.count('class="folium-map"') == 2
    listing = client.get("/planner/scenario").get_data(as_text=True)
    assert f'<tr data-run="{run_id}" data-state="done">' in listing and "+2 drones" in listing
    japanese = client.get(f"{location}?lang=ja").get_data(as_text=True)
    assert "最近の実行" in japanese and "Recent runs" not in japanese and "バッチ（" in japanese


def test_bad_input_is_named_on_the_form_and_queues_nothing(
        client: FlaskClient, make_user: Callable[..., str], db: Database, tiny_region: str,
        pool: ScenarioRunPool) -> None:
    record_day(db)
    login(client, make_user("planner"))
    token = csrf_token(client, "/planner/scenario")
    data = {"csrf_token": token, "date": DAY.isoformat(), "hub": "H1", "drones": "2", "volunteers": "0",
            "volunteer_mode": "car", "cutoffs": "25:00"}
    page = client.post("/planner/scenario", data=data).get_data(as_text=True)
    assert "hubs.cutoffs.H1" in page and "HH:MM" in page
    page = client.post("/planner/scenario", data={**data, "cutoffs": "", "date": "2030-01-01"}
                       ).get_data(as_text=True)
    assert "base.date: no orders on 2030-01-01" in page
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ScenarioRun)) == 0
    assert not pool.in_flight()


def test_a_worker_that_raises_ends_failed_with_the_reason(
        client: FlaskClient, make_user: Callable[..., str], db: Database, tiny_region: str,
        pool: ScenarioRunPool) -> None:
    """A file that no longer checks when the worker reads it (the hub was renamed since): the worker
    raises, and the run ends failed saying why."""
    record_day(db)
    run_id = submit_run(db, GOOD.replace('hub = "H1"\n[solve]', 'hub = "GONE"\n[solve]'), "renamed hub")
    assert pool.submit(run_id)
    assert pool.wait_idle(120)
    run = settle(db, run_id)
    assert run.state == "failed" and "no hub 'GONE'" in run.reason and run.result is None
    login(client, make_user("admin"))
    page = client.get(f"/planner/scenario/runs/{run_id}").get_data(as_text=True)
    assert 'data-state="failed" role="alert"' in page and "no hub &#39;GONE&#39;" in page
    assert '<meta http-equiv="refresh"' not in page


def test_a_worker_killed_during_the_run_ends_failed(db: Database, tiny_region: str,
                                                   pool: ScenarioRunPool) -> None:
    record_day(db)
    run_id = submit_run(db, GOOD, "killed")
    assert pool.submit(run_id)
    deadline = time.monotonic() + 30
    while (pid := pool.pid_of(run_id)) is None:
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)  # the worker this test started, still importing its solver
    assert pool.wait_idle(60)
    run = settle(db, run_id)
    assert run.state == "failed" and "killed by SIGKILL" in run.reason


def test_a_run_past_the_hard_timeout_is_killed_and_failed(app: Flask, database_url: str, db: Database,
                                                          tiny_region: str) -> None:
    record_day(db)
    quick = ScenarioRunPool(database_url, hard_timeout_s=0.5)
    try:
        run_id = submit_run(db, GOOD, "too slow")
        assert quick.submit(run_id)
        assert quick.wait_idle(60)
    finally:
        quick.shutdown()
    run = settle(db, run_id)
    assert run.state == "failed" and "timed out: still running after 0.5 s, killed" in run.reason


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_left_running_by_a_dead_process_is_shown_failed(
        client: FlaskClient, make_user: Callable[..., str], db: Database, tiny_region: str) -> None:
    """Left ``running`` by a worker that died with its web server: on this host the pid is gone; on
    another the heartbeat stopped. Either is shown failed with the reason when next looked at."""
    local, remote = submit_run(db, GOOD, "local"), submit_run(db, GOOD, "remote")
    waiting = submit_run(db, GOOD, "waiting")  # queued by a web process that died before starting it
    old = utcnow() - dt.timedelta(minutes=5)
    with db.write() as s:
        s.execute(update(ScenarioRun).where(ScenarioRun.id == waiting).values(pid=_dead_pid()))
        s.execute(update(ScenarioRun).where(ScenarioRun.id == local).values(
            state="running", pid=_dead_pid(), host=socket.gethostname(), heartbeat_at=utcnow()))
        s.execute(update(ScenarioRun).where(ScenarioRun.id == remote).values(
            state="running", pid=1, host="another-host", heartbeat_at=old, started_at=old))
    login(client, make_user("planner"))
    page = client.get(f"/planner/scenario/runs/{local}").get_data(as_text=True)
    assert 'data-state="failed"' in page and "is gone; it stopped without finishing" in page
    listing = client.get("/planner/scenario").get_data(as_text=True)
    assert f'<tr data-run="{remote}" data-state="failed">' in listing and "stopped answering" in listing
    assert f'<tr data-run="{waiting}" data-state="failed">' in listing
    assert "stopped before the run started" in listing
    with db.read() as s:
        assert {r.state for r in s.scalars(select(ScenarioRun))} == {"failed"}


def test_operators_get_no_run_page(app: Flask, client: FlaskClient, make_user: Callable[..., str],
                                   db: Database, tiny_region: str) -> None:
    run_id = submit_run(db, GOOD, "private")
    login(client, make_user("operator"))
    assert client.get(f"/planner/scenario/runs/{run_id}").status_code == 403
    planner = app.test_client()
    login(planner, make_user("planner"))
    assert planner.get(f"/planner/scenario/runs/{run_id}").status_code == 200
    assert planner.get("/planner/scenario/runs/nosuchrun").status_code == 404
