"""Console sign-in: hashed passwords, CSRF, session rotation, logout, security headers."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import User
from tests.web.conftest import PASSWORD, csrf_token, login

pytestmark = pytest.mark.db


def test_passwords_are_stored_as_scrypt_hashes(db: Database, make_user) -> None:
    make_user("operator")
    with db.read() as s:
        stored = s.scalars(select(User.password_hash)).one()
    assert stored.startswith("scrypt:")
    assert PASSWORD not in stored


def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_without_csrf_token_is_refused(client: FlaskClient, make_user) -> None:
    email = make_user("operator")
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(client: FlaskClient, make_user) -> None:
    email = make_user("operator")
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": "wrong password!",
                                           "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_login_then_logout_ends_the_session_everywhere(app: Flask, make_user) -> None:
    email = make_user("operator")
    first, second = app.test_client(), app.test_client()
    login(first, email)
    login(second, email)  # a new login rotates the nonce: the first session is now stale
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 200
    token = csrf_token(second, "/")
    assert second.post("/logout", data={"csrf_token": token}).status_code == 302
    assert second.get("/").status_code == 302


def test_open_redirects_after_login_are_ignored(client: FlaskClient, make_user) -> None:
    email = make_user("operator")
    token = csrf_token(client, "/login")
    response = client.post("/login?next=//evil.example/", data={
        "email": email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_login_is_rate_limited(client: FlaskClient, make_user) -> None:
    email = make_user("operator")
    token = csrf_token(client, "/login")
    codes = [
        client.post("/login", data={"email": email, "password": "nope nope",
                                    "csrf_token": token}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]


def test_security_headers_are_set(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/login", base_url="https://hub.example.jp")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
