"""Task engines for Hakobu's solves, measured on this machine: procrastinate (PostgreSQL) and RQ (Redis).

For each engine, with its own worker command (one worker process): the time to defer ``--jobs``
empty tasks from one process, the latency from defer to the task starting (median and 95th
percentile, jobs deferred one at a time every 50 ms so each finds an idle worker), and the time
for the worker to drain a backlog of ``--jobs`` empty tasks. And what matters most for a solve:
after ``kill -9`` of a worker in the middle of a task, whether the engine runs the task again by
itself, and after how long.

Needs PostgreSQL on ``--pg`` and Redis on ``--redis`` (both run on these machines; RQ is only a
benchmark dependency: ``pip install rq``). Results: ``benchmarks/results/task_engines.md``.
Run: ``python benchmarks/task_engines.py [--jobs 200]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "task_engines.md"
MARKS = Path(os.environ.get("HAKOBU_BENCH_MARKS", "/tmp/hakobu-task-engines"))


# --- the tasks (run in the workers) ----------------------------------------------------------------

def mark(run: str, key: str, sent: float, sleep_s: float = 0.0) -> None:
    """Write (key, start - sent, pid) for this run; sleep ``sleep_s`` afterwards (the 'solve')."""
    with (MARKS / f"{run}.txt").open("a", encoding="utf-8") as out:
        out.write(f"{key} {time.time() - sent:.6f} {os.getpid()}\n")
    time.sleep(sleep_s)


def marks(run: str) -> list[tuple[str, float, int]]:
    path = MARKS / f"{run}.txt"
    if not path.exists():
        return []
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    return [(key, float(delay), int(pid)) for key, delay, pid in rows]


def procrastinate_app() -> Any:
    """The benchmark's procrastinate app (worker: ``procrastinate --app=task_engines.app worker``)."""
    from procrastinate import App, PsycopgConnector

    app = App(connector=PsycopgConnector(conninfo=os.environ["BENCH_PG"]), worker_defaults={
        "concurrency": 1, "delete_jobs": "successful", "update_heartbeat_interval": 1.0,
        "stalled_worker_timeout": 3.0})
    app.task(name="bench.mark", queue="bench")(mark)

    @app.periodic(cron="* * * * * */2", periodic_id="stalled")
    @app.task(name="bench.stalled", queue="bench", pass_context=True)
    async def retry_stalled(context: Any, timestamp: int) -> None:
        for job in await context.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=3.0):
            await context.app.job_manager.retry_job(job)

    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return procrastinate_app()
    raise AttributeError(name)


# --- the engines, as the benchmark drives them -------------------------------------------------------

class Engine:
    name = ""

    def start_worker(self) -> subprocess.Popen[bytes]: ...
    def defer(self, run: str, key: str, sleep_s: float = 0.0) -> None: ...
    def close(self) -> None: ...


class Procrastinate(Engine):
    name = "procrastinate 3 (PostgreSQL)"

    def __init__(self, pg: str) -> None:
        from procrastinate import App, SyncPsycopgConnector

        os.environ["BENCH_PG"] = pg
        self.app = App(connector=SyncPsycopgConnector(conninfo=pg))
        self.app.open()
        schema = self.app.connector.execute_query_one("SELECT to_regclass('procrastinate_jobs') AS t")
        if schema["t"] is None:
            self.app.schema_manager.apply_schema()
        self.app.connector.execute_query("DELETE FROM procrastinate_jobs WHERE queue_name = 'bench'")

    def start_worker(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "procrastinate", "--app=task_engines.app", "worker",
                                 "--queues=bench"], cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def defer(self, run: str, key: str, sleep_s: float = 0.0) -> None:
        self.app.configure_task("bench.mark", queue="bench").defer(run=run, key=key, sent=time.time(),
                                                                    sleep_s=sleep_s)

    def close(self) -> None:
        self.app.close()


class Rq(Engine):
    name = "RQ 2 (Redis)"

    def __init__(self, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.url = redis_url
        self.queue = Queue("bench", connection=Redis.from_url(redis_url))
        self.queue.empty()

    def start_worker(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "rq.cli", "worker", "--url", self.url, "bench"],
                                cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def defer(self, run: str, key: str, sleep_s: float = 0.0) -> None:
        self.queue.enqueue("task_engines.mark", run, key, time.time(), sleep_s)

    def close(self) -> None:
        self.queue.empty()


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def measure(engine: Engine, jobs: int) -> dict[str, str]:
    worker = engine.start_worker()
    try:
        warm = uuid.uuid4().hex
        engine.defer(warm, "warm")
        assert wait_until(lambda: len(marks(warm)) == 1, 60), f"{engine.name}: the worker never started"
        latency = uuid.uuid4().hex
        for i in range(min(jobs, 60)):
            engine.defer(latency, str(i))
            time.sleep(0.05)
        wait_until(lambda: len(marks(latency)) == min(jobs, 60), 60)
        delays = sorted(d for _k, d, _p in marks(latency))
        backlog = uuid.uuid4().hex
        started = time.perf_counter()
        for i in range(jobs):
            engine.defer(backlog, str(i))
        defer_s = time.perf_counter() - started
        wait_until(lambda: len(marks(backlog)) == jobs, 300)
        drain_s = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)
    return {"defer": f"{defer_s / jobs * 1000:.2f} ms", "p50": f"{statistics.median(delays) * 1000:.0f} ms",
            "p95": f"{delays[int(0.95 * (len(delays) - 1))] * 1000:.0f} ms",
            "drain": f"{jobs / drain_s:.0f} jobs/s", "kill": kill_test(engine)}


def kill_test(engine: Engine) -> str:
    """A 4 s task; its worker killed with SIGKILL after 1 s; a second worker waits. Run again?"""
    run = uuid.uuid4().hex
    first = engine.start_worker()
    engine.defer(run, "solve", sleep_s=4.0)
    if not wait_until(lambda: len(marks(run)) == 1, 60):
        first.kill()
        return "task never started"
    time.sleep(1.0)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = time.monotonic()
    second = engine.start_worker()
    try:
        again = wait_until(lambda: len(marks(run)) >= 2, 60)
    finally:
        second.terminate()
        second.wait(30)
    if again:
        return f"run again by the other worker after {time.monotonic() - killed_at:.1f} s"
    return "not run again within 60 s (left to a person)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args(argv)
    MARKS.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    rows = []
    for make in (lambda: Procrastinate(args.pg), lambda: Rq(args.redis)):
        engine = make()
        try:
            rows.append((engine.name, measure(engine, args.jobs)))
        finally:
            engine.close()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                            text=True).stdout.strip()
    lines = [
        "# Task engines on this machine", "",
        f"Commit {commit}; {args.jobs} empty tasks; one worker process per engine; load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on 2 cores shared with other work.", "",
        "| engine | defer (per task) | defer → start p50 | p95 | backlog drained | worker killed mid-task |",
        "|---|---|---|---|---|---|",
        *[f"| {name} | {r['defer']} | {r['p50']} | {r['p95']} | {r['drain']} | {r['kill']} |"
          for name, r in rows],
        "", "`python benchmarks/task_engines.py` (PostgreSQL on 5432, Redis on 6379, `pip install rq`).", ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
