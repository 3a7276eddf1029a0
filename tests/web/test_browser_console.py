"""The operator console in headless Chromium: review and confirm a proposed plan, the handoff board
updating live, and the console in Japanese. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Hub, Message, Plan
from dispatch.services.handoffs import record_handoff
from dispatch.services.plans import confirm_plan
from dispatch.services.users import upsert_user
from tests.dispatch.test_plan_edits import NOW, SETTINGS, planned
from tests.dispatch.test_planning import MONDAY, latest_plan
from tests.web.conftest import PASSWORD
from tests.web.test_browser import ARTIFACTS, live_app, page  # noqa: F401 - fixtures
from tests.web.test_browser import sign_in as sign_in_form

pytestmark = [pytest.mark.db, pytest.mark.browser]


def sign_in(page, live_app: str, email: str) -> None:  # noqa: F811 - page is the fixture's value
    """Sign in through the form and wait for the console's map."""
    sign_in_form(page, live_app, email)
    page.wait_for_selector(".leaflet-container")


def test_operator_reviews_and_confirms_a_proposed_plan(page, live_app: str, make_user,  # noqa: F811
                                                       db: Database) -> None:
    batch_id, plan_id, _ = planned(db)
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    notice = page.locator("#plans-waiting")
    assert "1 plan waiting for review" in notice.inner_text()
    page.wait_for_selector(".leaflet-overlay-pane canvas")  # roads, zones and the plan's routes
    page.screenshot(path=str(ARTIFACTS / "console-dashboard-plans-waiting.png"))
    notice.locator(f'a[data-plan="{plan_id}"]').click()
    page.wait_for_selector("#map-panel .leaflet-container")
    page.wait_for_selector(".marker-cluster, .leaflet-overlay-pane canvas")
    assert page.locator('[data-kpi="deliveries"]').inner_text().strip().isdigit()
    assert page.locator(".validator.ok").count() == 1
    page.screenshot(path=str(ARTIFACTS / "console-plan-review.png"), full_page=True)
    # The fixture's plan is of a past day: the page warns that its first ETA has passed and offers
    # to keep the planned times (re-timing it from today cannot work).
    assert "has passed" in page.locator("#past-eta").inner_text()
    page.click("#confirm-as-planned")
    assert "will be texted" in page.locator("#confirm-texts").inner_text()
    page.click("#confirm-send")
    page.wait_for_selector(".flash.ok")
    assert "Plan confirmed" in page.locator(".flash.ok").inner_text()
    assert page.locator("[data-plan-state]").get_attribute("data-plan-state") == "confirmed"
    page.screenshot(path=str(ARTIFACTS / "console-plan-confirmed.png"))
    plan = latest_plan(db, batch_id)
    assert plan.id == plan_id and plan.state == "confirmed"
    couriers = {r.volunteer_id for r in plan.routes if r.volunteer_id and r.stops}
    with db.read() as s:
        links = s.scalars(select(Message).where(Message.template == "courier_route_link")).all()
    assert couriers and {m.volunteer_id for m in links} == couriers
    assert {m.status for m in links} <= {"queued", "sending", "sent"}


def test_handoff_board_updates_without_reloading(page, live_app: str, make_user,  # noqa: F811
                                                 db: Database) -> None:
    batch_id, plan_id, _ = planned(db)
    confirm_plan(db, plan_id, None, NOW, SETTINGS)
    plan = latest_plan(db, batch_id)
    route = next(r for r in plan.routes if r.volunteer_id and r.stops)
    order_id = next(st.order_id for st in route.stops if st.kind == "delivery")
    with db.read() as s:
        hub = s.scalars(select(Hub.id).where(Hub.code == "H1")).one()
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    page.goto(f"{live_app}/board?day={MONDAY.isoformat()}")
    page.wait_for_selector("table#board tbody tr")
    marker = page.evaluate("() => { window.__sameDocument = true; return 1; }")
    assert marker == 1
    courier = f"volunteer:{route.volunteer_id}"
    record_handoff(db, order_id, "hub_to_courier", f"hub:{hub}", courier, courier, "courier_scan",
                   NOW + dt.timedelta(minutes=20))
    page.wait_for_function("() => (parseInt(document.getElementById('board').dataset.polls, 10) || 0) >= 1",
                           timeout=25_000)
    page.wait_for_selector("ol.chain li")
    assert "courier_scan" in page.locator("ol.chain li").first.inner_text()
    assert page.evaluate("() => window.__sameDocument === true")  # no reload happened
    page.screenshot(path=str(ARTIFACTS / "console-handoff-board.png"))


def test_console_in_japanese(page, live_app: str, db: Database) -> None:  # noqa: F811
    _, plan_id, _ = planned(db)
    upsert_user(db, "ja@example.jp", "山田 花子", "operator", PASSWORD, ("H1",), language="ja")
    sign_in(page, live_app, "ja@example.jp")
    assert page.locator("html").get_attribute("lang") == "ja"
    nav = page.locator(".topbar").inner_text()
    assert "地図" in nav and "ログアウト" in nav and "オペレーター" in nav
    body = page.locator("main").inner_text()
    assert "確認待ちの計画 1 件" in body and "バッチの予定と状況" in body and "注文一覧" in body
    page.screenshot(path=str(ARTIFACTS / "console-ja-dashboard.png"))
    page.goto(f"{live_app}/plans/{plan_id}")
    page.wait_for_selector("#map-panel .leaflet-container")
    body = page.locator("main").inner_text()
    assert "計画を確定" in body and "主な数値" in body and "ドローン飛行記録" in body
    assert "Confirm plan" not in body
    page.screenshot(path=str(ARTIFACTS / "console-ja-plan.png"), full_page=True)
    with db.read() as s:
        assert s.get(Plan, plan_id).state == "proposed"  # type: ignore[union-attr]
