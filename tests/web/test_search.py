"""Issue 16, item 6: search and filters on the order queue, the handoff board and the plans list
(order number, name, phone, state, hub, route), one matching rule for the three."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Order, Plan, Resident, Route
from dispatch.read.search import Search, matches, text_matches
from tests.web.conftest import login
from tests.web.test_board import DAY, day  # noqa: F401 - the confirmed tiny day fixture

pytestmark = pytest.mark.db


@pytest.mark.parametrize(("text", "found"), [
    ("12", True), ("#12", True), ("＃12", True), ("13", False),
    ("090-1234", True), ("+81 90 1234 5678", True), ("09012345678", True), ("5678", True), ("56", False),
    ("田中", True), ("田中花子", True), ("田中　花子", True), ("r0204", True), ("佐藤", False), ("", True),
])
def test_one_rule_finds_an_order_by_number_phone_name_or_code(text: str, found: bool) -> None:
    assert text_matches(text, number=12, name="田中 花子", code="R0204", phone="+819012345678") is found


def test_state_hub_and_route_must_be_equal_when_given() -> None:
    order = {"number": 3, "name": "森", "code": "R3", "phone": "+817000000003", "state": "planned",
             "hub_id": "h1", "carrier_id": "v2"}
    assert matches(Search(state="planned", hub_id="h1", carrier_id="v2"), **order)
    assert not matches(Search(state="failed"), **order)
    assert not matches(Search(hub_id="h2"), **order)
    assert not matches(Search(carrier_id="v1"), **order)
    assert not Search().active and Search(text="森").active


def _rows(html: str, table_id: str) -> list[str]:
    body = html[html.index(f'id="{table_id}"'):]
    body = body[:body.index("</table>")]
    return re.findall(r'<tr data-order="(\d+)"', body)


def test_the_queue_board_and_plans_list_find_a_resident_by_name_and_phone(
        client: FlaskClient, db: Database, day: dict[str, str], make_user) -> None:  # noqa: F811
    with db.read() as s:
        locked = s.get_one(Order, day["locked"])
        resident = s.get_one(Resident, locked.resident_id)
        others = list(s.scalars(select(Order.number).where(Order.id != locked.id)))
        carried_route = s.scalars(select(Route.volunteer_id).where(Route.volunteer_id.is_not(None))).first()
    login(client, make_user("operator", hubs=("H1",)))

    board = client.get(f"/board{DAY}&q={resident.name}").get_data(as_text=True)
    assert _rows(board, "board") == [str(locked.number)] and others
    assert 'data-url="/board/data?day=' in board and "q=" in board  # the poller keeps the search
    data = client.get(f"/board/data{DAY}&q={resident.phone[-4:]}").get_json()
    assert [p["number"] for p in data["parcels"]] == [locked.number]
    assert client.get(f"/board/data{DAY}&state=delivered").get_json()["parcels"] == []
    whole = client.get(f"/board/data{DAY}").get_json()["parcels"]
    on_route = client.get(f"/board/data{DAY}&route={carried_route}").get_json()["parcels"]
    assert on_route and all(p["carrier_id"] == carried_route for p in on_route)
    assert len(whole) >= len(on_route)

    plans = client.get(f"/plans?q=%23{locked.number}").get_data(as_text=True)
    with db.read() as s:
        confirmed = s.scalars(select(Plan.id).where(Plan.state == "confirmed")).one()
    assert f'data-plan="{confirmed}"' in plans
    assert "data-plan=" not in client.get("/plans?q=nobody-is-called-this").get_data(as_text=True)
    assert 'name="q"' in plans and 'name="route"' in plans


def test_the_dashboard_queue_filters_by_state(client: FlaskClient, db: Database, make_user,
                                              tiny_region: str) -> None:
    from tests.dispatch.test_planning import five_orders

    five_orders(db)  # batched at the cutoff, not planned
    login(client, make_user("operator", hubs=("H1",)))
    everything = _rows(client.get("/").get_data(as_text=True), "order-queue")
    assert len(everything) == 5
    assert _rows(client.get("/?state=failed").get_data(as_text=True), "order-queue") == []
    with db.read() as s:
        first = s.scalars(select(Order).order_by(Order.number)).first()
        assert first is not None
        name = s.get_one(Resident, first.resident_id).name
    page = client.get(f"/?q={name}").get_data(as_text=True)
    assert _rows(page, "order-queue") == [str(first.number)]
    assert "1 of 5 shown" in page
    live = client.get(f"/live?q={name}").get_json()
    assert [o["number"] for o in live["orders"]] == [first.number]
