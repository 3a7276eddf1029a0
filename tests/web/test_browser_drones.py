"""Issue 13, browser test: hub staff confirm a plan with a drone sortie, record the take-off and the
drop on the phone page, and the handoff board shows the parcel delivered by drone with its chain.

Real headless Chromium (Debian's) against the real app on a live server. The plan certainly has a
sortie (:func:`tests.dispatch.test_sorties.drone_plan`: no courier is on duty, R4 has a drop point
and a light parcel, the hub has a drone). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import HandoffEvent, Order, Plan, Route
from tests.dispatch.factories import pin_of
from tests.dispatch.test_sorties import drone_plan
from tests.web.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, live_app, sign_in  # noqa: F401 - fixture
from tests.web.test_drones import todays_cutoff

pytestmark = [pytest.mark.db, pytest.mark.browser]

PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 800}


@pytest.fixture
def tab(live_app: str) -> Iterator[object]:  # noqa: F811 - the imported fixture
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport=DESK, locale="en-US", has_touch=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_staff_fly_a_sortie_from_the_phone_and_the_board_shows_the_drop(tab, live_app: str,  # noqa: F811
                                                                        make_user, db: Database) -> None:
    page = tab
    batch_id, plan_id, orders = drone_plan(db, todays_cutoff(), residents=("R4",))
    r4 = orders["R4"]
    with db.read() as s:
        sortie = s.scalars(select(Route.id).where(Route.plan_id == plan_id,
                                                  Route.drone_id.is_not(None))).one()
        number = s.get_one(Order, r4).number
    make_user("operator", email="staff@example.jp", hubs=("H1",))

    sign_in(page, live_app, "staff@example.jp")  # staff sign in and confirm the plan at the hub's desk
    page.goto(f"{live_app}/plans/{plan_id}")
    # Today's 10:00 plan: after its first ETA the page offers to keep the planned times (this
    # version, whose sortie the staff then fly); before it, Confirm confirms it as it is.
    page.click("#confirm-as-planned" if page.locator("#confirm-as-planned").count() else "#confirm-plan")
    page.click("#confirm-send")  # the confirmation step: who will be texted, then confirm
    page.wait_for_selector(".flash.ok")
    assert page.locator("[data-plan-state]").get_attribute("data-plan-state") == "confirmed"
    with db.read() as s:
        assert s.get_one(Plan, plan_id).state == "confirmed"

    page.set_viewport_size(PHONE)  # at the drone port, on the phone
    page.goto(f"{live_app}/drones")
    page.wait_for_selector(f'[data-sortie="{sortie}"]')
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    page.screenshot(path=str(ARTIFACTS / "drones-list-360.png"), full_page=True)
    page.click(f'[data-sortie="{sortie}"] h2 a')
    page.wait_for_selector('form[data-action="take-off"]')
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator('form[data-action="take-off"] button').bounding_box()["height"] >= 44
    page.check('input[name="battery_checked"]')
    page.check('input[name="weather_checked"]')
    page.screenshot(path=str(ARTIFACTS / "drones-checklist-360.png"), full_page=True)
    page.click('form[data-action="take-off"] button')
    page.wait_for_selector(".flash.ok")
    assert "Take-off recorded" in page.locator(".flash.ok").inner_text()
    assert _state(db, r4) == "in_transit"

    page.fill(f"#pin-{number}", pin_of(db, r4))  # the resident at the drop point tells the PIN
    page.click('form[data-action="drop"] button')
    page.wait_for_selector(".flash.ok")
    assert "delivered" in page.locator(".flash.ok").inner_text()
    page.click('form[data-action="land"] button')
    page.wait_for_selector('[data-status="landed"]')
    page.screenshot(path=str(ARTIFACTS / "drones-landed-360.png"), full_page=True)
    assert _state(db, r4) == "delivered"

    page.set_viewport_size(DESK)  # back at the desk: the handoff board
    page.goto(f"{live_app}/board")
    row = page.locator(f'tr[data-order="{number}"]')
    row.wait_for()
    assert "delivered" in row.inner_text()
    chain = row.locator("ol.chain li").all_inner_texts()
    assert len(chain) == 2 and "✈ D1" in chain[0] and chain[1].startswith("✈ D1 → R4")
    assert "resident_pin" in chain[1] or "PIN" in chain[1]
    page.screenshot(path=str(ARTIFACTS / "drones-board-delivered.png"), full_page=True)
    with db.read() as s:
        kinds = [e.kind for e in s.scalars(select(HandoffEvent).where(HandoffEvent.order_id == r4)
                                             .order_by(HandoffEvent.seq))]
    assert kinds == ["hub_to_drone", "drone_to_resident"]
    assert batch_id


def _state(db: Database, order_id: str) -> str:
    with db.read() as s:
        return s.get_one(Order, order_id).state
