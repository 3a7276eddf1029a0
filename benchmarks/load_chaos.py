"""Load and chaos on loopback (issue 17, item 5): signed Twilio webhooks at a fixed rate against
several gunicorn web workers over PostgreSQL, then the same with ``kill -9`` of a web worker and of
the scheduler mid-run (both restarted: gunicorn's master forks a new worker, the script restarts
the scheduler).

What runs, as a deployment runs it: a fresh PostgreSQL database (migrated, the tiny sample region);
``gunicorn -w W --threads T 'web:create_app()'`` with ``HAKOBU_OUTBOX_WORKER=false``;
``hakobu scheduler``; and one outbox sender process whose Twilio client talks real HTTP to a fake
Twilio API on loopback (this script), where every outbound SMS is counted. The load generator
posts ``注文 米 1`` from the region's residents, each signed as Twilio signs it, at ``--rate``
messages per second (open loop: a request is sent at its scheduled time whatever the earlier ones
did); a request that fails or times out is retried with the same MessageSid, as Twilio retries.

Reported per phase: offered and achieved rate, p50/p99/max latency of the acknowledged requests
(from the scheduled send time, so queueing counts), and the checks: every acknowledged MessageSid
has exactly one stored inbound message and at most one order, no sid got two replies, no outbound
SMS reached the fake Twilio twice; plus the machine's load average (it is shared).

Run (PostgreSQL on 127.0.0.1):
``python benchmarks/load_chaos.py --rate 100 --seconds 120 --workers 2 --threads 4``
(prints the table and writes ``benchmarks/results/load_chaos.md``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "load_chaos.md"
TOKEN = "load-test-auth-token"
ACCOUNT = "AC" + "0" * 32
SENDER = "+815000000000"
#: A request not yet sent this long after its scheduled time is skipped (counted, never sent).
LATE_S = 10.0


# --- the fake Twilio REST API (outbound SMS are counted here) ---------------------------------------


class FakeTwilio(BaseHTTPRequestHandler):
    sent: Counter[tuple[str, str]] = Counter()  # noqa: RUF012 - one counter for every request handler
    lock = threading.Lock()

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
        key = (form.get("To", [""])[0], form.get("Body", [""])[0])
        with self.lock:
            FakeTwilio.sent[key] += 1
        body = json.dumps(
            {
                "sid": "SM" + uuid.uuid4().hex,
                "status": "queued",
                "to": key[0],
                "body": key[1],
                "account_sid": ACCOUNT,
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def run_sender(database_url: str, fake_port: int) -> None:
    """The outbox sender process: Hakobu's OutboxWorker with a Twilio client whose HTTP goes to
    the fake API on loopback (the transport's HTTP edge; everything above it is the real code)."""
    from twilio.http.http_client import TwilioHttpClient

    from dispatch.config import settings_from_env
    from dispatch.db import Database
    from sms.sender import OutboxWorker
    from sms.transports import TwilioTransport

    class Loopback(TwilioHttpClient):
        def request(self, method: str, url: str, *args: object, **kwargs: object) -> object:
            url = url.replace("https://api.twilio.com", f"http://127.0.0.1:{fake_port}")
            return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]

    settings = settings_from_env()
    transport = TwilioTransport(ACCOUNT, TOKEN, SENDER, http_client=Loopback(timeout=5))
    worker = OutboxWorker(Database(database_url), transport)
    worker.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    del settings


# --- the deployment ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Deployment:
    url: str
    port: int
    env: dict[str, str]
    workers: int
    threads: int
    fake_port: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str) -> None:
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "-w",
                str(self.workers),
                "--threads",
                str(self.threads),
                "-b",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "2",
                "-k",
                "gthread",
                "--preload",
                "web:create_app()",
            ],
            "scheduler": [python, "-m", "web.cli", "scheduler", "--tick", "5"],
            "sender": [
                python,
                str(Path(__file__)),
                "--sender",
                "--fake-port",
                str(self.fake_port),
                "--database",
                self.url,
            ],
        }
        log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"load_chaos_{name}.log", "ab")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(commands[name], cwd=REPO, env=self.env, stdout=log, stderr=log)

    def web_workers(self) -> list[int]:
        master = self.procs["web"].pid
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def wait_ready(self, timeout: float = 240) -> None:
        import urllib3

        http = urllib3.PoolManager()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (
                    http.request(
                        "GET", f"http://127.0.0.1:{self.port}/login", timeout=2, retries=False
                    ).status
                    == 200
                ):
                    return
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit("the web workers did not start: see /tmp/load_chaos_web.log")

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- the load ---------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    offered: int = 0
    acknowledged: dict[str, float] = field(default_factory=dict)  # sid -> latency s
    replies: Counter[str] = field(default_factory=Counter)  # sid -> TwiML <Message> answers received
    retries: int = 0
    skipped: int = 0  # scheduled requests never sent: the server was more than LATE_S behind
    failed: list[str] = field(default_factory=list)  # sids never acknowledged
    wall_s: float = 0.0
    events: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)


