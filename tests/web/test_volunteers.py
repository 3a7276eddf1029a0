"""The volunteers' console pages and the call-out link (issue 15, items 3 and 4): the hub's week with
shifts and declared availability, the month's hours and their CSV, training on record, an order
that needs a trained courier from the phone-order page, and the one-tap answer to a call-out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import CallOut, Order, Resident
from dispatch.services import callouts
from sms.service import receive_sms
from tests.dispatch.factories import SETTINGS, confirmed_day
from tests.dispatch.test_callouts import short_sunday
from tests.dispatch.volunteer_region import (
    SATURDAY_EVENING,
    SUNDAY,
    SUNDAY_CUTOFF,
    load_volunteer_region,
    volunteers,
)
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.db


@pytest.fixture
def region(db: Database, tmp_path: Path) -> None:
    load_volunteer_region(db, tmp_path)


def test_the_week_shows_shifts_training_and_what_volunteers_texted(
        client: FlaskClient, db: Database, region: None, make_user) -> None:  # type: ignore[no-untyped-def]
    people = volunteers(db)
    receive_sms(db, "simulator", None, people["V3"].phone, "明日 13時から17時", SATURDAY_EVENING,
                settings=SETTINGS)
    receive_sms(db, "simulator", None, people["V4"].phone, "off tomorrow", SATURDAY_EVENING,
                settings=SETTINGS)
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get(f"/volunteers?week={SUNDAY - dt.timedelta(days=6)}").get_data(as_text=True)
    sunday = f'data-day="{SUNDAY.isoformat()}"'
    v3 = page.split('data-volunteer="V3"')[1].split("</tr>")[0]
    assert re.search(sunday + r">\s*<div class=\"declared\">Available 13:00–17:00", v3)
    v4 = page.split('data-volunteer="V4"')[1].split("</tr>")[0]
    assert re.search(sunday + r">\s*<div class=\"declared off\">Off", v4)
    assert "pin, welfare" in v4
    v1 = page.split('data-volunteer="V1"')[1].split("</tr>")[0]
    assert v1.count("Shift 09:00–12:00") == 5  # Monday to Friday


def test_another_hubs_operator_gets_404_for_the_hubs_volunteers(
        client: FlaskClient, db: Database, region: None, make_user, make_hub) -> None:  # type: ignore[no-untyped-def]
    make_hub("other", region_code="tiny-volunteers")
    with db.read() as s:
        hub_id = s.get(Resident, s.scalars(select(Resident.id)).first()).hub_id
    login(client, make_user("operator", hubs=("other",)))
    assert client.get(f"/volunteers?hub={hub_id}").status_code == 404
    assert "V1" not in client.get("/volunteers").get_data(as_text=True)


def test_month_hours_and_their_csv_count_the_confirmed_routes(
        client: FlaskClient, db: Database, tiny_region: str, make_user) -> None:  # type: ignore[no-untyped-def]
    day = confirmed_day(db)
    expected = {}
    for route in day.plan.routes:
        if route.volunteer_id:
            code = next(c for c, i in day.couriers.items() if i == route.volunteer_id)
            expected[code] = round((route.return_at - route.depart_at).total_seconds() / 3600, 2)
    login(client, make_user("planner"))
    response = client.get("/volunteers/hours?month=2026-03&format=csv")
    assert response.mimetype == "text/csv"
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert set(rows) == {"V1", "V2"} == set(expected)
    for code, hours in expected.items():
        assert float(rows[code]["hours"]) == pytest.approx(hours, abs=0.01)
        assert rows[code]["routes"] == "1"
    assert rows["V2"]["training"] == ""  # the tiny region records no training
    assert "phone" not in response.get_data(as_text=True)
    february = client.get("/volunteers/hours?month=2026-02&format=csv").get_data(as_text=True)
    assert all(r["hours"] == "0.00" for r in csv.DictReader(io.StringIO(february)))
    assert client.get("/volunteers/hours?month=March").status_code == 400


def test_a_phone_order_can_require_a_trained_courier(
        client: FlaskClient, db: Database, region: None, make_user) -> None:  # type: ignore[no-untyped-def]
    with db.read() as s:
        resident_id = s.scalars(select(Resident.id).where(Resident.code == "R1")).one()
    login(client, make_user("operator", hubs=("H1",)))
    path = f"/intake/phone/{resident_id}"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "wish": "1:any", "priority": "1",
                                       "needs_training": "medicine", "item0": "薬", "qty0": "1"})
    assert response.status_code == 302
    with db.read() as s:
        assert s.scalars(select(Order.needs_training)).one() == "medicine"
    bad = client.post(path, data={"csrf_token": token, "wish": "1:any", "priority": "2",
                                  "needs_training": "juggling", "item0": "米", "qty0": "1"})
    assert bad.status_code == 200  # not a choice: the form says so, nothing placed
    with db.read() as s:
        assert len(s.scalars(select(Order)).all()) == 1


def test_the_call_out_link_answers_with_one_tap_and_forged_links_are_404(
        app: Flask, client: FlaskClient, db: Database, region: None) -> None:
    people = volunteers(db)
    for code in ("V3", "V4"):
        receive_sms(db, "simulator", None, people[code].phone, "明日 9時から17時", SATURDAY_EVENING,
                    settings=SETTINGS)
    short_sunday(db)
    settings = app.extensions["hakobu"].settings
    callouts.sweep(db, SUNDAY_CUTOFF + dt.timedelta(minutes=2), settings)
    with db.read() as s:
        callout = s.scalars(select(CallOut).where(CallOut.volunteer_id == people["V4"].id)).one()
        token = callouts.callout_token(callout, settings.secret_key)
    path = f"/volunteer/callout/{token}"
    page = client.get(path).get_data(as_text=True)
    assert "Ken Ward" in page and "Yes, I can" in page and "No, not this time" in page
    assert client.get(path[:-1] + ("0" if path[-1] != "0" else "1")).status_code == 404
    assert client.post(path, data={"answer": "yes"}).status_code == 400  # no CSRF token
    answered = client.post(path, data={"answer": "yes", "csrf_token": csrf_token(client, path)})
    assert "You are in the plan" in answered.get_data(as_text=True)
    with db.read() as s:
        assert s.get(CallOut, callout.id).state == "accepted"
    assert "Yes, I can" not in client.get(path).get_data(as_text=True)  # answered once


def test_a_trainer_texts_availability_as_a_volunteer_in_the_sms_simulator(
        client: FlaskClient, db: Database, region: None, make_user) -> None:  # type: ignore[no-untyped-def]
    people = volunteers(db)
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get("/intake/simulator").get_data(as_text=True)
    assert f'value="{people["V4"].phone}"' in page and "volunteer" in page
    token = csrf_token(client, "/intake/simulator")
    response = client.post("/intake/simulator", data={"csrf_token": token, "phone": people["V4"].phone,
                                                       "body": "off tomorrow"})
    assert response.status_code == 302
    thread = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Noted: you are off tomorrow." in thread
