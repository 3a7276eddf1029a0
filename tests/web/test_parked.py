"""The parked-orders page: an operator sees what Hakobu could not deliver, calls the resident, and
puts the order back into the queue or cancels it (issue 13, item 1). Hub-scoped, CSRF-protected."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Message, Order
from dispatch.requests import ItemRequest
from dispatch.services import continuity
from dispatch.services.ordering import place_order
from tests.dispatch.test_continuity import at
from tests.dispatch.test_planning import hub_id, resident_id
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.db


@pytest.fixture
def parked(db: Database, tiny_region: str) -> str:
    """R1's order of Monday, never batched (no cutoff closed on Monday), found by Tuesday's sweep
    with no carry-over allowed: parked."""
    placed = place_order(db, resident_id(db, "R1"), [ItemRequest("パン", 1)], channel="web", now=at(0, 9))
    result = continuity.carry_over_hub(db, hub_id(db), now=at(1, 15),
                                       settings=Settings(carry_over_max_days=0))
    assert result.parked == {placed.number: "not delivered after 0 days carried over"}
    return placed.id


def test_the_operator_sees_the_parked_order_with_the_residents_name_and_phone(
        client: FlaskClient, make_user, parked: str) -> None:
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get("/orders/parked").get_data(as_text=True)
    assert 'data-order="1"' in page and "田中 花子" in page and 'href="tel:+817000000001"' in page
    assert "not delivered after 0 days carried over" in page


def test_back_into_the_queue_tells_the_resident_the_day(client: FlaskClient, make_user, db: Database,
                                                       parked: str) -> None:
    login(client, make_user("operator", hubs=("H1",)))
    token = csrf_token(client, "/orders/parked")
    page = client.post("/orders/parked/requeue", data={"csrf_token": token, "order_id": parked},
                       follow_redirects=True).get_data(as_text=True)
    assert "Order #1 is back in the queue" in page and 'data-order="1"' not in page
    with db.read() as s:
        order = s.get(Order, parked)
        assert order is not None and order.state == "confirmed" and order.carried_over == 0
        told = s.scalars(select(Message).where(Message.order_id == parked,
                                               Message.template == "carried_over")).all()
    assert len(told) == 1


def test_cancel_needs_a_reason_and_tells_the_resident(client: FlaskClient, make_user, db: Database,
                                                      parked: str) -> None:
    login(client, make_user("operator", hubs=("H1",)))
    token = csrf_token(client, "/orders/parked")
    page = client.post("/orders/parked/cancel", data={"csrf_token": token, "order_id": parked, "reason": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Say why the order is cancelled." in page
    page = client.post("/orders/parked/cancel", data={"csrf_token": token, "order_id": parked,
                                                      "reason": "moved away"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Order #1 cancelled" in page
    with db.read() as s:
        order = s.get(Order, parked)
        assert order is not None and order.state == "cancelled" and order.note == "moved away"


def test_another_hubs_operator_neither_sees_nor_acts_on_it(client: FlaskClient, make_user, make_hub,
                                                           db: Database, parked: str) -> None:
    make_hub("kannabe")
    login(client, make_user("operator", email="other@example.jp", hubs=("kannabe",)))
    assert 'data-order="1"' not in client.get("/orders/parked").get_data(as_text=True)
    token = csrf_token(client, "/orders/parked")
    response = client.post("/orders/parked/requeue", data={"csrf_token": token, "order_id": parked})
    assert response.status_code == 404
    assert client.post("/orders/parked/requeue", data={"order_id": parked}).status_code == 400  # no CSRF
    with db.read() as s:
        assert s.get(Order, parked).state == "parked"  # type: ignore[union-attr]