def _signed(url: str, params: dict[str, str]) -> dict[str, str]:
    from twilio.request_validator import RequestValidator

    return {
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def drive(
    dep: Deployment, phones: list[str], rate: float, seconds: float, phase: Phase, chaos: bool, senders: int
) -> None:
    import urllib3

    http = urllib3.PoolManager(maxsize=senders, block=False)
    public = f"http://127.0.0.1:{dep.port}"
    total = int(rate * seconds)
    jobs: queue.Queue[tuple[int, float] | None] = queue.Queue()
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def one(index: int, due: float) -> None:
        sid = "SM" + uuid.uuid4().hex
        params = {
            "MessageSid": sid,
            "From": phones[index % len(phones)],
            "To": SENDER,
            "Body": "注文 米 1",
            "AccountSid": ACCOUNT,
        }
        headers = _signed(f"{public}/sms/twilio/inbound", params)
        for attempt in range(6):
            try:
                response = http.request(
                    "POST",
                    f"{public}/sms/twilio/inbound",
                    body=urlencode(params),
                    headers=headers,
                    timeout=10,
                    retries=False,
                )
                if response.status == 200:
                    with lock:
                        phase.acknowledged[sid] = time.monotonic() - due
                        phase.replies[sid] += response.data.count(b"<Message>")
                    return
            except urllib3.exceptions.HTTPError:
                pass
            with lock:
                phase.retries += 1
            time.sleep(0.5 * (attempt + 1))  # Twilio retries a failed webhook after a pause
        with lock:
            phase.failed.append(sid)

    def worker() -> None:
        while (job := jobs.get()) is not None:
            wait = job[1] - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif -wait > LATE_S:  # the server fell this far behind: stop offering, keep the run bounded
                with lock:
                    phase.skipped += 1
                continue
            one(*job)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for i in range(total):
        jobs.put((i, start + i / rate))
    phase.offered = total
    phase.load = (os.getloadavg()[0], 0.0)
    if chaos:
        time.sleep(max(0.0, start + seconds * 0.3 - time.monotonic()))
        victim = dep.web_workers()[0]
        os.kill(victim, signal.SIGKILL)
        phase.events.append(
            f"t={seconds * 0.3:.0f} s: kill -9 web worker {victim} (gunicorn forks a new one)"
        )
        time.sleep(max(0.0, start + seconds * 0.5 - time.monotonic()))
        os.kill(dep.procs["scheduler"].pid, signal.SIGKILL)
        dep.procs["scheduler"].wait()
        phase.events.append(f"t={seconds * 0.5:.0f} s: kill -9 scheduler {dep.procs['scheduler'].pid}")
        time.sleep(2)
        dep.start("scheduler")
        phase.events.append(
            f"t={seconds * 0.5 + 2:.0f} s: scheduler restarted ({dep.procs['scheduler'].pid})"
        )
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    phase.wall_s = time.monotonic() - start
    phase.load = (phase.load[0], os.getloadavg()[0])


# --- the checks ---------------------------------------------------------------------------------------


def check(url: str, phase: Phase) -> dict[str, int]:
    from sqlalchemy import func, select

    from dispatch.db import Database
    from dispatch.models import Message

    db = Database(url)
    sids = list(phase.acknowledged)
    stored: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    with db.read() as s:
        for chunk in range(0, len(sids), 500):
            part = sids[chunk : chunk + 500]
            for sid, order_id in s.execute(
                select(Message.external_id, Message.order_id).where(
                    Message.transport == "twilio", Message.direction == "in", Message.external_id.in_(part)
                )
            ):
                stored[sid] += 1
                orders[sid] += order_id is not None
        sent_rows = (
            s.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == "out", Message.transport == "twilio", Message.status == "sent")
            )
            or 0
        )
    db.dispose()
    return {
        "acknowledged": len(sids),
        "lost (acknowledged, not stored)": sum(1 for sid in sids if stored[sid] == 0),
        "stored twice": sum(1 for sid in sids if stored[sid] > 1),
        "more than one order": sum(1 for sid in sids if orders[sid] > 1),
        "sids with two replies": sum(1 for n in phase.replies.values() if n > 1),
        "outbound at fake Twilio": sum(FakeTwilio.sent.values()),
        "outbound sent twice": sum(1 for n in FakeTwilio.sent.values() if n > 1),
        "twilio rows marked sent": sent_rows,
    }


