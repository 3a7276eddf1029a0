"""The operations page: switches that revise confirmed plans, hub-scoped, CSRF-protected."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Drone, Hub, Message, Volunteer, Zone
from dispatch.services.plans import confirm_plan
from tests.dispatch.test_plan_edits import NOW, SETTINGS, planned, served_by_courier
from tests.dispatch.test_planning import latest_plan
from tests.web.conftest import csrf_token, login
from web import create_app

pytestmark = pytest.mark.db


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app({"database_url": database_url, "secret_key": "test-secret-key",
                              "tiles": "none", "public_url": "https://hakobu.example", "TESTING": True},
                             clock=lambda: NOW)  # the plans' day: only today's plans are revised
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def confirmed(db: Database, tiny_region: str) -> str:
    batch_id, plan_id, _ = planned(db)
    confirm_plan(db, plan_id, None, NOW, SETTINGS)
    return batch_id


def switch(client: FlaskClient, action: str, target: str, value: str) -> tuple[int, str]:
    token = csrf_token(client, "/operations")
    response = client.post(f"/operations/{action}", data={"csrf_token": token, "target": target,
                                                          "value": value}, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def test_calling_a_courier_off_revises_the_plan_and_says_what_moved(client: FlaskClient, make_user,
                                                                    db: Database, confirmed: str) -> None:
    before = latest_plan(db, confirmed)
    courier = served_by_courier(before)[0][0]
    with db.read() as s:
        code = s.get(Volunteer, courier).code  # type: ignore[union-attr]
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get("/operations").get_data(as_text=True)
    assert f'data-courier="{code}"' in page

    status, page = switch(client, "courier", courier, "off")

    assert status == 200 and f"Courier {code} called off for today." in page
    after = latest_plan(db, confirmed)
    assert after.version == before.version + 1 and after.state == "confirmed"
    assert courier not in {r.volunteer_id for r in after.routes}
    with db.read() as s:
        told = s.scalars(select(Message).where(Message.template == "courier_released")).one()
        assert told.volunteer_id == courier


def test_weather_hold_switch_and_drone_status(client: FlaskClient, make_user, db: Database,
                                              confirmed: str) -> None:
    with db.read() as s:
        hub = s.scalars(select(Hub).where(Hub.code == "H1")).one()
        drone = s.scalars(select(Drone).where(Drone.hub_id == hub.id)).first()
    assert drone is not None
    login(client, make_user("operator", hubs=("H1",)))
    status, page = switch(client, "weather", hub.id, "on")
    assert status == 200 and "drones grounded" in page
    with db.read() as s:
        assert s.get(Hub, hub.id).weather_hold is True  # type: ignore[union-attr]
    assert "Lift the weather hold" in page
    status, _ = switch(client, "drone", drone.id, "maintenance")
    with db.read() as s:
        assert s.get(Drone, drone.id).status == "maintenance"  # type: ignore[union-attr]


def test_zone_switch_goes_back_to_schedule(client: FlaskClient, make_user, db: Database,
                                           confirmed: str) -> None:
    with db.read() as s:
        zone = s.scalars(select(Zone)).first()
    assert zone is not None
    login(client, make_user("operator", hubs=("H1",)))
    switch(client, "zone", zone.id, "on")
    with db.read() as s:
        assert s.get(Zone, zone.id).active_override is True  # type: ignore[union-attr]
    switch(client, "zone", zone.id, "schedule")
    with db.read() as s:
        assert s.get(Zone, zone.id).active_override is None  # type: ignore[union-attr]


def test_another_hubs_operator_gets_404_and_nothing_changes(client: FlaskClient, make_user, make_hub,
                                                            db: Database, confirmed: str) -> None:
    make_hub("other")
    before = latest_plan(db, confirmed)
    courier = served_by_courier(before)[0][0]
    login(client, make_user("operator", email="other@example.jp", hubs=("other",)))
    page = client.get("/operations").get_data(as_text=True)
    assert "data-courier=" not in page
    status, _ = switch(client, "courier", courier, "off")
    assert status == 404
    assert latest_plan(db, confirmed).id == before.id
    with db.read() as s:
        assert s.get(Volunteer, courier).off_until is None  # type: ignore[union-attr]


def test_a_switch_without_csrf_token_is_refused(client: FlaskClient, make_user, db: Database,
                                                confirmed: str) -> None:
    with db.read() as s:
        hub_id = s.scalars(select(Hub.id).where(Hub.code == "H1")).one()
    login(client, make_user("operator", hubs=("H1",)))
    response = client.post("/operations/weather", data={"target": hub_id, "value": "on"})
    assert response.status_code == 400
    with db.read() as s:
        assert s.get(Hub, hub_id).weather_hold is False  # type: ignore[union-attr]
    assert re.search(r"[Cc]SRF", response.get_data(as_text=True))


def test_an_operator_records_the_weather_and_the_next_plans_and_take_offs_check_it(
        client: FlaskClient, make_user, db: Database, tiny_region: str) -> None:
    from dispatch.models import WeatherReading

    with db.read() as s:
        hub = s.scalars(select(Hub).where(Hub.code == "H1")).one()
    login(client, make_user("operator", hubs=("H1",)))
    token = csrf_token(client, "/operations")
    page = client.post("/operations/weather/reading", data={
        "csrf_token": token, "target": hub.id, "starts": "13:00", "ends": "18:00", "wind_ms": "14",
        "gust_ms": ""}, follow_redirects=True).get_data(as_text=True)
    assert "Weather recorded for" in page
    with db.read() as s:
        (row,) = s.scalars(select(WeatherReading)).all()
        assert (row.source, row.wind_ms, row.gust_ms) == ("manual", 14.0, None)
        assert row.recorded_by.startswith("user:") and row.ends_at - row.starts_at == dt.timedelta(hours=5)
    refused = client.post("/operations/weather/reading", data={
        "csrf_token": token, "target": hub.id, "starts": "18:00", "ends": "13:00", "wind_ms": "3"},
        follow_redirects=True).get_data(as_text=True)
    assert "must be after its start" in refused
    no_token = client.post("/operations/weather/reading", data={"target": hub.id, "starts": "09:00",
                                                                "ends": "10:00"})
    assert no_token.status_code == 400
