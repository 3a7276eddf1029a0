"""Operators' intake pages: phone-proxy entry, SMS simulator, review queue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Hub, Message, Order, Resident
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.db


@pytest.fixture
def operator(client: FlaskClient, make_user, tiny_region: str) -> FlaskClient:
    login(client, make_user("operator", hubs=("H1",)))
    return client


def test_phone_order_records_channel_and_operator(operator: FlaskClient, db: Database) -> None:
    found = operator.get("/intake/phone?q=田中").get_data(as_text=True)
    link = re.search(r'href="(/intake/phone/[^"]+)"', found).group(1)
    token = csrf_token(operator, link)
    response = operator.post(link, data={"csrf_token": token, "item0": "薬", "qty0": "1",
                                         "wish": "0:any", "priority": "1"})
    assert response.status_code == 302
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        resident = s.get(Resident, order.resident_id)
    assert order.channel == "phone" and order.entered_by_user_id is not None
    assert order.priority == 1 and resident.code == "R1"


def test_operators_of_another_hub_cannot_reach_a_resident(client: FlaskClient, db: Database,
                                                          make_user, make_hub, tiny_region: str) -> None:
    make_hub("other", region_code="tiny")
    login(client, make_user("operator", hubs=("other",)))
    with db.read() as s:
        resident_id = s.scalars(select(Resident.id).where(Resident.code == "R1")).one()
    assert client.get(f"/intake/phone/{resident_id}").status_code == 404
    results = client.get("/intake/phone?q=田中").get_data(as_text=True)
    assert "/intake/phone/" not in results and "+817000000001" not in results


def test_simulator_shows_the_japanese_confirmation(operator: FlaskClient, db: Database) -> None:
    token = csrf_token(operator, "/intake/simulator")
    response = operator.post("/intake/simulator", data={"csrf_token": token,
                                                        "phone": "+817000000001", "body": "注文 米 2"})
    assert response.status_code == 302
    page = operator.get(response.headers["Location"]).get_data(as_text=True)
    assert "注文 米 2" in page and "受け付けました" in page
    with db.read() as s:
        reply = s.scalars(select(Message).where(Message.direction == "out")).one()
        order = s.scalars(select(Order)).one()
    assert reply.status == "sent" and reply.transport == "simulator"
    assert order.channel == "sms"


def test_unknown_texts_land_in_the_review_queue_and_can_be_closed(operator: FlaskClient) -> None:
    token = csrf_token(operator, "/intake/simulator")
    operator.post("/intake/simulator", data={"csrf_token": token, "phone": "+819099990000",
                                             "body": "注文 米 1"})
    queue = operator.get("/intake/review").get_data(as_text=True)
    assert "+819099990000" in queue and "unknown number" in queue
    action = re.search(r'action="(/intake/review/[^"]+)"', queue).group(1)
    assert operator.post(action, data={"csrf_token": csrf_token(operator, "/intake/review"),
                                       "note": "called back"}).status_code == 302
    assert "+819099990000" not in operator.get("/intake/review").get_data(as_text=True)


def test_planners_cannot_enter_orders(client: FlaskClient, make_user, tiny_region: str) -> None:
    login(client, make_user("planner"))
    assert client.get("/intake/phone").status_code == 403
    assert client.get("/intake/simulator").status_code == 403


def test_hub_fixture_is_in_the_tiny_region(db: Database, tiny_region: str) -> None:
    with db.read() as s:
        assert s.scalars(select(Hub.code)).all() == ["H1"]


def _confirmed_and_sent(db: Database) -> tuple[str, str]:
    """A tiny plan confirmed and its texts "delivered" by the simulator transport, as in the demo:
    returns (a courier's id, an order id on that courier's route)."""
    from dispatch.services.plans import confirm_plan
    from sms.sender import send_due
    from sms.transports import SimulatorTransport
    from tests.dispatch.test_plan_edits import NOW, SETTINGS, planned
    from tests.dispatch.test_planning import latest_plan

    batch_id, plan_id, _ = planned(db)
    confirm_plan(db, plan_id, None, NOW, SETTINGS)
    send_due(db, SimulatorTransport())
    route = next(r for r in latest_plan(db, batch_id).routes
                 if r.volunteer_id and any(st.kind == "delivery" for st in r.stops))
    return str(route.volunteer_id), next(st.order_id for st in route.stops if st.kind == "delivery")


def test_simulator_lists_sent_courier_links_and_pins(operator: FlaskClient, db: Database) -> None:
    from dispatch.models import Volunteer
    from dispatch.services.pins import pin_matches

    courier, order_id = _confirmed_and_sent(db)
    page = operator.get("/intake/simulator").get_data(as_text=True)
    with db.read() as s:
        code = s.get(Volunteer, courier).code  # type: ignore[union-attr]
        order = s.get(Order, order_id)
        assert order is not None
        number, pin_hash = order.number, order.pin_hash
    link = re.search(r'<li data-template="courier_route_link" data-recipient="courier">\s*'
                     rf'<span class="to">Courier {code} [^<]*</span>.*?'
                     r'<a class="button courier-link" href="(https://hakobu\.example/courier/login/[^"]+)"',
                     page, re.S)
    assert link, "the courier's route link is not listed with an Open button"
    pin_sms = re.search(rf'<li data-template="order_planned" data-recipient="resident" data-order="{number}">'
                        r'.*?<span class="text">([^<]*)</span>', page, re.S)
    assert pin_sms, "the resident's delivery-PIN text is not listed"
    pin = re.search(r"PIN is (\d{4,8})|暗証番号は(\d{4,8})", pin_sms.group(1))
    assert pin, pin_sms.group(1)
    assert pin_hash and pin_matches(order_id, pin.group(1) or pin.group(2), pin_hash)  # the PIN now valid
    couriers = operator.get("/intake/simulator?sent=couriers").get_data(as_text=True)
    assert "courier-link" in couriers and 'data-template="order_planned"' not in couriers
    pins = operator.get("/intake/simulator?sent=pins").get_data(as_text=True)
    assert 'data-template="order_planned"' in pins and "courier-link" not in pins
    assert 'data-template="order_received"' in page and 'data-template="order_received"' not in pins


def test_sent_messages_stay_within_the_operators_hubs(client: FlaskClient, db: Database, make_user,
                                                      make_hub, tiny_region: str) -> None:
    _confirmed_and_sent(db)
    make_hub("other", region_code="tiny")
    login(client, make_user("operator", email="b@example.jp", hubs=("other",)))
    page = client.get("/intake/simulator").get_data(as_text=True)
    assert "Sent messages" in page and "Nothing sent yet." in page
    assert "courier/login" not in page and 'data-template="order_planned"' not in page


def test_phone_order_form_speaks_japanese(operator: FlaskClient, db: Database) -> None:
    with db.read() as s:
        resident_id = s.scalars(select(Resident.id).where(Resident.code == "R1")).one()
    page = operator.get(f"/intake/phone/{resident_id}?lang=ja").get_data(as_text=True)
    assert "明日の午前" in page and "1 至急（薬）" in page and "Tomorrow morning" not in page
    english = operator.get(f"/intake/phone/{resident_id}?lang=en").get_data(as_text=True)
    assert "Tomorrow morning" in english and "明日の午前" not in english


def test_language_choice_is_remembered_and_switchable(operator: FlaskClient) -> None:
    assert '<html lang="en">' in operator.get("/intake/review").get_data(as_text=True)  # browser: English
    japanese = operator.get("/intake/review?lang=ja").get_data(as_text=True)
    assert '<html lang="ja">' in japanese and 'href="/intake/review?lang=en"' in japanese  # the switch
    later = operator.get("/intake/phone").get_data(as_text=True)  # no ?lang: the session remembers
    assert '<html lang="ja">' in later and "電話注文" in later
    assert '<html lang="en">' in operator.get("/intake/phone?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in operator.get("/intake/review").get_data(as_text=True)


def test_console_menu_by_role(client: FlaskClient, make_user, tiny_region: str) -> None:
    login(client, make_user("operator", hubs=("H1",)))
    nav = client.get("/intake/review").get_data(as_text=True)
    assert all(f'data-nav="{k}"' in nav for k in ("plans", "board", "operations", "simulator"))
    assert 'data-nav="planner"' not in nav
    client.post("/logout", data={"csrf_token": csrf_token(client, "/intake/review")})
    login(client, make_user("planner"))
    nav = client.get("/board").get_data(as_text=True)
    assert all(f'data-nav="{k}"' in nav for k in ("plans", "board", "planner"))
    assert 'data-nav="operations"' not in nav and 'data-nav="simulator"' not in nav


def test_a_confirmed_plan_points_operators_to_the_simulator(operator: FlaskClient, db: Database) -> None:
    from dispatch.models import Plan

    _confirmed_and_sent(db)
    with db.read() as s:
        plan_id = s.scalars(select(Plan.id).where(Plan.state == "confirmed")).one()
    page = operator.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert re.search(r'id="sent-hint">.*?<a href="/intake/simulator\?sent=couriers">', page)


def test_planners_get_no_simulator_hint(client: FlaskClient, make_user, db: Database,
                                        tiny_region: str) -> None:
    from dispatch.models import Plan

    _confirmed_and_sent(db)
    login(client, make_user("planner"))
    with db.read() as s:
        plan_id = s.scalars(select(Plan.id).where(Plan.state == "confirmed")).one()
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "Confirmed at" in page and "sent-hint" not in page


def test_the_simulator_is_off_when_the_console_sends_real_sms(database_url: str, make_user, db: Database,
                                                              tiny_region: str) -> None:
    """With Twilio configured, a simulated text would reach a real phone and the page's outbox drain
    would mark real residents' queued texts sent without sending them: the page refuses."""
    from dispatch.services import outbox
    from web import create_app

    app = create_app({"database_url": database_url, "secret_key": "test-secret-key", "tiles": "none",
                      "sms_transport": "twilio", "outbox_worker": False, "TESTING": True})
    try:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(client, make_user("operator", hubs=("H1",)))
        with db.write() as s:
            outbox.queue(s, "+817000000001", "help", {}, "ja")
        page = client.get("/intake/simulator")
        assert page.status_code == 409 and "sends real SMS" in page.get_data(as_text=True)
        token = csrf_token(client, "/operations")
        posted = client.post("/intake/simulator", data={"csrf_token": token, "phone": "+817000000001",
                                                        "body": "注文 米 2"})
        assert posted.status_code == 409
        with db.read() as s:
            assert s.scalars(select(Message)).one().status == "queued"  # nothing drained, nothing sent
            assert s.scalars(select(Order)).all() == []
    finally:
        app.extensions["hakobu"].db.dispose()


