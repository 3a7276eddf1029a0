"""Bus legs in the console (issue 20, item 3): the plan page shows the bus route and its KPI, the
operator records the handover to the driver and the resident's collection at the stop, and the
board's custody chain reads hub → the trip's driver → resident."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import BusTrip, Message, Order
from dispatch.planning import plan_batch
from dispatch.region import read_region
from dispatch.region.importer import load_region
from dispatch.requests import ItemRequest
from dispatch.services.handoffs import chain_of
from dispatch.services.plans import pin_for_notification
from tests.dispatch.test_bus_legs import CUTOFF, MONDAY, TOKYO, make_bus_valley
from tests.dispatch.test_planning import order_batch
from tests.web.conftest import csrf_token, login
from web import create_app

pytestmark = pytest.mark.db
NOW = dt.datetime.combine(MONDAY, dt.time(10, 5), TOKYO)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(
        {"database_url": database_url, "secret_key": "test-secret-key", "tiles": "none", "TESTING": True},
        clock=lambda: NOW,
    )
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def bus_valley(tmp_path: Path) -> Path:
    return make_bus_valley(tmp_path)


def post(client: FlaskClient, plan_id: str, action: str, **data: str) -> str:
    token = csrf_token(client, f"/plans/{plan_id}")
    response = client.post(
        f"/plans/{plan_id}/{action}", data={"csrf_token": token, **data}, follow_redirects=True
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_bus_leg_from_plan_to_collection(
    client: FlaskClient, make_user, db: Database, bus_valley: Path
) -> None:
    load_region(db, read_region(bus_valley))
    batch_id, ids = order_batch(db, {"R5": [ItemRequest("パン", 1)]}, cutoff=CUTOFF)
    plan_id = plan_batch(db, batch_id, time_limit_s=2.0, solution_limit=20)
    order_id = ids["R5"]
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'data-kpi="bus-legs">1<' in page and 'data-mode="bus"' in page and "山里線 R1-1210" in page
    assert "Plan confirmed" in post(client, plan_id, "confirm")
    with db.read() as s:  # the resident is told where and when to meet the bus, and the PIN
        text = s.scalars(
            select(Message).where(Message.order_id == order_id).order_by(Message.created_at.desc())
        ).first()
        assert text is not None and text.template == "order_by_bus" and text.params["stop"] == "東山口"
    pin = pin_for_notification(db, order_id)  # what that text carries

    assert "Handed to the bus driver." in post(client, plan_id, "bus/handed", order_id=order_id)
    wrong = "0000" if pin != "0000" else "1111"
    assert "the PIN does not match" in post(client, plan_id, "bus/collected", order_id=order_id, pin=wrong)
    assert "Collected at the bus stop" in post(client, plan_id, "bus/collected", order_id=order_id, pin=pin)

    with db.read() as s:
        trip = s.scalars(select(BusTrip)).one()
        order = s.get_one(Order, order_id)
        assert order.state == "delivered"
        hub, resident = order.hub_id, order.resident_id
    chain = [(e.kind, e.from_party, e.to_party, e.proof) for e in chain_of(db, order_id)]
    assert chain == [
        ("hub_to_bus", f"hub:{hub}", f"bus:{trip.id}", "operator_confirm"),
        ("bus_to_resident", f"bus:{trip.id}", f"resident:{resident}", "resident_pin"),
    ]
    board = client.get(f"/board?day={MONDAY.isoformat()}").get_data(as_text=True)
    assert "🚌 山里線 R1-1210" in board  # the driver of that trip, in the chain
    # handed over twice? refused, nothing recorded
    assert "not waiting at the hub" in post(client, plan_id, "bus/handed", order_id=order_id)
    assert len(chain_of(db, order_id)) == 2


def test_a_planner_cannot_record_a_bus_handover(
    client: FlaskClient, make_user, db: Database, bus_valley: Path
) -> None:
    load_region(db, read_region(bus_valley))
    batch_id, ids = order_batch(db, {"R5": [ItemRequest("パン", 1)]}, cutoff=CUTOFF)
    plan_id = plan_batch(db, batch_id, time_limit_s=2.0, solution_limit=20)
    login(client, make_user("planner", hubs=("H1",)))
    token = csrf_token(client, f"/plans/{plan_id}")
    response = client.post(f"/plans/{plan_id}/bus/handed", data={"csrf_token": token, "order_id": ids["R5"]})
    assert response.status_code == 403
    assert chain_of(db, ids["R5"]) == []