def _pct(values: list[float], q: float) -> float:
    """The nearest-rank percentile (the value below which a share ``q`` of the samples lies)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--senders", type=int, default=64, help="Concurrent client connections.")
    parser.add_argument(
        "--database",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="A PostgreSQL server where a scratch database may be created and dropped.",
    )
    parser.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fake-port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sender:
        run_sender(args.database, args.fake_port)
        return

    from sqlalchemy import select, text
    from sqlalchemy.engine import make_url

    from dispatch.db import Database
    from dispatch.models import Resident
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region
    from dispatch.schema import upgrade

    name = f"hakobu_load_{os.getpid()}"
    admin = Database(args.database)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.database).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    load_region(db, read_region(REPO / "sample_regions" / "tiny"))
    with db.read() as s:
        phones = list(s.scalars(select(Resident.phone)))
    db.dispose()

    fake = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HAKOBU_DATABASE_URL": url,
        "HAKOBU_SECRET_KEY": "load-test-secret",
        "HAKOBU_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HAKOBU_SMS_TRANSPORT": "twilio",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_FROM": SENDER,
        "HAKOBU_OUTBOX_WORKER": "false",
    }
    dep = Deployment(url, port, env, args.workers, args.threads, fake.server_address[1])
    phases = [Phase("steady"), Phase("chaos: kill -9 web worker and scheduler")]
    results = []
    try:
        for proc in ("web", "scheduler", "sender"):
            dep.start(proc)
        dep.wait_ready()
        for phase in phases:
            FakeTwilio.sent.clear()
            drive(dep, phones, args.rate, args.seconds, phase, chaos=phase is phases[1], senders=args.senders)
            time.sleep(2)  # let the sender drain what was queued
            results.append(check(url, phase))
    finally:
        dep.stop()
        fake.shutdown()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    report(args, phases, results)


def report(args: argparse.Namespace, phases: list[Phase], results: list[dict[str, int]]) -> None:
    lines = [
        "# Load and chaos: signed Twilio webhooks on loopback (benchmarks/load_chaos.py)",
        "",
        f"`python benchmarks/load_chaos.py --rate {args.rate:g} --seconds {args.seconds:g} --workers "
        f"{args.workers} --threads {args.threads} --senders {args.senders}`; gunicorn gthread workers over "
        f"PostgreSQL; {os.cpu_count()} CPUs shared with other work (load average below).",
        "",
        "| phase | offered msg/s | achieved msg/s | p50 ms | p99 ms | max ms | retries | never acknowledged "
        f"| skipped (>{LATE_S:g} s late) | load avg start→end |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        latencies = list(phase.acknowledged.values())
        lines.append(
            f"| {phase.name} | {phase.offered / args.seconds:.0f} | {len(latencies) / phase.wall_s:.1f} | "
            f"{_pct(latencies, 0.5) * 1000:.0f} | {_pct(latencies, 0.99) * 1000:.0f} | "
            f"{max(latencies, default=0) * 1000:.0f} | {phase.retries} | {len(phase.failed)} | "
            f"{phase.skipped} | "
            f"{phase.load[0]:.2f}→{phase.load[1]:.2f} |"
        )
    lines += ["", "| check | " + " | ".join(p.name for p in phases) + " |", "|---|" + "---|" * len(phases)]
    for key in results[0]:
        lines.append(f"| {key} | " + " | ".join(str(r[key]) for r in results) + " |")
    lines += ["", *(f"- {event}" for phase in phases for event in phase.events), ""]
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
