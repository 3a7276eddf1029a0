"""Rate limits shared by every web process and kept across restarts (the database storage), and
the per-account lockout that alerts the account's hubs (issue 17)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import OperatorAlert, RateLimitCounter
from dispatch.services.users import authenticate
from tests.web.conftest import PASSWORD, csrf_token
from web import create_app

pytestmark = pytest.mark.db


@pytest.fixture
def processes(database_url: str) -> Iterator[list[Flask]]:
    """Two web processes of one deployment (two apps on one database), as gunicorn workers are."""
    apps = [
        create_app(
            {
                "database_url": database_url,
                "secret_key": "k",
                "tiles": "none",
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
            }
        )
        for _ in range(2)
    ]
    yield apps
    for app in apps:
        app.extensions["hakobu"].db.dispose()


def _sign_in_attempt(app: Flask, email: str, password: str, address: str = "192.0.2.7") -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = {"csrf_token": csrf_token(client, "/login")} if app.config.get("WTF_CSRF_ENABLED", True) else {}
    return client.post("/login", data={"email": email, "password": password, **token}).status_code


def test_a_limit_counts_across_processes_and_survives_a_restart(
    processes: list[Flask], database_url: str, db: Database
) -> None:
    first, second = processes
    codes = [_sign_in_attempt(app, "nobody@example.jp", "wrong password") for app in [first, second] * 5]
    assert codes == [401] * 10  # "10 per minute" from one address, shared by both processes
    assert _sign_in_attempt(first, "nobody@example.jp", "wrong password") == 429
    restarted = create_app(
        {
            "database_url": database_url,
            "secret_key": "k",
            "tiles": "none",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    try:
        assert _sign_in_attempt(restarted, "nobody@example.jp", "wrong password") == 429
    finally:
        gc.collect()  # return what the 429 left in a reference cycle before the engine goes
        restarted.extensions["hakobu"].db.dispose()
    with db.read() as s:
        assert s.scalars(select(RateLimitCounter)).all()  # the counters are rows of the database
    assert _sign_in_attempt(first, "nobody@example.jp", "wrong password", address="192.0.2.8") == 401


def test_wrong_passwords_lock_the_account_and_alert_its_hub(
    app: Flask, db: Database, make_user, tiny_region: str
) -> None:
    email = make_user("operator", hubs=("H1",))
    for attempt in range(10):  # from ten addresses: the per-address limit never trips
        assert _sign_in_attempt(app, email, "not the password", address=f"198.51.100.{attempt}") == 401
    assert (
        _sign_in_attempt(app, email, PASSWORD, address="198.51.100.99") == 401
    )  # locked: even the right one
    with db.read() as s:
        alert = s.scalars(select(OperatorAlert).where(OperatorAlert.kind == "account_locked")).one()
    client = app.test_client()
    login_client = app.test_client()
    login_client.environ_base["REMOTE_ADDR"] = "203.0.113.1"
    from tests.web.conftest import login

    login(login_client, make_user("operator", email="colleague@example.jp", hubs=("H1",)))
    board = login_client.get("/board").get_data(as_text=True)
    assert 'data-alert="account_locked"' in board and "console account locked" in board
    assert f"{email} locked for 15 minutes after 10 wrong passwords" in board
    assert alert.hub_id and client.get("/board").status_code == 302
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert authenticate(db, email, PASSWORD, now=later) is not None  # the lock ends by itself


def test_the_login_form_still_needs_its_csrf_token(client) -> None:
    assert client.post("/login", data={"email": "a@b.jp", "password": "x"}).status_code == 400
    assert csrf_token(client, "/login")
