"""A real process of ours started by a test (a scheduler, a task worker), logging to a file that the
test reads, killed with SIGKILL or stopped with SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REPO


class LoggedProcess:
    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, wait_s: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(wait_s)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str,
             logs: tuple[LoggedProcess, ...] = ()) -> None:
    """Poll ``condition`` until true; on timeout fail with the end of each process's log."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            detail = "\n".join(f"--- {p.log_path.name}\n{p.log()[-4000:]}" for p in logs)
            raise AssertionError(f"timed out waiting for {what}\n{detail}")
        time.sleep(0.2)
