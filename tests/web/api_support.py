"""API fixtures, imported by the API test modules: the tiny region with an integration for its hub
H1 and a bearer token, and a loopback webhook receiver (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dispatch.db import Database
from dispatch.models import utcnow
from dispatch.services import integrations


@dataclass
class Api:
    integration_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def api(db: Database, tiny_region: str) -> Api:
    integration_id = integrations.create_integration(db, "Post office", ["H1"], now=utcnow())
    return Api(integration_id, integrations.issue_token(db, integration_id, now=utcnow()).secret)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the loopback receiver got; it answers ``fail_first`` requests with 500, then 204, and
    acknowledges each event id once (as a receiver deduplicating by ``webhook-id`` does)."""

    url: str = ""
    fail_first: int = 0
    requests: list[Received] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # event ids taken in (first time only)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                failing = len(state.requests) <= state.fail_first
                event_id = self.headers.get("webhook-id", "")
                if not failing and event_id not in state.accepted:
                    state.accepted.append(event_id)
            self.send_response(500 if failing else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)
