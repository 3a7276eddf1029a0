"""Issue 16 in headless Chromium (Debian's): the Japanese console with no raw codes (text drawn by
the pages' scripts and the map's layer control included), the courier page reloaded without
signal (DevTools offline emulation) still showing the route from the service worker's copy, and
the printed route sheet. Screenshots go to ``test-artifacts/`` (the sheet's also to ``docs/``).
"""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Order, Plan, Resident, utcnow
from dispatch.services.users import upsert_user
from tests.conftest import REPO
from tests.dispatch.factories import confirmed_day, courier_link_secret
from tests.dispatch.test_planning import MONDAY
from tests.web.conftest import PASSWORD
from tests.web.test_board import day  # noqa: F401 - the fixture busy_day builds on
from tests.web.test_browser import ARTIFACTS, live_app, page  # noqa: F401 - fixtures
from tests.web.test_browser import sign_in as sign_in_form
from tests.web.test_browser_courier import phone  # noqa: F401 - the 360-px phone fixture
from tests.web.test_japanese_pages import busy_day, raw_codes  # noqa: F401 - fixture

pytestmark = [pytest.mark.db, pytest.mark.browser]


def _screen_codes(page) -> list[str]:  # noqa: F811 - page is the fixture's value
    """Raw codes in what the page shows now: its text and the map's layer control and tooltips."""
    text = page.evaluate("""() => [document.title, document.body.innerText,
        ...Array.from(document.querySelectorAll('.leaflet-control-layers label, .leaflet-tooltip'),
                      e => e.textContent)].join('\\n')""")
    return raw_codes(">" + text.replace("<", " ") + "<")


def test_the_console_in_japanese_shows_no_raw_code(page, live_app: str, db: Database,  # noqa: F811
                                                    busy_day: dict[str, str]) -> None:  # noqa: F811
    with db.read() as s:
        plan_id = s.scalars(select(Plan.id).where(Plan.state == "confirmed")).one()
    upsert_user(db, "ja@example.jp", "山田 花子", "operator", PASSWORD, ("H1",), language="ja")
    sign_in_form(page, live_app, "ja@example.jp")
    page.wait_for_selector(".leaflet-container")
    pages = {"/": ".leaflet-control-layers", f"/board?day={MONDAY.isoformat()}": "#board",
             "/plans": "table.plans", f"/plans/{plan_id}": ".leaflet-control-layers"}
    problems = {}
    for path, ready in pages.items():
        page.goto(f"{live_app}{path}")
        page.wait_for_selector(ready, state="attached")
        assert page.locator("html").get_attribute("lang") == "ja"
        found = _screen_codes(page)
        if found:
            problems[path] = found
    page.goto(f"{live_app}/")
    page.wait_for_selector(".leaflet-control-layers")
    layers = page.locator(".leaflet-control-layers").evaluate("e => e.textContent")
    assert "道路" in layers and "注文" in layers and "Roads" not in layers
    page.goto(f"{live_app}/plans/{plan_id}")
    page.wait_for_selector(".leaflet-control-layers")
    layers = page.locator(".leaflet-control-layers").evaluate("e => e.textContent")
    assert "(自転車)" in layers or "(徒歩)" in layers or "(ドローン)" in layers
    page.screenshot(path=str(ARTIFACTS / "console-ja-no-codes-plan.png"), full_page=True)
    assert not problems, problems


def test_the_courier_page_reloaded_without_signal_shows_the_route(phone, live_app: str,  # noqa: F811
                                                                  db: Database) -> None:
    tab, context = phone
    confirmed = confirmed_day(db, Settings(secret_key="browser-test", public_url=live_app),
                              confirmed_at=utcnow())
    courier = confirmed.courier_with_orders()
    route_id = confirmed.routes[courier]
    first = confirmed.deliveries[courier][0]

    tab.goto(f"{live_app}/c/{courier_link_secret(db, courier)}")
    tab.wait_for_selector(f'a[href="/courier/route/{route_id}"]')
    tab.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    tab.click(f'a[href="/courier/route/{route_id}"]')
    tab.wait_for_selector(".leaflet-container")
    assert tab.locator(f"#order-{first}").get_attribute("data-state") == "planned"

    # The hub changes something while the courier is in the valley: a copy cannot know it.
    with db.write() as s:
        resident = s.get_one(Resident, s.get_one(Order, first).resident_id)
        resident.notes = "new note written while the courier had no signal"
    context.set_offline(True)
    reloaded = tab.reload()
    assert reloaded is not None and reloaded.from_service_worker
    tab.wait_for_selector(f"#order-{first}")
    assert "new note" not in tab.locator(f"#order-{first}").inner_text()  # the copy kept on the phone
    assert tab.locator(".stops .stop.delivery").count() == len(confirmed.deliveries[courier])
    tab.wait_for_selector(".leaflet-container")  # the map library came from the copy too
    assert tab.locator("#net").is_visible()  # the page says there is no signal

    # An action taken without signal is queued, and still listed after another reload offline.
    tab.click("form.pickup-all button")
    tab.wait_for_selector("#queue-box:not([hidden]) li")
    tab.reload()
    tab.wait_for_selector("#queue-box:not([hidden]) li")
    assert "Pick up" in tab.locator("#queue-box").inner_text()
    tab.screenshot(path=str(ARTIFACTS / "courier-offline-reloaded.png"), full_page=True)

    context.set_offline(False)  # the signal returns: the queue is sent, the page shows the truth
    tab.wait_for_selector(f'#order-{first}[data-state="in_transit"]', timeout=30_000)
    assert "new note" in tab.locator(f"#order-{first}").inner_text()


def test_the_route_sheet_prints_for_paper(page, live_app: str, db: Database, make_user) -> None:  # noqa: F811
    confirmed = confirmed_day(db, Settings(secret_key="browser-test", public_url=live_app),
                              confirmed_at=utcnow())
    courier = confirmed.courier_with_orders()
    route_id = confirmed.routes[courier]
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in_form(page, live_app, "op@example.jp")
    page.wait_for_selector(".leaflet-container")
    page.goto(f"{live_app}/plans/{confirmed.plan.id}")
    page.click(f'a[href="/routes/{route_id}/sheet"]')
    page.wait_for_selector("#route-sheet")
    page.goto(f"{live_app}/routes/{route_id}/sheet?lang=ja")  # as the hub's operators print it
    assert "配達表" in page.locator("h1").inner_text()
    assert page.locator("#print-sheet").is_visible()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.emulate_media(media="print")
    assert not page.locator("nav.screen-only").is_visible()  # no navigation or buttons on paper
    rows = page.locator("#route-sheet tbody tr")
    assert rows.count() == len(confirmed.deliveries[courier])
    assert rows.first.locator("td.box").bounding_box()["height"] >= 60  # room for a PIN or signature
    shot = ARTIFACTS / "route-sheet-print.png"
    page.screenshot(path=str(shot), full_page=True)
    documented = REPO / "docs" / "route-sheet-print.png"  # the picture in docs/courier.md
    if not documented.exists() or os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        shutil.copy(shot, documented)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
