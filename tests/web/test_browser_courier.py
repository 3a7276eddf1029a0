"""Issue 6, browser test (b): a courier on a 360-px phone opens the SMS link, picks up, loses the
signal, delivers with the resident's PIN, gets the signal back, and the delivery is recorded once.

Real headless Chromium (Debian's) against the real app on a live server; offline is Chromium's own
network emulation (``context.set_offline``). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import CourierAction, HandoffEvent, Order, utcnow
from tests.dispatch.factories import confirmed_day, courier_link_secret, pin_of
from tests.web.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, live_app  # noqa: F401 - fixture

pytestmark = [pytest.mark.db, pytest.mark.browser]

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(live_app: str) -> Iterator[tuple[object, object]]:  # noqa: F811 - the imported fixture
    """A 360 × 740 phone-sized tab and its browser context (to switch the network off and on)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, locale="en-US")
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab, context
        browser.close()


def count(db: Database, model: object, *where: object) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_courier_delivers_offline_and_it_is_recorded_once(phone, live_app: str,  # noqa: F811
                                                          db: Database) -> None:
    page, context = phone
    day = confirmed_day(db, Settings(secret_key="browser-test", public_url=live_app), confirmed_at=utcnow())
    courier = day.courier_with_orders()
    route_id = day.routes[courier]

    page.goto(f"{live_app}/c/{courier_link_secret(db, courier)}")  # the link in the SMS
    page.wait_for_selector(f'a[href="/courier/route/{route_id}"]')  # courier.js pressed the button
    page.screenshot(path=str(ARTIFACTS / "courier-routes.png"))
    page.click(f'a[href="/courier/route/{route_id}"]')
    page.wait_for_selector(".leaflet-container")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    height = page.locator("form.pickup-all button").bounding_box()["height"]
    assert height >= 48  # a large touch target
    page.screenshot(path=str(ARTIFACTS / "courier-route-360.png"), full_page=True)

    page.click("form.pickup-all button")
    order_id = day.deliveries[courier][0]
    pin_box = f"#pin-{order_id}"
    page.wait_for_selector(pin_box)  # reloaded after the pick-up was sent: now in the courier's hands
    assert {o: _state(db, o) for o in day.deliveries[courier]} == dict.fromkeys(day.deliveries[courier],
                                                                               "in_transit")

    pin = pin_of(db, order_id)  # what the resident's SMS says; the resident tells the courier
    context.set_offline(True)
    page.fill(pin_box, pin)
    page.click(f"#order-{order_id} form.deliver button")
    page.wait_for_selector("#queue-box:not([hidden]) li")
    assert "Delivered" in page.locator("#queue-box").inner_text()
    page.screenshot(path=str(ARTIFACTS / "courier-offline-queued.png"), full_page=True)
    assert _state(db, order_id) == "in_transit"  # nothing reached the server yet

    context.set_offline(False)  # the signal returns: the queue is sent and the page reloads
    page.wait_for_selector(f'#order-{order_id}[data-state="delivered"]')
    page.screenshot(path=str(ARTIFACTS / "courier-delivered-online.png"), full_page=True)

    assert _state(db, order_id) == "delivered"
    assert count(db, HandoffEvent, HandoffEvent.order_id == order_id,
                 HandoffEvent.kind == "courier_to_resident") == 1
    assert count(db, CourierAction, CourierAction.order_id == order_id, CourierAction.kind == "deliver") == 1
    assert page.evaluate("window.localStorage.getItem('hakobu.courier.queue.v1')") == "[]"


def _state(db: Database, order_id: str) -> str:
    with db.read() as s:
        return s.get_one(Order, order_id).state
