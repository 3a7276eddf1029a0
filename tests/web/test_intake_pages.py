"""Operators' intake pages: phone-proxy entry, SMS simulator, review queue."""

from __future__ import annotations

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
