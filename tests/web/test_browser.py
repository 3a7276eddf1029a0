"""The console in a real headless Chromium (Debian's, driven by Playwright), against a live server.

Screenshots are kept in ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import REPO
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.db, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (make browser installs it)", allow_module_level=True)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` with waitress on a free loopback port; yields its base URL."""
    from waitress.server import create_server

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    stopping = threading.Event()

    def run() -> None:
        # Closing the server under a running select() can raise EBADF in this thread: only an
        # error while the test still uses the server is one.
        try:
            server.run()
        except OSError:
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stopping.set()
        server.close()
        thread.join(5)
        app.extensions["hakobu"].db.dispose()


@pytest.fixture
def live_app(database_url: str, tiny_region: str) -> Iterator[str]:
    from web import create_app

    app: Flask = create_app({"database_url": database_url, "secret_key": "browser-test",
                             "tiles": "none", "outbox_worker": False})
    with serving(app) as url:
        yield url


@pytest.fixture
def page(live_app: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()


def sign_in(page, live_app: str, email: str) -> None:
    """Sign in through the login form, as a user would (the password of ``make_user``)."""
    page.goto(f"{live_app}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_operator_signs_in_and_sees_the_region_map(page, live_app: str, make_user) -> None:
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector(".leaflet-overlay-pane canvas")  # roads and zones (canvas renderer)
    assert page.locator('tr[data-hub="H1"]').count() == 1
    page.wait_for_selector(".hub-icon")  # the hub's marker
    assert page.locator(".hub-icon").count() == 1
    page.screenshot(path=str(ARTIFACTS / "console-map.png"))


def test_simulator_round_trip_in_the_browser(page, live_app: str, make_user) -> None:
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    page.goto(f"{live_app}/intake/simulator")
    page.select_option("#phone", "+817000000001")
    page.fill("#body", "注文 米 2")
    page.click("button.primary")
    page.wait_for_selector(".bubble.out")
    assert "受け付けました" in page.locator(".bubble.out").last.inner_text()
    page.screenshot(path=str(ARTIFACTS / "sms-simulator.png"))
