"""Long jobs in worker processes: the batch solver (:class:`dispatch.services.solving.SolvePool`) and the
planners' scenario runs (:class:`dispatch.studies.runs.ScenarioRunPool`).

At most ``workers`` jobs run at a time, each in a fresh ``spawn``-ed process: ``spawn`` rather than
``fork`` because the parent has threads and open database connections, and a forked child would also
inherit file descriptors such as the scheduler's leader lock and keep it alive after the leader dies.
A job still running after ``hard_timeout_s`` is killed; a worker exits by itself when its parent
dies (:func:`watch_parent`), since nobody would enforce its timeout any more. A pool says how each
job ended through :meth:`ProcessPool.ended`, and its subclass records that in the database.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


def describe_exit(exitcode: int | None, job: str = "job") -> str:
    """Why a worker process ended without finishing its ``job``, in words."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"worker process killed by {name} during the {job}"
    return f"worker process exited with code {exitcode} during the {job}"


def watch_parent(parent: int, interval_s: float = 0.5) -> None:
    """In a worker: exit as soon as ``parent`` (the process that enforces our timeout) is gone."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class ProcessPool:
    """At most ``workers`` jobs at a time (and ``max_waiting`` more queued), one process each."""

    #: What a job is called in process names and reasons ("solve", "run").
    job = "job"

    def __init__(self, *, workers: int, hard_timeout_s: float, max_waiting: int | None = None) -> None:
        self.workers = workers
        self.hard_timeout_s = hard_timeout_s
        self.max_waiting = max_waiting
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=self.job)
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._processes: dict[str, Any] = {}
        self._closing = False

    # --- what a subclass says ---------------------------------------------------------------------

    def target(self, key: str) -> tuple[Callable[..., None], tuple[Any, ...]]:
        """The worker function and its arguments for job ``key`` (the parent's pid is appended)."""
        raise NotImplementedError

    def ended(self, key: str, failure: str | None, *, stopped: bool) -> None:
        """Job ``key`` is over: ``failure`` None when its process exited cleanly, else why not;
        ``stopped`` when the pool was shutting down (the job did not fail on its own)."""
        raise NotImplementedError

    # --- the pool ---------------------------------------------------------------------------------

    def _full(self) -> bool:
        return self.max_waiting is not None and len(self._in_flight) >= self.workers + self.max_waiting

    def has_room(self) -> bool:
        with self._lock:
            return not self._closing and not self._full()

    def submit(self, key: str) -> bool:
        """Queue job ``key``; False if it is already here, the pool is full or shutting down."""
        with self._lock:
            if self._closing or key in self._in_flight or self._full():
                return False
            self._in_flight.add(key)
        self._threads.submit(self._run, key)
        return True

    def in_flight(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._in_flight)

    def pid_of(self, key: str) -> int | None:
        with self._lock:
            process = self._processes.get(key)
        return None if process is None else process.pid

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def shutdown(self) -> None:
        """Stop: kill running workers (:meth:`ended` hears ``stopped=True``) and drop queued jobs."""
        with self._lock:
            self._closing = True
            processes = list(self._processes.values())
        for process in processes:
            process.kill()
        self._threads.shutdown(wait=True, cancel_futures=True)

    def _run(self, key: str) -> None:
        try:
            failure, stopped = self._in_process(key)
        except Exception:
            log.exception("%s %s: could not run the worker process", self.job, key)
            failure, stopped = "could not start a worker process", False
        finally:
            with self._lock:
                self._in_flight.discard(key)
                self._processes.pop(key, None)
        self.ended(key, failure, stopped=stopped)

    def _in_process(self, key: str) -> tuple[str | None, bool]:
        function, args = self.target(key)
        process = multiprocessing.get_context("spawn").Process(
            target=function, name=f"{self.job}-{key}", daemon=True, args=(*args, os.getpid()))
        with self._lock:
            if self._closing:
                return f"stopped before the {self.job} started", True
            process.start()
            self._processes[key] = process
        process.join(self.hard_timeout_s)
        if process.is_alive():
            process.kill()
            process.join()
            failure: str | None = f"timed out: still running after {self.hard_timeout_s:g} s, killed"
        elif process.exitcode == 0:
            failure = None
        else:
            failure = describe_exit(process.exitcode, self.job)
        process.close()
        if failure is not None and self._closing:
            return f"stopped during the {self.job}", True
        return failure, False
