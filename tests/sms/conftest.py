"""SMS fixtures: the providers' HTTP replaced only at their clients' own boundaries, the real app with
webhook secrets configured, and signing helpers that use the providers' own algorithms.

- Twilio: twilio-python's ``HttpClient`` (:class:`TwilioApiDouble`).
- SMS Gateway for Android: the ``requests`` transport adapter under the ``android-sms-gateway``
  client's own ``RequestsHttpClient`` (:class:`GatewayApiDouble`), so the client's request building,
  authentication and error mapping all run for real.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from android_sms_gateway.http import RequestsHttpClient
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from web import create_app

TWILIO_TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://hub.example.jp"
GATEWAY_SECRET = "gateway-signing-key"
GATEWAY_URL = "http://192.168.1.20:8080"  # the phone's local server on the hub's LAN


@dataclass
class TwilioApiDouble(HttpClient):
    """Answers like Twilio's Messages API would, recording every request; nothing leaves the machine.

    ``script`` lists answers to give in order: ``(status, body)``, or an exception to raise (a
    connection error); afterwards every send succeeds. Safe to share between sender threads.
    """

    script: list[tuple[int, dict[str, Any]] | Exception] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:
        with self._lock:
            self.requests.append({"method": method, "url": url, "data": dict(data or {})})
            answer = self.script.pop(0) if self.script else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            status, body = answer
        else:
            status, body = 201, {"sid": f"SM{uuid.uuid4().hex}", "status": "queued",
                                 "to": (data or {}).get("To"), "body": (data or {}).get("Body")}
        return Response(status, json.dumps(body))


class GatewayApiDouble(requests.adapters.BaseAdapter):
    """Answers like the phone's local server (``POST /messages`` → 202 with the message state).

    ``script`` lists answers to give in order: ``(status, body)`` or an exception to raise (a
    connection error); afterwards every send is accepted with ids ``gw-1``, ``gw-2`` …
    """

    def __init__(self, script: list[tuple[int, dict[str, Any]] | Exception] | None = None) -> None:
        super().__init__()
        self.script = list(script or [])
        self.requests: list[dict[str, Any]] = []
        self.accepted = 0

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        body = json.loads(request.body) if request.body else None
        self.requests.append({"method": request.method, "url": request.url,
                              "headers": dict(request.headers), "json": body})
        if self.script:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            status, payload = answer
        else:
            self.accepted += 1
            status, payload = 202, {
                "id": f"gw-{self.accepted}", "state": "Pending", "isHashed": False, "isEncrypted": False,
                "recipients": [{"phoneNumber": p, "state": "Pending"} for p in body["phoneNumbers"]]}
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def gateway_api() -> Iterator[tuple[GatewayApiDouble, RequestsHttpClient]]:
    """The gateway double and the android-sms-gateway client's real requests-based HTTP client on it."""
    double = GatewayApiDouble()
    session = requests.Session()
    session.mount("http://", double)
    session.mount("https://", double)
    yield double, RequestsHttpClient(session)
    session.close()


@pytest.fixture
def app(database_url: str, tiny_region: str) -> Iterator[Flask]:
    """The real app on the tiny region, with Twilio's token, the public URL and the gateway key."""
    application = create_app({"database_url": database_url, "secret_key": "k", "TESTING": True,
                              "twilio_auth_token": TWILIO_TOKEN, "public_url": PUBLIC,
                              "gateway_webhook_secret": GATEWAY_SECRET, "outbox_worker": False})
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def rows(app: Flask, model: type, *where: object) -> int:
    """How many rows of ``model`` are committed (read in a fresh session)."""
    with app.extensions["hakobu"].db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def twilio_inbound(sid: str = "SM" + "1" * 32, body: str = "注文 米 2",
                   phone: str = "+817000000001") -> dict[str, str]:
    """The form Twilio posts for an inbound SMS."""
    return {"MessageSid": sid, "From": phone, "To": "+815000000000", "Body": body,
            "AccountSid": "AC" + "0" * 32}


def twilio_signature(path: str, params: dict[str, str], base: str = PUBLIC,
                     token: str = TWILIO_TOKEN) -> str:
    """What Twilio puts in ``X-Twilio-Signature`` (twilio's own RequestValidator)."""
    return RequestValidator(token).compute_signature(base + path, params)


def gateway_event(event_id: str = "ev-1", body: str = "注文 牛乳 1", phone: str = "+817000000001",
                  kind: str = "sms:received", payload: dict[str, Any] | None = None) -> bytes:
    """A webhook body as SMS Gateway for Android posts it."""
    if payload is None:
        payload = {"messageId": "m1", "message": body, "phoneNumber": phone, "simNumber": 1,
                   "receivedAt": "2026-11-24T09:30:00.000+09:00"}
    return json.dumps({"deviceId": "dev", "event": kind, "id": event_id, "webhookId": "wh",
                       "payload": payload}).encode()


def gateway_headers(raw: bytes, key: str = GATEWAY_SECRET, stamp: int | None = None) -> dict[str, str]:
    """The gateway's signing: hex HMAC-SHA256 of the raw body followed by the Unix timestamp."""
    ts = str(stamp if stamp is not None else int(time.time()))
    signature = hmac.new(key.encode(), raw + ts.encode(), hashlib.sha256).hexdigest()
    return {"X-Signature": signature, "X-Timestamp": ts, "Content-Type": "application/json"}
