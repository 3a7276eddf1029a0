"""The full route × audience table, enforced: a route that is not listed here fails the suite.

Three things are checked. Every rule of the app's URL map (path, endpoint, methods) is listed, so
a new or changed route fails until its audience is decided. Every audience that a route does not
admit is turned away by the access layer (anonymous staff pages go to the login, courier pages
answer 404, resident pages go to the resident sign-in, anyone else signed in gets 403), without the
view running. And hub scope: an operator of one hub gets 404 for another hub's plan, resident
(order entry), alert, courier, drone and hub, and sees none of its plans or parcels, while the
hub's own operator reaches the same objects.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Drone, Order, Plan, Route, Stop
from dispatch.services.delivery import welfare_note
from tests.dispatch.test_plan_edits import NOW
from tests.web.conftest import csrf_token, login
from tests.web.test_board import DAY, day  # noqa: F401 - the confirmed tiny day fixture
from web import create_app
from web.security import declared_access

#: endpoint -> who may use it. Update deliberately when adding a route.
ACCESS_TABLE: dict[str, set[str]] = {
    "auth.login": {"public"},
    "metrics.metrics": {"monitoring", "admin"},
    "auth.logout": {"operator", "planner", "admin"},
    "console.dashboard": {"operator", "planner", "admin"},
    "console.live_data": {"operator", "planner", "admin"},
    "intake.phone_search": {"operator", "admin"},
    "intake.phone_order": {"operator", "admin"},
    "intake.review": {"operator", "admin"},
    "intake.resolve": {"operator", "admin"},
    "intake.review_order": {"operator", "admin"},
    "intake.review_proxy": {"operator", "admin"},
    "intake.simulator": {"operator", "admin"},
    "people.resident": {"operator", "admin"},
    "closures.index": {"operator", "admin"},
    "closures.remove": {"operator", "admin"},
    "people.edit_proxy": {"operator", "admin"},
    "people.revoke_proxy": {"operator", "admin"},
    "people.set_standing": {"operator", "admin"},
    "people.standing_state": {"operator", "admin"},
    "board.board": {"operator", "planner", "admin"},
    "board.data": {"operator", "planner", "admin"},
    "board.acknowledge": {"operator", "admin"},
    "plans.index": {"operator", "planner", "admin"},
    "plans.show": {"operator", "planner", "admin"},
    "plans.move": {"operator", "admin"},
    "plans.reorder": {"operator", "admin"},
    "plans.drop": {"operator", "admin"},
    "plans.force_ground": {"operator", "admin"},
    "plans.ground_here": {"operator", "admin"},
    "plans.confirm": {"operator", "admin"},
    "plans.confirm_step": {"operator", "admin"},
    "plans.drop_step": {"operator", "admin"},
    "plans.undo": {"operator", "admin"},
    "plans.bus_handed": {"operator", "admin"},
    "plans.bus_collected": {"operator", "admin"},
    "resident.sign_in": {"public"},
    "resident.enter_code": {"public"},
    "resident.home": {"resident"},
    "resident.cancel": {"resident"},
    "resident.sign_out": {"resident"},
    "regular.index": {"resident"},
    "regular.change": {"resident"},
    "planner.index": {"planner", "admin"},
    "planner.kpis_csv": {"planner", "admin"},
    "planner.replay": {"planner", "admin"},
    "planner.scenario": {"planner", "admin"},
    "planner.scenario_run": {"planner", "admin"},
    "courier.link": {"public"},
    "courier.link_long": {"public"},
    "courier.sign_out": {"courier"},
    "courier.routes": {"courier"},
    "courier.route": {"courier"},
    "courier.token": {"courier"},
    "courier.pick_up": {"courier"},
    "courier.deliver": {"courier"},
    "courier.hand_over": {"courier"},
    "courier.fail": {"courier"},
    "courier.return_to_hub": {"courier"},
    "courier.welfare": {"courier"},
    "courier.position": {"courier"},
    "courier.sheet": {"courier"},
    "courier.service_worker": {"public"},
    "sheets.route_sheet_page": {"operator", "planner", "admin"},
    "operations.index": {"operator", "admin"},
    "operations.courier_off": {"operator", "admin"},
    "operations.weather": {"operator", "admin"},
    "operations.weather_reading": {"operator", "admin"},
    "operations.drone": {"operator", "admin"},
    "operations.zone": {"operator", "admin"},
    "operations.confirm_step": {"operator", "admin"},
    "operations.courier_back": {"operator", "admin"},
    "drones.index": {"operator", "admin"},
    "drones.show": {"operator", "admin"},
    "drones.take_off": {"operator", "admin"},
    "drones.drop": {"operator", "admin"},
    "drones.land": {"operator", "admin"},
    "drones.abort_sortie": {"operator", "admin"},
    "flight_log.index": {"operator", "admin"},
    "flight_log.download": {"operator", "admin"},
    "permits.index": {"operator", "admin"},
    "permits.create": {"operator", "admin"},
    "permits.edit": {"operator", "admin"},
    "permits.update": {"operator", "admin"},
    "parked.index": {"operator", "admin"},
    "parked.requeue": {"operator", "admin"},
    "parked.cancel": {"operator", "admin"},
    "volunteers.calendar": {"operator", "admin"},
    "volunteers.hours": {"operator", "planner", "admin"},
    "volunteers.record_training": {"operator", "admin"},
    "volunteers.callout": {"public"},
    "sms.twilio_inbound": {"webhook"},
    "sms.twilio_status": {"webhook"},
    "sms.gateway_webhook": {"webhook"},
    "integrations.index": {"admin"},
    "integrations.create": {"admin"},
    "integrations.show": {"admin"},
    "integrations.issue_token": {"admin"},
    "integrations.revoke_token": {"admin"},
    "integrations.switch": {"admin"},
    "integrations.add_endpoint": {"admin"},
    "integrations.remove_endpoint": {"admin"},
    "integrations.deliveries": {"admin"},
    "integrations.retry": {"admin"},
    "api.openapi": {"public"},
    "api.create_order": {"integration"},
    "api.get_order": {"integration"},
    "api.cancel": {"integration"},
    "api.list_plans": {"integration"},
    "api.get_plan": {"integration"},
    "api.list_events": {"integration"},
}

# --- the URL map: every rule, with its methods ---------------------------------------------------

#: rule -> (endpoint, methods besides HEAD/OPTIONS). A route added, moved or given another method
#: fails here until it is listed (and its audience above is decided deliberately).
URL_MAP: dict[str, tuple[str, frozenset[str]]] = {
    "/metrics": ("metrics.metrics", frozenset({"GET"})),
    "/login": ("auth.login", frozenset({"GET", "POST"})),
    "/logout": ("auth.logout", frozenset({"POST"})),
    "/": ("console.dashboard", frozenset({"GET"})),
    "/live": ("console.live_data", frozenset({"GET"})),
    "/intake/phone": ("intake.phone_search", frozenset({"GET"})),
    "/intake/phone/<resident_id>": ("intake.phone_order", frozenset({"GET", "POST"})),
    "/intake/review": ("intake.review", frozenset({"GET"})),
    "/intake/review/<message_id>": ("intake.resolve", frozenset({"POST"})),
    "/intake/review/<message_id>/order": ("intake.review_order", frozenset({"POST"})),
    "/intake/review/<message_id>/proxy": ("intake.review_proxy", frozenset({"POST"})),
    "/intake/simulator": ("intake.simulator", frozenset({"GET", "POST"})),
    "/intake/people/<resident_id>": ("people.resident", frozenset({"GET", "POST"})),
    "/closures/": ("closures.index", frozenset({"GET", "POST"})),
    "/order/regular/": ("regular.index", frozenset({"GET", "POST"})),
    "/order/regular/<resident_id>/<standing_id>/<state>": ("regular.change", frozenset({"POST"})),
    "/closures/<closure_id>/remove": ("closures.remove", frozenset({"POST"})),
    "/intake/people/<resident_id>/proxies/<proxy_id>": ("people.edit_proxy", frozenset({"POST"})),
    "/intake/people/<resident_id>/proxies/<proxy_id>/revoke": ("people.revoke_proxy", frozenset({"POST"})),
    "/intake/people/<resident_id>/standing": ("people.set_standing", frozenset({"POST"})),
    "/intake/people/<resident_id>/standing/<standing_id>/<state>":
        ("people.standing_state", frozenset({"POST"})),
    "/board": ("board.board", frozenset({"GET"})),
    "/board/data": ("board.data", frozenset({"GET"})),
    "/board/alerts/<alert_id>/acknowledge": ("board.acknowledge", frozenset({"POST"})),
    "/plans": ("plans.index", frozenset({"GET"})),
    "/plans/<plan_id>": ("plans.show", frozenset({"GET"})),
    "/plans/<plan_id>/move": ("plans.move", frozenset({"POST"})),
    "/plans/<plan_id>/reorder": ("plans.reorder", frozenset({"POST"})),
    "/plans/<plan_id>/drop": ("plans.drop", frozenset({"POST"})),
    "/plans/<plan_id>/force-ground": ("plans.force_ground", frozenset({"POST"})),
    "/plans/<plan_id>/ground": ("plans.ground_here", frozenset({"POST"})),
    "/plans/<plan_id>/confirm": ("plans.confirm", frozenset({"POST"})),
    "/plans/<plan_id>/confirm/ask": ("plans.confirm_step", frozenset({"GET"})),
    "/plans/<plan_id>/drop/ask": ("plans.drop_step", frozenset({"GET"})),
    "/plans/<plan_id>/undo": ("plans.undo", frozenset({"POST"})),
    "/plans/<plan_id>/bus/handed": ("plans.bus_handed", frozenset({"POST"})),
    "/plans/<plan_id>/bus/collected": ("plans.bus_collected", frozenset({"POST"})),
    "/order/sign-in": ("resident.sign_in", frozenset({"GET", "POST"})),
    "/order/code": ("resident.enter_code", frozenset({"GET", "POST"})),
    "/order/": ("resident.home", frozenset({"GET", "POST"})),
    "/order/<order_id>/cancel": ("resident.cancel", frozenset({"POST"})),
    "/order/sign-out": ("resident.sign_out", frozenset({"POST"})),
    "/planner/": ("planner.index", frozenset({"GET"})),
    "/planner/kpis.csv": ("planner.kpis_csv", frozenset({"GET"})),
    "/planner/replay": ("planner.replay", frozenset({"GET"})),
    "/planner/scenario": ("planner.scenario", frozenset({"GET", "POST"})),
    "/planner/scenario/runs/<run_id>": ("planner.scenario_run", frozenset({"GET"})),
    "/c/<token>": ("courier.link", frozenset({"GET", "POST"})),
    "/courier/login/<token>": ("courier.link_long", frozenset({"GET"})),
    "/courier/sign-out": ("courier.sign_out", frozenset({"POST"})),
    "/courier/": ("courier.routes", frozenset({"GET"})),
    "/courier/route/<route_id>": ("courier.route", frozenset({"GET"})),
    "/courier/token": ("courier.token", frozenset({"GET"})),
    "/courier/route/<route_id>/pick-up": ("courier.pick_up", frozenset({"POST"})),
    "/courier/order/<order_id>/deliver": ("courier.deliver", frozenset({"POST"})),
    "/courier/order/<order_id>/hand-over": ("courier.hand_over", frozenset({"POST"})),
    "/courier/order/<order_id>/fail": ("courier.fail", frozenset({"POST"})),
    "/courier/order/<order_id>/return": ("courier.return_to_hub", frozenset({"POST"})),
    "/courier/order/<order_id>/welfare": ("courier.welfare", frozenset({"POST"})),
    "/courier/position": ("courier.position", frozenset({"POST"})),
    "/courier/route/<route_id>/sheet": ("courier.sheet", frozenset({"GET"})),
    "/courier/sw.js": ("courier.service_worker", frozenset({"GET"})),
    "/routes/<route_id>/sheet": ("sheets.route_sheet_page", frozenset({"GET"})),
    "/operations": ("operations.index", frozenset({"GET"})),
    "/operations/courier": ("operations.courier_off", frozenset({"POST"})),
    "/operations/weather": ("operations.weather", frozenset({"POST"})),
    "/operations/weather/reading": ("operations.weather_reading", frozenset({"POST"})),
    "/operations/drone": ("operations.drone", frozenset({"POST"})),
    "/operations/zone": ("operations.zone", frozenset({"POST"})),
    "/operations/<action>/ask": ("operations.confirm_step", frozenset({"GET"})),
    "/operations/courier/back": ("operations.courier_back", frozenset({"POST"})),
    "/drones": ("drones.index", frozenset({"GET"})),
    "/drones/<route_id>": ("drones.show", frozenset({"GET"})),
    "/drones/<route_id>/take-off": ("drones.take_off", frozenset({"POST"})),
    "/drones/<route_id>/drop/<order_id>": ("drones.drop", frozenset({"POST"})),
    "/drones/<route_id>/land": ("drones.land", frozenset({"POST"})),
    "/drones/<route_id>/abort": ("drones.abort_sortie", frozenset({"POST"})),
    "/flight-log": ("flight_log.index", frozenset({"GET"})),
    "/flight-log/<kind>.csv": ("flight_log.download", frozenset({"GET"})),
    "/permits": ("permits.index", frozenset({"GET"})),
    "/permits/new": ("permits.create", frozenset({"POST"})),
    "/permits/<permit_id>": ("permits.edit", frozenset({"GET"})),
    "/permits/<permit_id>/save": ("permits.update", frozenset({"POST"})),
    "/orders/parked": ("parked.index", frozenset({"GET"})),
    "/orders/parked/requeue": ("parked.requeue", frozenset({"POST"})),
    "/orders/parked/cancel": ("parked.cancel", frozenset({"POST"})),
    "/volunteers": ("volunteers.calendar", frozenset({"GET"})),
    "/volunteers/hours": ("volunteers.hours", frozenset({"GET"})),
    "/volunteers/<volunteer_id>/training": ("volunteers.record_training", frozenset({"POST"})),
    "/volunteer/callout/<token>": ("volunteers.callout", frozenset({"GET", "POST"})),
    "/sms/twilio/inbound": ("sms.twilio_inbound", frozenset({"POST"})),
    "/sms/twilio/status": ("sms.twilio_status", frozenset({"POST"})),
    "/sms/gateway/webhook": ("sms.gateway_webhook", frozenset({"POST"})),
    "/admin/integrations": ("integrations.index", frozenset({"GET"})),
    "/admin/integrations/new": ("integrations.create", frozenset({"POST"})),
    "/admin/integrations/<integration_id>": ("integrations.show", frozenset({"GET"})),
    "/admin/integrations/<integration_id>/tokens": ("integrations.issue_token", frozenset({"POST"})),
    "/admin/integrations/<integration_id>/tokens/<token_id>/revoke":
        ("integrations.revoke_token", frozenset({"POST"})),
    "/admin/integrations/<integration_id>/active": ("integrations.switch", frozenset({"POST"})),
    "/admin/integrations/<integration_id>/endpoints": ("integrations.add_endpoint", frozenset({"POST"})),
    "/admin/integrations/<integration_id>/endpoints/<endpoint_id>/remove":
        ("integrations.remove_endpoint", frozenset({"POST"})),
    "/admin/integrations/<integration_id>/deliveries": ("integrations.deliveries", frozenset({"GET"})),
    "/admin/integrations/<integration_id>/deliveries/<delivery_id>/retry":
        ("integrations.retry", frozenset({"POST"})),
    "/api/v1/openapi.json": ("api.openapi", frozenset({"GET"})),
    "/api/v1/orders": ("api.create_order", frozenset({"POST"})),
    "/api/v1/orders/<order_id>": ("api.get_order", frozenset({"GET"})),
    "/api/v1/orders/<order_id>/cancel": ("api.cancel", frozenset({"POST"})),
    "/api/v1/plans": ("api.list_plans", frozenset({"GET"})),
    "/api/v1/plans/<plan_id>": ("api.get_plan", frozenset({"GET"})),
    "/api/v1/events": ("api.list_events", frozenset({"GET"})),
}


#: The sessions a request can come with (staff roles sign in; couriers and residents carry keys).
SESSIONS = ("anonymous", "operator", "planner", "admin", "courier", "resident")
OPEN = {"public", "webhook"}


def test_every_route_is_in_the_access_table(app: Flask) -> None:
    endpoints = {e for e in app.view_functions if e != "static"}
    assert endpoints == set(ACCESS_TABLE), (
        f"unlisted: {sorted(endpoints - set(ACCESS_TABLE))}, "
        f"gone: {sorted(set(ACCESS_TABLE) - endpoints)}"
    )


def test_every_rule_of_the_url_map_is_listed_with_its_methods(app: Flask) -> None:
    rules = {r.rule: (r.endpoint, frozenset((r.methods or set()) - {"HEAD", "OPTIONS"}))
             for r in app.url_map.iter_rules() if r.endpoint != "static"}
    assert len(rules) == len([r for r in app.url_map.iter_rules() if r.endpoint != "static"]), \
        "two rules share a path"
    assert rules == URL_MAP, (
        f"unlisted: {sorted(set(rules) - set(URL_MAP))}, gone: {sorted(set(URL_MAP) - set(rules))}, "
        f"changed: {sorted(k for k in set(rules) & set(URL_MAP) if rules[k] != URL_MAP[k])}")
    assert {endpoint for endpoint, _methods in URL_MAP.values()} == set(ACCESS_TABLE)


def test_every_route_declares_exactly_the_listed_audience(app: Flask) -> None:
    for endpoint, audience in ACCESS_TABLE.items():
        assert declared_access(app, endpoint) == audience, endpoint


# --- enforcement: route × audience -------------------------------------------------------------


@pytest.fixture
def bare_app(database_url: str) -> Iterator[Flask]:
    """The real app without CSRF, so that each request reaches the access check. (Rate limits stay
    on: the limiter is one object for every app of the process, so switching it off here would
    switch it off for the tests after this one; no route is asked often enough to reach one.)"""
    application = create_app({"database_url": database_url, "secret_key": "test-secret-key",
                              "tiles": "none", "TESTING": True, "WTF_CSRF_ENABLED": False})
    yield application
    application.extensions["hakobu"].db.dispose()


def _client_as(app: Flask, who: str, make_user) -> FlaskClient:
    client = app.test_client()
    if who in ("operator", "planner", "admin"):
        login_without_csrf(client, make_user(who))
    elif who == "courier":
        with client.session_transaction() as session:
            session["courier_volunteer_id"] = "no-such-volunteer"
    elif who == "resident":
        with client.session_transaction() as session:
            session["resident_phone"] = "+819000000000"
    return client


def login_without_csrf(client: FlaskClient, email: str) -> None:
    from tests.web.conftest import PASSWORD

    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _expected_refusal(allowed: set[str], who: str) -> tuple[int, str | None]:
    """How the access layer turns ``who`` away from a route admitting ``allowed``: (status,
    where a redirect goes)."""
    if allowed == {"integration"}:
        return 401, None  # the API: a bearer token or nothing, whatever session comes with it
    if allowed & {"operator", "planner", "admin"} and who in ("anonymous", "courier", "resident"):
        return 302, "/login"  # no console user signed in
    if allowed == {"courier"}:
        return 404, None
    if allowed == {"resident"}:
        return 302, "/order/sign-in"
    return 403, None


def test_every_audience_a_route_does_not_admit_is_turned_away(bare_app: Flask, make_user,
                                                              db: Database) -> None:
    clients = {who: _client_as(bare_app, who, make_user) for who in SESSIONS}
    checked = 0
    for rule, (endpoint, methods) in sorted(URL_MAP.items()):
        allowed = ACCESS_TABLE[endpoint]
        if allowed & OPEN:
            continue
        path = rule
        for argument in ("resident_id", "message_id", "alert_id", "plan_id", "order_id", "run_id",
                         "token", "route_id", "integration_id", "token_id", "endpoint_id", "delivery_id"):
            path = path.replace(f"<{argument}>", "x" * 22)
        for who in SESSIONS:
            if who in allowed:
                continue
            status, location = _expected_refusal(allowed, who)
            for method in sorted(methods):
                response = clients[who].open(path, method=method)
                assert response.status_code == status, (method, rule, who, response.status_code)
                if location is not None:
                    assert response.location.startswith(location), (method, rule, who, response.location)
                checked += 1
    assert checked > 100


# --- hub scope ---------------------------------------------------------------------------------


@pytest.fixture
def other_hub(make_hub, day: dict[str, str]) -> str:  # noqa: F811 - the imported fixture
    """A second hub in the tiny region, with nothing of its own."""
    return make_hub("other", region_code="tiny")


def _objects(db: Database, day: dict[str, str]) -> dict[str, str]:  # noqa: F811
    """Ids of hub H1's confirmed plan, a resident, a drone and an open alert."""
    outcome = welfare_note(db, day["courier"], "seemed unwell", "a1b2c3d4-0000-4000-8000-00000000abcd", NOW,
                           order_id=day["carried"])
    with db.read() as s:
        order = s.get_one(Order, day["carried"])
        plan_id = s.scalars(select(Plan.id).join(Route, Route.plan_id == Plan.id)
                            .join(Stop, Stop.route_id == Route.id)
                            .where(Stop.order_id == order.id, Plan.state == "confirmed")).one()
        drone = s.scalars(select(Drone.id).where(Drone.hub_id == day["hub"])).first()
        sortie = s.scalars(select(Route.id).where(Route.plan_id == plan_id,
                                                  Route.drone_id.is_not(None))).first()
        courier_route = s.scalars(select(Route.id).where(Route.plan_id == plan_id,
                                                         Route.volunteer_id == day["courier"])).one()
    assert sortie, "the tiny day flies a drone sortie"
    return {"plan": plan_id, "resident": order.resident_id, "drone": drone or "", "sortie": sortie,
            "route": courier_route,
            "number": str(order.number), "alert": str(outcome.detail["alert_id"])}


