"""The courier's page through the real app: SMS link sign-in, own routes only (404 and a log line
otherwise), actions as forms and as JSON, deduplication by action id, position sharing."""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import CourierPosition, HandoffEvent, Order, Resident, Route, utcnow
from dispatch.phrases import english
from tests.dispatch.factories import Day, confirmed_day, courier_link_secret, pin_of
from tests.web.conftest import csrf_token

pytestmark = pytest.mark.db

#: The web app's secret (tests/web/conftest.py): links must be issued with the same pepper.
WEB_SETTINGS = Settings(secret_key="test-secret-key", public_url="http://localhost")


@pytest.fixture
def day(db: Database, tiny_region: str) -> Day:
    return confirmed_day(db, WEB_SETTINGS, confirmed_at=utcnow())


def sign_in(client: FlaskClient, db: Database, volunteer_id: str) -> None:
    """Open the courier's SMS link and press its button (pages in English from then on)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    secret = courier_link_secret(db, volunteer_id)
    token = csrf_token(client, f"/c/{secret}")
    response = client.post(f"/c/{secret}", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/courier/")


def post_action(client: FlaskClient, url: str, page: str, json: bool = False, **fields: str) -> object:
    data = {"csrf_token": csrf_token(client, page), "action_id": fields.pop("action_id", uuid.uuid4().hex),
            **fields}
    headers = {"Accept": "application/json"} if json else {}
    return client.post(url, data=data, headers=headers)


def state(db: Database, order_id: str) -> str:
    with db.read() as s:
        return s.get_one(Order, order_id).state


def test_the_sms_link_signs_in_once(client: FlaskClient, app, db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    secret = courier_link_secret(db, courier)
    page = client.get(f"/c/{secret}")
    assert page.status_code == 200 and 'id="open-route"' in page.get_data(as_text=True)
    assert client.get("/courier/").status_code == 404  # looking at the link does not sign in
    sign_in(client, db, courier)
    routes = client.get("/courier/").get_data(as_text=True)
    assert f"/courier/route/{day.routes[courier]}" in routes
    assert f"/courier/route/{day.routes[day.other_courier(courier)]}" not in routes
    other = app.test_client()
    reused = other.post(f"/c/{secret}", data={"csrf_token": csrf_token(other, f"/c/{secret}")})
    assert reused.status_code == 410 and 'id="link-expired"' in reused.get_data(as_text=True)
    assert other.get("/courier/").status_code == 404
    assert client.get(f"/courier/login/{secret}").headers["Location"].endswith(f"/c/{secret}")


def test_another_couriers_route_is_404_and_the_attempt_is_logged(client: FlaskClient, db: Database, day: Day,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    courier = day.courier_with_orders()
    victim = day.other_courier(courier)
    sign_in(client, db, courier)
    with caplog.at_level(logging.WARNING, logger="hakobu.courier"):
        assert client.get(f"/courier/route/{day.routes[victim]}").status_code == 404
        their_order = day.deliveries[victim][0]
        response = post_action(client, f"/courier/order/{their_order}/deliver",
                               f"/courier/route/{day.routes[courier]}", pin="1234")
        assert response.status_code == 404  # type: ignore[attr-defined]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert day.routes[victim] in logged and their_order in logged and courier in logged
    with db.read() as s:
        names = [r.name for r in s.scalars(select(Resident))]
        phones = [r.phone for r in s.scalars(select(Resident))]
    assert not any(n in logged for n in names) and not any(p in logged for p in phones)
    assert client.get("/courier/route/no-such-route").status_code == 404


def test_without_a_courier_session_courier_pages_are_404(client: FlaskClient, day: Day) -> None:
    courier = day.courier_with_orders()
    assert client.get(f"/courier/route/{day.routes[courier]}").status_code == 404
    assert client.get("/courier/").status_code == 404


def test_the_route_page_lists_stops_with_navigation_call_and_map(client: FlaskClient, db: Database,
                                                                day: Day) -> None:
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    html = client.get(f"/courier/route/{day.routes[courier]}").get_data(as_text=True)
    with db.read() as s:
        orders = [s.get_one(Order, o) for o in day.deliveries[courier]]
        residents = [s.get_one(Resident, o.resident_id) for o in orders]
    positions = [html.index(f'id="order-{o.id}"') for o in orders]
    assert positions == sorted(positions)  # stops in route order
    for resident in residents:
        assert f'href="tel:{resident.phone}"' in html and resident.name in html
    route = next(r for r in day.plan.routes if r.id == day.routes[courier])
    for stop in route.stops:
        assert f'href="geo:{stop.lat},{stop.lon}?q={stop.lat},{stop.lon}"' in html
    assert "folium-map" in html and "courier.js" in html
    assert 'class="action pickup-all"' in html and 'name="pin"' not in html  # nothing picked up yet
    assert re.search(r'<script nonce="[^"]+">', html)


def test_the_route_map_draws_the_line_stored_with_the_plan(client: FlaskClient, db: Database,
                                                           day: Day) -> None:
    courier = day.courier_with_orders()
    route_id = day.routes[courier]
    sign_in(client, db, courier)
    with db.read() as s:
        stored = s.get_one(Route, route_id).path
    assert stored and len(stored) >= 3

    def drawn(path: list[list[float]]) -> bool:
        html = client.get(f"/courier/route/{route_id}").get_data(as_text=True)
        return '"coordinates": [' + ", ".join(f"[{lon}, {lat}]" for lon, lat in path) + "]" in html

    assert drawn(stored)
    # Read, not recomputed: the page draws whatever line the version stored.
    marked = [stored[0], [stored[0][0] + 0.001, stored[0][1] + 0.001], stored[-1]]
    with db.write() as s:
        s.get_one(Route, route_id).path = marked
    assert drawn(marked) and not drawn(stored)


def test_pick_up_and_deliver_through_the_forms(client: FlaskClient, db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    picked = post_action(client, f"{page}/pick-up", page, route_id=day.routes[courier])
    assert picked.status_code == 302  # type: ignore[attr-defined]
    html = client.get(page).get_data(as_text=True)
    assert "Picked up" in html and html.count('name="pin"') == len(day.deliveries[courier])
    order_id = day.deliveries[courier][0]
    pin = pin_of(db, order_id)
    wrong = f"{(int(pin) + 1) % 10_000:04d}"
    post_action(client, f"/courier/order/{order_id}/deliver", page, pin=wrong, route_id=day.routes[courier])
    assert "Wrong PIN. 4 tries left." in client.get(page).get_data(as_text=True)
    post_action(client, f"/courier/order/{order_id}/deliver", page, pin=pin, route_id=day.routes[courier])
    assert state(db, order_id) == "delivered"
    assert "delivered. Thank you!" in client.get(page).get_data(as_text=True)


def test_a_replayed_action_is_answered_with_the_first_outcome(client: FlaskClient, db: Database,
                                                             day: Day) -> None:
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    post_action(client, f"{page}/pick-up", page)
    order_id = day.deliveries[courier][0]
    pin = pin_of(db, order_id)
    action = uuid.uuid4().hex
    url = f"/courier/order/{order_id}/deliver"
    first = post_action(client, url, page, json=True, pin=pin, action_id=action)
    again = post_action(client, url, page, json=True, pin=pin, action_id=action)
    assert first.status_code == again.status_code == 200  # type: ignore[attr-defined]
    one, two = first.get_json(), again.get_json()  # type: ignore[attr-defined]
    assert (one["status"], one["replayed"], two["status"], two["replayed"]) == ("ok", False, "ok", True)
    assert one["detail"] == two["detail"]
    with db.read() as s:
        delivered = s.scalar(select(func.count()).select_from(HandoffEvent).where(
            HandoffEvent.order_id == order_id, HandoffEvent.kind == "courier_to_resident"))
    assert delivered == 1


def test_refusals_are_clear_errors_not_tracebacks(client: FlaskClient, db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    order_id = day.deliveries[courier][0]
    early = post_action(client, f"/courier/order/{order_id}/deliver", page, json=True, pin="1234")
    assert early.status_code == 422  # type: ignore[attr-defined]
    assert "pick it up first" in early.get_json()["message"]  # type: ignore[attr-defined]
    post_action(client, f"{page}/pick-up", page)
    typo = post_action(client, f"/courier/order/{order_id}/deliver", page, pin="12")
    assert typo.status_code == 302  # type: ignore[attr-defined]
    assert "exactly 4 digits" in client.get(page).get_data(as_text=True)
    bad_id = post_action(client, f"/courier/order/{order_id}/fail", page, json=True, reason="refused",
                         action_id="x")
    assert bad_id.status_code == 422 and "action id" in bad_id.get_json()["message"]  # type: ignore[attr-defined]
    no_csrf = client.post(f"/courier/order/{order_id}/fail", data={"reason": "refused",
                                                                   "action_id": uuid.uuid4().hex})
    assert no_csrf.status_code == 400 and state(db, order_id) == "in_transit"


def test_fail_return_and_welfare_note_through_the_page(client: FlaskClient, db: Database, day: Day) -> None:
    from dispatch.read.alerts import open_alerts

    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    post_action(client, f"{page}/pick-up", page)
    order_id = day.deliveries[courier][0]
    post_action(client, f"/courier/order/{order_id}/welfare", page, text="息切れしていました")
    post_action(client, f"/courier/order/{order_id}/fail", page, reason="nobody_home")
    assert state(db, order_id) == "failed"
    assert "Brought back to the hub" in client.get(page).get_data(as_text=True)
    post_action(client, f"/courier/order/{order_id}/return", page)
    assert state(db, order_id) == "confirmed"
    with db.read() as s:
        alerts = open_alerts(s)
    assert {(a.kind, english(a.text)) for a in alerts} == {("welfare", "息切れしていました"),
                                                           ("delivery_failed", "nobody_home")}


def test_position_is_accepted_only_while_the_route_is_under_way(client: FlaskClient, db: Database,
                                                                day: Day) -> None:
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    token = csrf_token(client, page)
    fix = {"lon": 134.861, "lat": 35.571, "accuracy": 9}
    assert client.post("/courier/position", json=fix, headers={"X-CSRFToken": token}).status_code == 409
    assert client.post("/courier/position", json=fix).status_code == 400  # no CSRF header
    post_action(client, f"{page}/pick-up", page)
    assert 'data-active="1"' in client.get(page).get_data(as_text=True)
    token = csrf_token(client, page)
    bad = client.post("/courier/position", json={"lon": "east"}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "numbers" in bad.get_json()["message"]
    assert client.post("/courier/position", json=fix, headers={"X-CSRFToken": token}).status_code == 200
    with db.read() as s:
        (stored,) = s.scalars(select(CourierPosition)).all()
    assert (stored.volunteer_id, stored.route_id, stored.accuracy_m) == (courier, day.routes[courier], 9.0)


def test_sign_out_ends_the_courier_session(client: FlaskClient, db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    token = csrf_token(client, "/courier/")
    assert client.post("/courier/sign-out", data={"csrf_token": token}).status_code == 200
    assert client.get("/courier/").status_code == 404
