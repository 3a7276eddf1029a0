"""The scheduler: solves in worker processes (crash, timeout, retry), the leader lock, job sync, and
real scheduler processes started together, killed with SIGKILL and restarted later.

The planners below are test doubles of ``dispatch.planning.plan_batch`` (not written yet) at the
process boundary: a spawned worker or a ``--planner`` scheduler imports them from this module. They
record what they saw in the JSON-lines file named by ``HAKOBU_TEST_PLAN_LOG``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from sqlalchemy import select, text

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Batch, Hub, Order
from dispatch.scheduler import JOBS_TABLE, BatchScheduler, leader_lock_for, sync_jobs
from dispatch.scheduler_cli import batch_group
from dispatch.services.batching import close_batch
from dispatch.services.solving import (
    PlanBatch,
    SolvePool,
    batch_state,
    requeue_interrupted,
    retry_batch,
    solve_batch,
)
from dispatch.tasks.local import LocalQueue
from tests.dispatch.test_batching import batch_of, batches, jst, make_hub, make_order
from tests.processes import LoggedProcess, wait_for

REPO = Path(__file__).resolve().parents[2]
PLANNERS = "tests.dispatch.test_scheduler"

pytestmark = pytest.mark.db


# --- planners (test doubles at the process boundary) -------------------------------------------

def recording_planner(db: Database, batch_id: str) -> str:
    """Record the batch's orders and this process id, then sleep ``HAKOBU_TEST_PLAN_SLEEP`` s."""
    with db.read() as s:
        order_ids = sorted(s.scalars(select(Order.id).where(Order.batch_id == batch_id)))
    with open(os.environ["HAKOBU_TEST_PLAN_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"batch": batch_id, "orders": order_ids, "pid": os.getpid()}) + "\n")
    time.sleep(float(os.environ.get("HAKOBU_TEST_PLAN_SLEEP", "0")))
    return f"plan-of-{batch_id}"


def failing_planner(db: Database, batch_id: str) -> str:
    raise ValueError("no volunteer on shift")


def crashing_planner(db: Database, batch_id: str) -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def plan_log(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def plan_log_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "plans.jsonl"
    monkeypatch.setenv("HAKOBU_TEST_PLAN_LOG", str(path))
    monkeypatch.setenv("HAKOBU_TEST_PLAN_SLEEP", "0")
    return path


@pytest.fixture
def jobs_table_dropped(db: Database) -> Iterator[None]:
    """APScheduler creates its job table in the test schema; drop it so other tests see our schema."""
    yield
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {JOBS_TABLE}"))


def closed_batch(db: Database, orders: int = 2) -> str:
    hub = make_hub(db)
    for minute in range(orders):
        make_order(db, hub, jst(8, minute))
    return close_batch(db, hub, jst(9), now=jst(9)).batch_id


def solve_in_pool(db: Database, batch_id: str, planner: Callable[[Database, str], str],
                  hard_timeout_s: float = 30.0) -> Batch:
    pool = SolvePool(db, planner, workers=1, hard_timeout_s=hard_timeout_s)
    assert pool.submit(batch_id)
    assert pool.wait_idle(hard_timeout_s + 20)
    pool.shutdown()
    with db.read() as s:
        batch = s.get(Batch, batch_id)
    assert batch is not None
    return batch


# --- solving in worker processes -----------------------------------------------------------------

def test_a_solve_runs_in_another_process_and_records_its_time(db: Database, plan_log_path: Path) -> None:
    batch_id = closed_batch(db)
    batch = solve_in_pool(db, batch_id, recording_planner)
    assert (batch.state, batch.reason, batch.attempts) == ("solved", "", 1)
    assert batch.solve_seconds is not None and batch.solved_at is not None
    [record] = plan_log(plan_log_path)
    assert record["pid"] != os.getpid()
    assert len(record["orders"]) == 2  # type: ignore[arg-type]


def test_a_planner_error_leaves_the_batch_failed_with_the_reason(db: Database) -> None:
    batch = solve_in_pool(db, closed_batch(db), failing_planner)
    assert batch.state == "failed"
    assert batch.reason == "planner raised ValueError: no volunteer on shift"


def test_a_worker_that_dies_leaves_the_batch_failed_naming_the_signal(db: Database) -> None:
    batch = solve_in_pool(db, closed_batch(db), crashing_planner)
    assert (batch.state, batch.reason) == ("failed", "worker process killed by SIGKILL during the solve")


def test_a_solve_past_the_hard_timeout_is_killed_and_failed(db: Database, plan_log_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAKOBU_TEST_PLAN_SLEEP", "60")
    started = time.monotonic()
    batch = solve_in_pool(db, closed_batch(db), recording_planner, hard_timeout_s=3)
    assert time.monotonic() - started < 20
    assert (batch.state, batch.reason) == ("failed", "timed out: still running after 3 s, killed")


def test_retry_reruns_a_failed_batch_and_refuses_other_states(db: Database, plan_log_path: Path) -> None:
    batch_id = closed_batch(db)
    assert solve_in_pool(db, batch_id, failing_planner).state == "failed"
    retry_batch(db, batch_id)
    assert batch_state(db, batch_id) == "closed"
    batch = solve_in_pool(db, batch_id, recording_planner)
    assert (batch.state, batch.attempts, batch.reason) == ("solved", 2, "")
    with pytest.raises(Exception, match="is solved; only a failed batch can be retried"):
        retry_batch(db, batch_id)


def test_solving_a_batch_twice_solves_it_once(db: Database, database_url: str, plan_log_path: Path) -> None:
    batch_id = closed_batch(db)
    assert solve_batch(database_url, batch_id, recording_planner) == "solved"
    assert solve_batch(database_url, batch_id, recording_planner) == "solved"
    assert len(plan_log(plan_log_path)) == 1


def test_interrupted_solves_are_requeued_until_the_attempt_limit(db: Database) -> None:
    first, second = closed_batch(db), None
    with db.write() as s:
        batch = s.get(Batch, first)
        assert batch is not None
        batch.state, batch.attempts = "solving", 1
        hub = s.get(Hub, batch.hub_id)
        assert hub is not None
    second = close_batch(db, hub.id, jst(13), now=jst(13)).batch_id
    make_order(db, hub.id, jst(13, 30))
    with db.write() as s:
        other = s.get(Batch, second)
        assert other is not None
        other.state, other.attempts = "solving", 3
    assert requeue_interrupted(db, max_attempts=3) == [first, second]
    assert batch_state(db, first) == "closed"
    assert batch_state(db, second) == "failed"


def test_batch_list_and_retry_on_the_command_line(db: Database, database_url: str,
                                                  plan_log_path: Path) -> None:
    batch_id = closed_batch(db)
    solve_in_pool(db, batch_id, failing_planner)
    runner = CliRunner()
    listed = runner.invoke(batch_group, ["list", "--database", database_url])
    assert listed.exit_code == 0, listed.output
    assert f"{batch_id}  kannabe      2026-03-02 09:00  failed  attempts=1 orders=2" in listed.output
    retried = runner.invoke(batch_group, ["retry", batch_id, "--database", database_url,
                                          "--planner", f"{PLANNERS}:recording_planner"])
    assert retried.exit_code == 0, retried.output
    assert f"batch {batch_id}: solved (attempt 2)" in retried.output
    refused = runner.invoke(batch_group, ["retry", batch_id, "--database", database_url])
    assert refused.exit_code == 2
    assert "only a failed batch can be retried" in refused.output


# --- leadership and jobs ---------------------------------------------------------------------------

def test_only_one_leader_lock_holder_at_a_time(db: Database) -> None:
    first, second = leader_lock_for(db), leader_lock_for(db)
    assert first.acquire()
    assert not second.acquire()
    assert first.alive()
    first.release()
    assert second.acquire()
    second.release()


def test_the_leader_lock_is_freed_when_its_holder_is_killed(db: Database, database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom dispatch.db import Database\n"
         "from dispatch.scheduler import leader_lock_for\n"
         "lock = leader_lock_for(Database(sys.argv[1]))\nprint(lock.acquire(), flush=True)\ntime.sleep(60)",
         database_url], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        lock = leader_lock_for(db)
        assert not lock.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        deadline = time.monotonic() + 10
        while not lock.acquire():
            assert time.monotonic() < deadline, "lock still held after its holder died"
            time.sleep(0.1)
        lock.release()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()


def test_cutoff_jobs_follow_the_hubs(db: Database, jobs_table_dropped: None) -> None:
    hub = make_hub(db, cutoffs=("09:00", "13:00"))
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    scheduler.add_jobstore(SQLAlchemyJobStore(engine=db.engine, tablename=JOBS_TABLE), "default")
    scheduler.start(paused=True)
    try:
        assert sync_jobs(scheduler, db, misfire_grace_s=600) == (2, 0)
        assert sync_jobs(scheduler, db, misfire_grace_s=600) == (0, 0)
        job = scheduler.get_job(f"cutoff:{hub}:13:00")
        assert job is not None
        assert (job.misfire_grace_time, job.coalesce, job.args) == (600, True, (hub,))
        assert job.next_run_time.astimezone(dt.UTC).time() == dt.time(4, 0)  # 13:00 JST
        with db.write() as s:
            row = s.get(Hub, hub)
            assert row is not None
            row.cutoffs = ["09:00", "16:30"]
        assert sync_jobs(scheduler, db, misfire_grace_s=600) == (1, 1)
        assert sorted(j.id for j in scheduler.get_jobs()) == [f"cutoff:{hub}:09:00", f"cutoff:{hub}:16:30"]
    finally:
        scheduler.shutdown(wait=False)


def test_a_sweep_closes_due_cutoffs_and_full_hubs_only_while_they_are_open(db: Database) -> None:
    hub = make_hub(db, cutoffs=("09:00", "13:00"), opens=dt.time(8), closes=dt.time(18))
    clock = {"now": jst(10)}
    settings = Settings(close_early_orders=3)
    planner = PlanBatch(settings.solve_time_limit_s)
    service = BatchScheduler(db, settings, clock=lambda: clock["now"],
                             make_queue=lambda: LocalQueue(db, solves=SolvePool(db, planner)))
    for minute in (1, 2, 3):
        make_order(db, hub, jst(9, minute))
    service.sweep()  # catch-up closes 09:00 (empty), then the hub is open and full: close early
    assert [(b.cutoff_at, b.state) for b in batches(db, hub)] == [(jst(9), "solved"), (jst(10), "closed")]
    for minute in (1, 2, 3):
        make_order(db, hub, jst(18, minute))
    clock["now"] = jst(18, 30)  # closed for the day: 13:00 is closed by the sweep, no early batch
    service.sweep()
    assert [b.cutoff_at for b in batches(db, hub)] == [jst(9), jst(10), jst(13)]


# --- real scheduler processes ------------------------------------------------------------------------

class SchedulerProcess(LoggedProcess):
    """``python -m dispatch.scheduler_cli scheduler`` with a fake clock, logging to a file."""

    def __init__(self, name: str, database_url: str, tmp_path: Path, fake_now: dt.datetime,
                 plan_sleep: float = 0) -> None:
        env = {**os.environ, "HAKOBU_TEST_PLAN_LOG": str(tmp_path / "plans.jsonl"),
               "HAKOBU_TEST_PLAN_SLEEP": str(plan_sleep)}
        env.pop("HAKOBU_DATABASE_URL", None)
        super().__init__(
            [sys.executable, "-m", "dispatch.scheduler_cli", "scheduler", "--database", database_url,
             "--planner", f"{PLANNERS}:recording_planner", "--fake-now", fake_now.isoformat(),
             "--tick", "0.5", "--poll", "0.5", "--hard-timeout", "90"],
            tmp_path / f"{name}.log", env)

    def is_leader(self) -> bool:
        return "became leader" in self.log()


@pytest.fixture
def start_scheduler(database_url: str, tmp_path: Path, jobs_table_dropped: None
                    ) -> Iterator[Callable[..., SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def start(name: str, fake_now: dt.datetime, plan_sleep: float = 0) -> SchedulerProcess:
        process = SchedulerProcess(name, database_url, tmp_path, fake_now, plan_sleep)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def states(db: Database) -> dict[tuple[str, dt.datetime], str]:
    with db.read() as s:
        return {(b.hub_id, b.cutoff_at): b.state for b in s.scalars(select(Batch))}


def assert_each_order_in_one_batch(records: list[dict[str, object]]) -> dict[str, str]:
    """Every order the planners saw belongs to a single batch (a batch may be seen twice)."""
    owner: dict[str, str] = {}
    for record in records:
        for order_id in record["orders"]:  # type: ignore[attr-defined]
            assert owner.setdefault(order_id, str(record["batch"])) == record["batch"], order_id
    return owner


def test_two_schedulers_started_together_close_each_cutoff_once_and_the_standby_takes_over(
        db: Database, tmp_path: Path, start_scheduler: Callable[..., SchedulerProcess]) -> None:
    north = make_hub(db, "north", cutoffs=("09:00", "13:00"))
    south = make_hub(db, "south", cutoffs=("09:30", "13:00"))
    morning = [make_order(db, hub, jst(8, 45)) for hub in (north, south)]
    noon = [make_order(db, hub, jst(12, 30)) for hub in (north, south)]
    fake_now = jst(12, 59, 55)  # the 13:00 cutoffs pass about five seconds after the start
    pair = (start_scheduler("a", fake_now), start_scheduler("b", fake_now))
    wait_for(lambda: len(states(db)) == 4 and set(states(db).values()) == {"solved"}, 40,
             "four solved batches", pair)
    assert set(states(db)) == {(north, jst(9)), (north, jst(13)), (south, jst(9, 30)), (south, jst(13))}
    leaders = [p for p in pair if p.is_leader()]
    assert len(leaders) == 1, [p.log() for p in pair]
    [standby] = [p for p in pair if p not in leaders]
    assert "standby" in standby.log()

    leaders[0].kill()
    late = make_hub(db, "late", cutoffs=("13:00",))  # only a living leader can close this one
    late_order = make_order(db, late, jst(12))
    wait_for(standby.is_leader, 15, "the standby to take over", pair)
    wait_for(lambda: batch_of(db, late_order)[1] == "batched", 15, "the new hub's batch", pair)
    wait_for(lambda: set(states(db).values()) == {"solved"}, 20, "all batches solved", pair)

    records = plan_log(tmp_path / "plans.jsonl")
    solved_batches = [str(r["batch"]) for r in records]
    assert len(solved_batches) == len(set(solved_batches)) == 5  # each batch planned exactly once
    owner = assert_each_order_in_one_batch(records)
    assert sorted(owner) == sorted([*morning, *noon, late_order])
    assert [b.cutoff_at for b in batches(db, north)] == [jst(9), jst(13)]


def test_killed_in_the_middle_of_a_solve_and_restarted_three_cutoffs_later(
        db: Database, tmp_path: Path, start_scheduler: Callable[..., SchedulerProcess]) -> None:
    hub = make_hub(db, cutoffs=("09:00", "10:00", "11:00", "12:00", "13:00"))
    first = make_order(db, hub, jst(8, 30))
    unconfirmed = make_order(db, hub, jst(8, 40), state="received")

    leader = start_scheduler("before", jst(9, 0, 5), plan_sleep=60)
    wait_for(lambda: bool(plan_log(tmp_path / "plans.jsonl")), 30, "the 09:00 solve to start", (leader,))
    [solving] = batches(db, hub)
    assert (solving.cutoff_at, solving.state) == (jst(9), "solving")
    worker = int(plan_log(tmp_path / "plans.jsonl")[0]["pid"])  # type: ignore[call-overload]
    leader.kill()
    wait_for(lambda: _gone(worker), 10, "the orphaned solver process to exit")

    # While no scheduler runs, orders keep arriving and the 10:00, 11:00 and 12:00 cutoffs pass.
    arrivals = {name: make_order(db, hub, at) for name, at in [
        ("09:30", jst(9, 30)), ("10:30", jst(10, 30)), ("11:00 sharp", jst(11)), ("11:30", jst(11, 30)),
        ("12:30", jst(12, 30))]}

    restarted = start_scheduler("after", jst(12, 0, 5))
    wait_for(lambda: len(batches(db, hub)) == 4 and {b.state for b in batches(db, hub)} == {"solved"},
             40, "the interrupted and the three missed batches to be solved", (restarted,))

    by_cutoff = {b.cutoff_at: b for b in batches(db, hub)}
    assert sorted(by_cutoff) == [jst(9), jst(10), jst(11), jst(12)]
    assert by_cutoff[jst(9)].attempts == 2  # re-queued after the kill, solved by the new leader
    expected = {first: jst(9), arrivals["09:30"]: jst(10), arrivals["10:30"]: jst(11),
                arrivals["11:00 sharp"]: jst(11), arrivals["11:30"]: jst(12)}
    for order_id, cutoff in expected.items():
        assert batch_of(db, order_id) == (by_cutoff[cutoff].id, "batched")
    assert batch_of(db, arrivals["12:30"]) == (None, "confirmed")  # waits for 13:00
    assert batch_of(db, unconfirmed) == (None, "received")
    owner = assert_each_order_in_one_batch(plan_log(tmp_path / "plans.jsonl"))
    assert sorted(owner) == sorted(expected)
    assert "interrupted solves found" in restarted.log()


def _gone(pid: int) -> bool:
    """True when ``pid`` has exited (a zombie waiting for its new parent to reap it counts)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status