def _scoped_requests(client: FlaskClient, ids: dict[str, str], day: dict[str, str]) -> dict[str, int]:  # noqa: F811
    """The hub-scoped pages and actions of H1's objects, each with its status code."""
    token = csrf_token(client, "/plans")

    def post(path: str, **data: str) -> int:
        return client.post(path, data={"csrf_token": token, **data}).status_code

    plan = ids["plan"]
    statuses = {
        "plan page": client.get(f"/plans/{plan}").status_code,
        "plan confirm": post(f"/plans/{plan}/confirm"),
        "plan confirm step": client.get(f"/plans/{plan}/confirm/ask").status_code,
        "plan drop step": client.get(f"/plans/{plan}/drop/ask?order_id={day['carried']}").status_code,
        "plan undo": post(f"/plans/{plan}/undo"),
        "plan drop": post(f"/plans/{plan}/drop", order_id=day["carried"]),
        "plan move": post(f"/plans/{plan}/move", order_id=day["carried"], vehicle=day["courier"]),
        "plan reorder": post(f"/plans/{plan}/reorder", vehicle=day["courier"], numbers=ids["number"]),
        "plan force ground": post(f"/plans/{plan}/force-ground", order_id=day["carried"]),
        "plan ground here": post(f"/plans/{plan}/ground", order_id=day["carried"]),
        "order entry page": client.get(f"/intake/phone/{ids['resident']}").status_code,
        "route sheet": client.get(f"/routes/{ids['route']}/sheet").status_code,
        "alert acknowledge": post(f"/board/alerts/{ids['alert']}/acknowledge"),
        "courier call-off": post("/operations/courier", target=day["courier"], value="off"),
        "weather hold": post("/operations/weather", target=day["hub"], value="on"),
        "weather hold step": client.get(f"/operations/weather/ask?target={day['hub']}&value=on").status_code,
        "courier call-off step": client.get(f"/operations/courier/ask?target={day['courier']}&value=off")
        .status_code,
        "courier back": post("/operations/courier/back", target=day["courier"], value="on"),
        "volunteers' week": client.get(f"/volunteers?hub={day['hub']}").status_code,
    }
    if ids["drone"]:
        statuses["drone switch"] = post("/operations/drone", target=ids["drone"], value="available")
    statuses["drone sortie page"] = client.get(f"/drones/{ids['sortie']}").status_code
    statuses["drone sortie land"] = post(f"/drones/{ids['sortie']}/land")
    return statuses


