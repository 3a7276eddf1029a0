"""Issue 16, item 7: the printed route sheet (hub operators and the courier), the courier's
feedback next to the action, and the service worker that keeps the route for a courier without
signal (its behaviour offline is the browser test in ``test_browser_texts.py``)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from dispatch.db import Database
from dispatch.models import Order, Resident, Volunteer
from tests.dispatch.factories import Day, pin_of
from tests.web.conftest import login
from tests.web.test_courier import day, post_action, sign_in  # noqa: F401 - the confirmed day fixture

pytestmark = pytest.mark.db


def _card(html: str, element_id: str) -> str:
    """The HTML of one stop card (``<li id=...>`` up to the next card)."""
    start = html.index(f'id="{element_id}"')
    end = html.find('<li class="card stop', start + 1)
    return html[start:end if end != -1 else len(html)]


def test_the_operator_prints_the_route_sheet_of_a_courier(client: FlaskClient, db: Database, day: Day,  # noqa: F811
                                                          make_user) -> None:
    courier = day.courier_with_orders()
    route_id = day.routes[courier]
    login(client, make_user("operator", hubs=("H1",)))
    plan = client.get(f"/plans/{day.plan.id}").get_data(as_text=True)
    assert f'href="/routes/{route_id}/sheet"' in plan  # printed from the plan page
    html = client.get(f"/routes/{route_id}/sheet").get_data(as_text=True)
    with db.read() as s:
        volunteer = s.get_one(Volunteer, courier)
        orders = [s.get_one(Order, o) for o in day.deliveries[courier]]
        residents = [s.get_one(Resident, o.resident_id) for o in orders]
    assert f"{volunteer.code} {volunteer.name}" in html and volunteer.phone in html
    for order, resident in zip(orders, residents, strict=True):
        row = re.search(rf'<tr data-order="{order.number}">(.*?)</tr>', html, flags=re.S)
        assert row is not None, order.number
        cells = row.group(1)
        assert resident.name in cells and resident.phone in cells and f"#{order.number}" in cells
        assert (resident.notes or f"{resident.lat:.5f}") in cells  # where the home is
        assert "Signature" in cells and "□□□□" in cells  # the box for the PIN or a signature
        assert re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}|\d{1,2}/\d{1,2}/\d{2},? \d{1,2}:\d{2}", cells)  # ETA
    assert "<nav" in html and "@media print" not in html  # print rules live in sheet.css
    with client.get("/static/sheet.css") as css:
        assert css.get_data(as_text=True).count("@media print") == 1


def test_another_hubs_operator_and_other_couriers_get_no_sheet(client: FlaskClient, db: Database,
                                                               day: Day, make_user, make_hub) -> None:  # noqa: F811
    courier = day.courier_with_orders()
    route_id = day.routes[courier]
    make_hub("other")
    login(client, make_user("operator", email="other@example.jp", hubs=("other",)))
    assert client.get(f"/routes/{route_id}/sheet").status_code == 404
    assert client.get("/routes/no-such-route/sheet").status_code == 404


def test_a_courier_prints_only_their_own_sheet(client: FlaskClient, db: Database, day: Day) -> None:  # noqa: F811
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    own = client.get(f"/courier/route/{day.routes[courier]}/sheet")
    assert own.status_code == 200 and 'id="route-sheet"' in own.get_data(as_text=True)
    other = day.other_courier(courier)
    assert client.get(f"/courier/route/{day.routes[other]}/sheet").status_code == 404


def test_the_outcome_of_an_action_is_shown_in_its_stop_card(client: FlaskClient, db: Database,
                                                            day: Day) -> None:  # noqa: F811
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    post_action(client, f"{page}/pick-up", page, route_id=day.routes[courier])
    summary = client.get(page).get_data(as_text=True)
    assert "Picked up" in summary[summary.index('id="route-summary"'):summary.index('class="stops"')]
    order_id = day.deliveries[courier][0]
    wrong = f"{(int(pin_of(db, order_id)) + 1) % 10_000:04d}"
    answer = post_action(client, f"/courier/order/{order_id}/deliver", page, pin=wrong,
                         route_id=day.routes[courier])
    assert answer.headers["Location"].endswith(f"#order-{order_id}")  # type: ignore[attr-defined]
    html = client.get(page).get_data(as_text=True)
    card = _card(html, f"order-{order_id}")
    assert 'class="flash feedback error"' in card and "Wrong PIN. 4 tries left." in card
    assert "Wrong PIN" not in html[:html.index("<main>")]  # not at the top of the page
    assert "Wrong PIN" not in client.get(page).get_data(as_text=True)  # shown once


def test_the_service_worker_is_served_for_the_courier_pages(client: FlaskClient) -> None:
    with client.get("/courier/sw.js") as answer:
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("application/javascript")
        script = answer.get_data(as_text=True)
    assert 'addEventListener("fetch"' in script and "caches" in script
    assert 'request.method !== "GET"' in script  # actions are never answered from a copy


def test_signing_out_tells_the_phone_to_forget_the_route(client: FlaskClient, db: Database, day: Day) -> None:  # noqa: F811
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    routes = client.get("/courier/").get_data(as_text=True)
    assert f'data-keep href="/courier/route/{day.routes[courier]}"' in routes  # kept for offline
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', routes)
    assert token is not None
    signed_out = client.post("/courier/sign-out", data={"csrf_token": token.group(1)}).get_data(as_text=True)
    assert "data-forget" in signed_out and "courier.js" in signed_out
