# ruff: noqa: F811 - page and live_app are the fixtures imported below
"""Plan review in headless Chromium (issue 16, items 3 and 4): an edit undone, a confirmation with
its step saying who will be texted, a courier called off and brought back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Message, Volunteer
from tests.dispatch.test_plan_edits import planned
from tests.dispatch.test_planning import latest_plan
from tests.web.test_browser import ARTIFACTS, live_app, page  # noqa: F401 - fixtures
from tests.web.test_browser_console import sign_in

pytestmark = [pytest.mark.db, pytest.mark.browser]


def version(page) -> str:
    return re.search(r"v(\d+)", page.locator("h1").inner_text()).group(1)


def test_a_drop_undone_then_the_plan_confirmed_through_its_confirmation_step(page, live_app: str, make_user,
                                                                             db: Database) -> None:
    batch_id, plan_id, _ = planned(db)
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    page.goto(f"{live_app}/plans/{plan_id}")
    dropped = page.locator("a[data-drop]").first.get_attribute("data-drop")
    page.locator("a[data-drop]").first.click()
    assert "Nobody will be texted." in page.locator("#confirm-texts").inner_text()
    page.click("#confirm-send")
    page.wait_for_selector(".flash.ok")
    assert version(page) == "2"
    assert page.locator(f'tr[data-unserved="{dropped}"]').count() == 1
    page.click("#undo-edit")
    page.wait_for_selector(".flash.ok")
    assert "Undone" in page.locator(".flash.ok").inner_text() and version(page) == "3"
    assert page.locator(f'table.stops tr[data-order="{dropped}"]').count() == 1  # back on its route
    assert page.locator(f'tr[data-unserved="{dropped}"]').count() == 0

    page.click("#confirm-as-planned" if page.locator("#confirm-as-planned").count() else "#confirm-plan")
    plan = latest_plan(db, batch_id)
    residents = sum(1 for r in plan.routes for st in r.stops if st.kind == "delivery")
    couriers = sum(1 for r in plan.routes if r.volunteer_id and r.stops)
    said = page.locator("#confirm-texts").inner_text()
    assert f"{residents} resident(s) and {couriers} courier(s) will be texted." == said
    page.screenshot(path=str(ARTIFACTS / "console-confirm-step.png"))
    with db.read() as s:
        assert not s.scalars(select(Message).where(Message.template == "order_planned")).all()  # not yet
    page.click("#confirm-send")
    page.wait_for_selector(".flash.ok")
    assert page.locator("[data-plan-state]").get_attribute("data-plan-state") == "confirmed"
    with db.read() as s:
        assert len(s.scalars(select(Message).where(Message.template == "order_planned")).all()) == residents

    # On a confirmed plan: call a courier off (its step says what moves), then bring them back.
    page.goto(f"{live_app}/operations")
    button = page.locator("button[data-call-off]").first
    code = button.get_attribute("data-call-off")
    button.click()
    assert "will be texted" in page.locator("#confirm-texts").inner_text()
    assert "Bring back" in page.locator("#confirm-undo").inner_text()
    page.click("#confirm-send")
    page.wait_for_selector(".flash.ok")
    assert f"Courier {code} called off" in page.locator(".flash.ok").inner_text()
    page.click(f'button[data-bring-back="{code}"]')
    page.wait_for_selector(".flash.ok")
    assert "back on shift" in page.locator(".flash.ok").inner_text()
    assert page.locator(f'tr[data-called-off="{code}"]').count() == 0
    with db.read() as s:
        assert s.scalars(select(Volunteer.off_until).where(Volunteer.code == code)).one() is None


def test_a_stop_dragged_onto_another_route_moves_there(page, live_app: str, make_user, db: Database) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    batch_id, plan_id, _ = planned(db)
    first = latest_plan(db, batch_id)
    courier = next(r for r in first.routes if r.volunteer_id and r.stops)
    drone = next(r for r in first.routes if r.drone_id and r.stops)
    order_id = next(st.order_id for st in drone.stops if st.kind == "delivery")
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    page.goto(f"{live_app}/plans/{plan_id}")
    target = page.locator(f'tbody[data-vehicle="{courier.volunteer_id}"] tr[data-order-id]').first
    page.locator(f'tr[draggable="true"][data-order-id="{order_id}"]').drag_to(target)
    page.wait_for_selector(".flash.ok")
    assert version(page) == "2"
    moved = page.locator(f'tbody[data-vehicle="{courier.volunteer_id}"] tr[data-kind="delivery"]').first
    assert moved.get_attribute("data-order-id") == order_id  # now the courier's first delivery
    plan = latest_plan(db, batch_id)
    route = next(r for r in plan.routes if r.volunteer_id == courier.volunteer_id)
    assert next(st.order_id for st in route.stops if st.kind == "delivery") == order_id
    assert not any(st.order_id == order_id for r in plan.routes if r.drone_id for st in r.stops)
    assert not errors
    page.screenshot(path=str(ARTIFACTS / "console-plan-dragged.png"), full_page=True)