def assert_nothing_of_theirs(client: FlaskClient, ids: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    """The signed-in user gets 404 on every hub-scoped page and action of the day's objects and
    sees none of them in the lists."""
    statuses = _scoped_requests(client, ids, day)
    assert statuses == dict.fromkeys(statuses, 404)
    assert f'data-plan="{ids["plan"]}"' not in client.get("/plans").get_data(as_text=True)
    assert client.get(f"/board/data{DAY}").get_json()["parcels"] == []
    assert client.get(f"/board/data{DAY}").get_json()["alerts"] == []
    assert "seemed unwell" not in client.get(f"/board{DAY}").get_data(as_text=True)


def test_an_operator_of_another_hub_gets_404_on_every_hub_scoped_page(
        client: FlaskClient, make_user, db: Database, day: dict[str, str], other_hub: str) -> None:  # noqa: F811
    ids = _objects(db, day)
    login(client, make_user("operator", email="b@example.jp", hubs=("other",)))
    assert_nothing_of_theirs(client, ids, day)


def test_the_hubs_own_operator_reaches_the_same_pages(
        client: FlaskClient, make_user, db: Database, day: dict[str, str], other_hub: str) -> None:  # noqa: F811
    ids = _objects(db, day)
    login(client, make_user("operator", hubs=("H1",)))
    token = csrf_token(client, "/plans")
    assert client.get(f"/plans/{ids['plan']}").status_code == 200
    assert f'data-plan="{ids["plan"]}"' in client.get("/plans").get_data(as_text=True)
    assert client.get(f"/intake/phone/{ids['resident']}").status_code == 200
    assert client.get(f"/drones/{ids['sortie']}").status_code == 200
    assert client.get(f"/routes/{ids['route']}/sheet").status_code == 200
    assert client.get(f"/volunteers?hub={day['hub']}").status_code == 200
    assert client.get(f"/board/data{DAY}").get_json()["parcels"]
    assert client.post(f"/board/alerts/{ids['alert']}/acknowledge",
                       data={"csrf_token": token}).status_code == 302
    assert client.get(f"/operations/weather/ask?target={day['hub']}&value=on").status_code == 200
    assert client.get(f"/operations/courier/ask?target={day['courier']}&value=off").status_code == 200
    assert client.post("/operations/weather", data={"csrf_token": token, "target": day["hub"],
                                                    "value": "on"}).status_code == 302


def test_planners_and_admins_see_every_hub(client: FlaskClient, make_user, db: Database,
                                           day: dict[str, str], other_hub: str) -> None:  # noqa: F811
    ids = _objects(db, day)
    for role in ("planner", "admin"):
        login(client, make_user(role))
        assert client.get(f"/plans/{ids['plan']}").status_code == 200
        assert client.get(f"/board/data{DAY}").get_json()["parcels"]
        client.post("/logout", data={"csrf_token": csrf_token(client, "/plans")})