def test_the_simulator_never_shows_another_hubs_conversation(app, db: Database, make_user, make_hub,
                                                             tiny_region: str) -> None:
    """Red-team finding: ``?phone=`` of another hub's courier showed that courier's single-use route
    link, even to an operator with no hub. Only the operator's own residents (and the unknown number)
    can be picked, so a thread of any other number is not shown."""
    from dispatch.models import Volunteer

    courier, order_id = _confirmed_and_sent(db)
    with db.read() as s:
        courier_phone = s.get(Volunteer, courier).phone  # type: ignore[union-attr]
        resident_phone = s.get(Order, order_id).resident.phone  # type: ignore[union-attr]
    make_hub("other", region_code="tiny")
    for email, hubs in (("b@example.jp", ("other",)), ("nohub@example.jp", ())):
        client = app.test_client()
        login(client, make_user("operator", email=email, hubs=hubs))
        for phone in (courier_phone, resident_phone):
            page = client.get("/intake/simulator", query_string={"phone": phone}).get_data(as_text=True)
            assert "courier/login" not in page and "PIN is" not in page, (email, phone)


def test_a_sign_in_code_is_listed_only_to_the_residents_hub(app, db: Database, make_user, make_hub,
                                                            tiny_region: str) -> None:
    """Red-team finding: residents' sign-in codes were queued without a resident, so the simulator
    listed them to every operator as texts to an unknown number."""
    from dispatch.services.signin import issue_login_code
    from sms.sender import send_due
    from sms.transports import SimulatorTransport

    with db.read() as s:
        resident = s.scalars(select(Resident).join(Hub).where(Hub.code == "H1")).first()
        assert resident is not None
        phone = resident.phone
    assert issue_login_code(db, phone, "pepper", 600, now=dt.datetime.now(dt.UTC))
    send_due(db, SimulatorTransport())
    make_hub("other", region_code="tiny")
    for email, hub, listed in (("b@example.jp", "other", False), ("a@example.jp", "H1", True)):
        client = app.test_client()
        login(client, make_user("operator", email=email, hubs=(hub,)))
        page = client.get("/intake/simulator").get_data(as_text=True)
        assert ('data-template="login_code"' in page) is listed, email
