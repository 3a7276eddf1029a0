"""Odd input the red-team pass turned into 500s (issue 17), each now a plain answer: a courier's
queued-action time huge or in non-ASCII digits, a position with a 400-digit number or JSON nested
50,000 deep, the board's day and the planner's range at year 9999, the live map's ``since``."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import CourierPosition, HandoffEvent, utcnow
from tests.dispatch.factories import Day
from tests.web.conftest import csrf_token, login
from tests.web.test_courier import day, post_action, sign_in  # noqa: F401 - the confirmed day fixture

pytestmark = pytest.mark.db


def test_an_odd_action_time_is_taken_as_now(client: FlaskClient, db: Database, day: Day) -> None:  # noqa: F811
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    before = utcnow()
    for at in ["9" * 400, "١٢٣٤٥٦٧٨٩٠١٢٣", "²³", "-1", "1e30"]:  # huge, Arabic-Indic, superscripts …
        response = post_action(client, f"{page}/pick-up", page, at=at, route_id=day.routes[courier])
        assert response.status_code == 302, at  # type: ignore[attr-defined]
    with db.read() as s:
        picked = s.scalars(select(HandoffEvent).where(HandoffEvent.kind == "hub_to_courier")).all()
    assert picked and all(e.occurred_at >= before - dt.timedelta(seconds=1) for e in picked)


def test_odd_positions_are_refused_with_400(client: FlaskClient, db: Database, day: Day) -> None:  # noqa: F811
    courier = day.courier_with_orders()
    sign_in(client, db, courier)
    page = f"/courier/route/{day.routes[courier]}"
    post_action(client, f"{page}/pick-up", page)
    headers = {"X-CSRFToken": csrf_token(client, page), "Content-Type": "application/json"}
    bodies = [
        '{"lon": 1' + "0" * 400 + ', "lat": 35.5}',
        '{"lon": NaN, "lat": 35.5}',
        '{"lon": "Infinity", "lat": 35.5}',
        '{"lon": true, "lat": 35.5}',
        '{"lon": ' + "[" * 50_000 + "]" * 50_000 + "}",
    ]
    for body in bodies:
        response = client.post("/courier/position", data=body, headers=headers)
        assert response.status_code == 400, body[:40]
    with db.read() as s:
        assert s.scalars(select(CourierPosition)).all() == []


def test_calendar_ends_on_console_pages_are_no_500(app: Flask, make_user, tiny_region: str) -> None:
    operator, planner = app.test_client(), app.test_client()
    login(operator, make_user("operator", hubs=("H1",)))
    login(planner, make_user("planner"))
    for path in (
        "/board?day=9999-12-31",
        "/board/data?day=9999-12-31",
        "/board?day=0001-01-01",
        "/live?since=9999-12-31T23:59:59-23:59",
        "/live?since=0001-01-01T00:00:00%2B23:59",
    ):
        assert operator.get(path).status_code < 500, path
    for path in (
        "/planner/?from=0001-01-01&to=9999-12-31",
        "/planner/kpis.csv?from=2026-01-01&to=9999-12-31",
        "/planner/replay?from=9999-12-31&to=9999-12-31",
    ):
        response = planner.get(path)
        assert response.status_code < 500, path
    page = planner.get("/planner/?from=2026-01-01&to=9999-12-31").get_data(as_text=True)
    assert "9999-12-31 is not a date like 2026-03-03" in page
