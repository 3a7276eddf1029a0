"""One secret key for a deployment (issue 17): required, every HMAC key derived from it, and
``Secure`` cookies whenever the public URL is HTTPS."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dispatch.config import Settings
from dispatch.errors import ConfigError
from web import create_app
from web.cli import kept_secret_key, main


def test_the_app_refuses_to_start_without_a_secret_key(database_url: str) -> None:
    with pytest.raises(ConfigError, match="HAKOBU_SECRET_KEY is not set"):
        create_app({"database_url": database_url, "secret_key": "", "TESTING": True})


def test_hakobu_serve_requires_the_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAKOBU_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2 and "HAKOBU_SECRET_KEY is not set" in result.output


def test_every_use_gets_its_own_key_derived_from_the_one_secret() -> None:
    one, other = Settings(secret_key="a"), Settings(secret_key="b")
    uses = ("flask", "session", "courier_link", "login_code")
    keys = {one.key_for(use) for use in uses}
    assert len(keys) == len(uses) and "a" not in keys
    assert one.key_for("session") == Settings(secret_key="a").key_for("session")  # stable across processes
    assert one.key_for("session") != other.key_for("session")
    with pytest.raises(ConfigError):
        Settings().key_for("courier_link")  # never an empty HMAC key (red-team finding)


@pytest.mark.parametrize(
    ("public_url", "secure"), [("https://hakobu.example", True), ("http://127.0.0.1:5000", False)]
)
def test_cookies_are_secure_when_the_public_url_is_https(
    database_url: str, public_url: str, secure: bool
) -> None:
    app = create_app(
        {"database_url": database_url, "secret_key": "k", "public_url": public_url, "TESTING": True}
    )
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is secure
        assert app.config["REMEMBER_COOKIE_SECURE"] is secure
        assert app.config["SECRET_KEY"] == Settings(secret_key="k").key_for("flask")
        response = app.test_client().get("/order/sign-in")  # the form's CSRF token opens a session
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert ("; Secure" in cookie) is secure
    finally:
        app.extensions["hakobu"].db.dispose()


def test_the_demo_keeps_its_secret_key_across_restarts(tmp_path) -> None:
    first = kept_secret_key(tmp_path / "instance")
    assert len(first) == 64 and kept_secret_key(tmp_path / "instance") == first
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
