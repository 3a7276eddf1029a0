"""What the API and the webhook outbox cost (issue 20, item 4).

A temporary SQLite database gets the tiny sample region. Three numbers, each the median of
``--runs`` repetitions:

* **order through the service** (``place_order``, channel web): with no webhook endpoint, and with
  ``--endpoints`` endpoints subscribed to the hub: the cost of recording the order event and
  queueing its deliveries inside the same transaction (the ``before_flush`` step);
* **order through the API** (``POST /api/v1/orders`` with a bearer token, Flask test client): the
  token check, the schema validation and the service together;
* **webhook deliveries per second** to a real HTTP receiver on loopback (``deliver_due`` signing
  each body and posting it with urllib3), for ``--deliveries`` queued deliveries.

Run: ``python benchmarks/api_webhooks.py [--runs 50] [--endpoints 3] [--deliveries 300]``
(prints the table and writes ``benchmarks/results/api_webhooks.md``). Measure without ``nice``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Resident, utcnow
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.requests import ItemRequest
from dispatch.schema import upgrade
from dispatch.services import integrations, webhooks
from dispatch.services.ordering import place_order

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "api_webhooks.md"


class _Quiet(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--deliveries", type=int, default=300)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="hakobu-api-bench-"))
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    db = Database(url)
    upgrade(db)
    load_region(db, read_region(REPO / "sample_regions" / "tiny"))
    with db.read() as s:
        resident = s.scalars(select(Resident.id).where(Resident.code == "R1")).one()
    items = [ItemRequest("牛乳", 1)]

    def orders(n: int) -> list[float]:
        took = []
        for _ in range(n):
            start = time.perf_counter()
            place_order(db, resident, items, channel="web", now=utcnow())
            took.append(time.perf_counter() - start)
        return took

    without = orders(args.runs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_port}/hooks"
    integration = integrations.create_integration(db, "Bench", ["H1"], now=utcnow())
    for _ in range(args.endpoints):
        integrations.add_endpoint(db, integration, hook, now=utcnow())
    webhooks.deliver_due(db, utcnow(), limit=100_000)  # nothing queued yet: only the new ones count
    with_endpoints = orders(args.runs)

    from web import create_app

    app = create_app({"database_url": url, "secret_key": "bench", "tiles": "none", "TESTING": True,
                      "outbox_worker": False})
    token = integrations.issue_token(db, integration, now=utcnow()).secret
    client = app.test_client()
    api_took = []
    for n in range(args.runs):
        start = time.perf_counter()
        response = client.post("/api/v1/orders", headers={"Authorization": f"Bearer {token}"},
                               json={"resident": "R1", "items": [{"name": "牛乳", "quantity": 1}],
                                     "external_ref": f"bench-{n}"})
        api_took.append(time.perf_counter() - start)
        assert response.status_code == 201, response.get_data(as_text=True)
    webhooks.deliver_due(db, utcnow(), limit=100_000)

    queued = 0
    while queued < args.deliveries:
        place_order(db, resident, items, channel="web", now=utcnow())
        queued += args.endpoints
    start = time.perf_counter()
    stats = webhooks.deliver_due(db, utcnow(), limit=100_000)
    seconds = time.perf_counter() - start
    server.shutdown()

    load = os.getloadavg()
    rows = [
        ("order through the service, no endpoint (ms, median)", _median_ms(without)),
        (f"order through the service, {args.endpoints} endpoints (ms, median)", _median_ms(with_endpoints)),
        ("order through POST /api/v1/orders (ms, median)", _median_ms(api_took)),
        (f"webhook deliveries to loopback ({stats.delivered} delivered, per second)",
         round(stats.delivered / seconds, 1)),
    ]
    table = "\n".join(["| measure | value |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)])
    text = (f"# API and webhooks\n\n`python benchmarks/api_webhooks.py --runs {args.runs} --endpoints "
            f"{args.endpoints} --deliveries {args.deliveries}` on SQLite; load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared 2-core machine).\n\n{table}\n")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    db.dispose()


if __name__ == "__main__":
    main()
