"""Idle CPU of a running Hakobu (issue 13, item 6): an idle server must stay idle.

Starts each server as a deployment would, waits until it answers and has settled, then reads the
CPU time (user + system, from ``/proc``) that the server and every process it started used over a
fixed window while nobody sends it a request. The reference, measured in the same run, is
waitress serving a one-line WSGI app: the cost of an idle web server that does nothing else.

Usage::

    .venv/bin/python benchmarks/idle_cpu.py [--seconds 60] [--settle 15]

Prints a table and writes it to ``benchmarks/results/idle_cpu.md``. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "idle_cpu.md"
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")

REFERENCE_APP = (
    "import waitress\n"
    "def app(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    return [b'ok']\n"
    "waitress.serve(app, host='127.0.0.1', port={port}, threads=8)\n"
)


@dataclass
class Measured:
    name: str
    cpu_s: float
    window_s: float

    @property
    def percent(self) -> float:
        return 100.0 * self.cpu_s / self.window_s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu_s(root_pid: int) -> float:
    """CPU seconds (user + system) of ``root_pid`` and all its live descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def wait_until_up(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"server on port {port} did not answer within {timeout_s:.0f} s")


def measure(name: str, argv: list[str], env: dict[str, str], cwd: Path, port: int,
            settle_s: float, window_s: float, startup_s: float = 240.0) -> Measured:
    process = subprocess.Popen(argv, env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_until_up(port, process, startup_s)
        time.sleep(settle_s)
        before = tree_cpu_s(process.pid)
        started = time.monotonic()
        time.sleep(window_s)
        used = tree_cpu_s(process.pid) - before
        return Measured(name, used, time.monotonic() - started)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window per server")
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds to wait after the server answers before measuring")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hakobu-idle-"))
    url = f"sqlite:///{work / 'idle.sqlite'}"
    env = {**os.environ, "HAKOBU_DATABASE_URL": url, "HAKOBU_TILES": "none",
           "HAKOBU_SECRET_KEY": "idle-benchmark", "HAKOBU_DEMO_PASSWORD": "idle-benchmark"}
    rows: list[Measured] = []

    port = free_port()
    reference = work / "reference.py"
    reference.write_text(REFERENCE_APP.format(port=port))
    rows.append(measure("reference: waitress, one-line app", [sys.executable, str(reference)],
                        env, work, port, args.settle, args.seconds))

    port = free_port()  # the demo seeds the database that `hakobu serve` then serves
    rows.append(measure("hakobu demo (scheduler + outbox + web)",
                        [str(BIN / "hakobu"), "demo", "--no-browser", "--port", str(port),
                         "--simulated-orders", "0", "--solve-seconds", "1", "--database", url],
                        env, work, port, args.settle, args.seconds))
    port = free_port()
    rows.append(measure("hakobu serve (outbox + web)",
                        [str(BIN / "hakobu"), "serve", "--port", str(port)],
                        env, work, port, args.settle, args.seconds))

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                            capture_output=True).stdout.strip() or "unknown"
    reference_pct = rows[0].percent
    lines = [
        f"# Idle CPU (commit {commit}, {os.cpu_count()} cores, window {args.seconds:.0f} s, "
        f"settle {args.settle:.0f} s)",
        "",
        "| process | CPU s in window | % of one core | × reference |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        ratio = f"{row.percent / reference_pct:.1f}" if reference_pct > 0 else "—"
        lines.append(f"| {row.name} | {row.cpu_s:.2f} | {row.percent:.2f} | {ratio} |")
    lines += ["", f"CPU time is read from /proc in clock ticks of {1000 / TICKS:.0f} ms; a ratio is "
              "shown only when the reference used at least one tick.",
              "Goal (issue 13): an idle `hakobu serve` / `hakobu demo` uses < 2 % of a core."]
    table = "\n".join(lines) + "\n"
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
