"""Courier and resident sessions end on the server at sign-out, like console users' (issue 17).

The red-team pass signed out and replayed the old cookie: it still signed the courier (or resident)
in, because their sessions lived only in the client-side cookie."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dispatch.db import Database
from tests.dispatch.factories import Day
from tests.web.conftest import csrf_token
from tests.web.test_courier import day, sign_in  # noqa: F401 - the confirmed day fixture
from tests.web.test_resident import _sign_in, _token

pytestmark = pytest.mark.db


def _replay(app: Flask, cookie: str | None, path: str) -> int:
    """GET ``path`` with nothing but a copy of the session cookie taken before sign-out."""
    other = app.test_client()
    assert cookie is not None
    other.set_cookie("session", cookie)
    return other.get(path).status_code


def test_a_residents_old_cookie_is_dead_after_sign_out(
    app: Flask, client: FlaskClient, db: Database, tiny_region: str
) -> None:
    _sign_in(client, db)
    page = client.get("/order/")
    assert page.status_code == 200
    cookie = client.get_cookie("session")
    assert _replay(app, cookie.value if cookie else None, "/order/") == 200  # a copy works while signed in
    client.post("/order/sign-out", data={"csrf_token": _token(page.get_data(as_text=True))})
    assert _replay(app, cookie.value if cookie else None, "/order/") == 302  # back to sign-in


def test_a_couriers_old_cookie_is_dead_after_sign_out(
    app: Flask, client: FlaskClient, db: Database, day: Day  # noqa: F811
) -> None:
    sign_in(client, db, day.courier_with_orders())
    cookie = client.get_cookie("session")
    assert _replay(app, cookie.value if cookie else None, "/courier/") == 200
    client.post("/courier/sign-out", data={"csrf_token": csrf_token(client, "/courier/")})
    assert _replay(app, cookie.value if cookie else None, "/courier/") == 404  # as for any stranger
