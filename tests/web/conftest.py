"""Web fixtures: the real app factory on a real database, and account factories."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dispatch.db import Database
from dispatch.models import Hub, Region
from dispatch.services.users import upsert_user
from web import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app({
        "database_url": database_url,
        "secret_key": "test-secret-key",
        "tiles": "none",
        "TESTING": True,
    })
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client whose browser asks for English (the app's default is Japanese, which tests opt
    into with ``?lang=ja`` or a Japanese user): assertions on English texts stay readable."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@pytest.fixture
def make_hub(db: Database) -> Callable[..., str]:
    import datetime as dt

    def make(code: str = "kannabe", region_code: str = "test") -> str:
        with db.write() as s:
            region = s.query(Region).filter_by(code=region_code).one_or_none()
            if region is None:
                region = Region(code=region_code, name="Test region", crs="EPSG:6673",
                                timezone="Asia/Tokyo", locale="ja_JP")
                s.add(region)
                s.flush()
            hub = Hub(region_id=region.id, code=code, name=code.title(), kind="hub",
                      drone_port=True, opens=dt.time(8), closes=dt.time(18),
                      cutoffs=["09:00", "13:00"], lon=134.77, lat=35.47)
            s.add(hub)
            s.flush()
            return hub.id

    return make


@pytest.fixture
def make_user(db: Database) -> Callable[..., str]:
    def make(role: str = "operator", email: str | None = None, hubs: tuple[str, ...] = ()) -> str:
        address = email or f"{role}@example.jp"
        upsert_user(db, address, role.title(), role, PASSWORD, hubs, language="en")
        return address

    return make


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def passwordless_session(app: Flask, client: FlaskClient, *, courier: str | None = None,
                         phone: str | None = None) -> FlaskClient:
    """Give ``client`` a courier's (volunteer id) or resident's (phone) session as their sign-in
    flows open it: the cookie's keys and the server-side record behind them."""
    import datetime as dt

    from dispatch.services.signin import open_session

    state = app.extensions["hakobu"]
    key, now = state.settings.key_for("session"), dt.datetime.now(dt.UTC)
    with client.session_transaction() as session:
        if courier is not None:
            session["courier_volunteer_id"] = courier
            session["courier_session"] = open_session(state.db, "courier_session", key, now=now,
                                                      volunteer_id=courier)
        if phone is not None:
            session["resident_phone"] = phone
            session["resident_session"] = open_session(state.db, "resident_session", key, now=now,
                                                       phone=phone)
    return client


def make_login_client(app: Flask, role: str, hubs: tuple[str, ...] = ()) -> FlaskClient:
    """A client signed in as a new ``role`` user of ``hubs``, on an app with CSRF off (the fuzzer's)."""
    email = f"{role}-{'-'.join(hubs) or 'all'}@fuzz.example"
    upsert_user(app.extensions["hakobu"].db, email, role.title(), role, PASSWORD, hubs, language="en")
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
