"""Acknowledging an operator alert on the handoff board: the hub's operators and admins only, CSRF,
another hub's alert is 404, and an acknowledged alert leaves the board (page and JSON)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import OperatorAlert, User
from dispatch.services.delivery import welfare_note
from tests.dispatch.test_plan_edits import NOW
from tests.web.conftest import csrf_token, login
from tests.web.test_board import DAY, day  # noqa: F401 - the confirmed tiny day fixture

pytestmark = pytest.mark.db


@pytest.fixture
def alert(db: Database, day: dict[str, str]) -> str:  # noqa: F811 - the imported fixture
    """A welfare note from the courier about the order they carry (the real courier service)."""
    outcome = welfare_note(db, day["courier"], "seemed unwell", "a1b2c3d4-0000-4000-8000-000000000001", NOW,
                           order_id=day["carried"])
    assert outcome.ok
    return str(outcome.detail["alert_id"])


def _ack_form(html: str, alert_id: str) -> tuple[str, str]:
    form = re.search(r'<form method="post" class="ack" action="([^"]+)">.*?'
                     r'name="csrf_token"[^>]*value="([^"]+)"', html, re.S)
    assert form, "no acknowledge form on the board"
    assert alert_id in form.group(1)
    return form.group(1).replace("&amp;", "&"), form.group(2)


def test_operator_acknowledges_an_alert(client: FlaskClient, make_user, db: Database, alert: str) -> None:
    email = make_user("operator", hubs=("H1",))
    login(client, email)
    html = client.get(f"/board{DAY}").get_data(as_text=True)
    assert 'data-alert="welfare"' in html and "seemed unwell" in html
    data = client.get(f"/board/data{DAY}").get_json()
    assert data["alerts"][0]["ack_url"].startswith(f"/board/alerts/{alert}/acknowledge")
    action, token = _ack_form(html, alert)

    response = client.post(action, data={"csrf_token": token})
    assert response.status_code == 302 and "day=" in response.headers["Location"]  # back to the same day
    with db.read() as s:
        row = s.get(OperatorAlert, alert)
        user_id = s.scalars(select(User.id).where(User.email == email)).one()
    assert row is not None and row.acknowledged_at is not None and row.acknowledged_by == user_id
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Alert acknowledged." in after and 'data-alert="welfare"' not in after
    assert client.get(f"/board/data{DAY}").get_json()["alerts"] == []


def test_without_csrf_nothing_is_acknowledged(client: FlaskClient, make_user, db: Database,
                                              alert: str) -> None:
    login(client, make_user("operator", hubs=("H1",)))
    response = client.post(f"/board/alerts/{alert}/acknowledge", data={})
    assert response.status_code == 400
    with db.read() as s:
        assert s.get(OperatorAlert, alert).acknowledged_at is None  # type: ignore[union-attr]


def test_another_hubs_operator_gets_404(client: FlaskClient, make_user, make_hub, db: Database,
                                        alert: str, caplog: pytest.LogCaptureFixture) -> None:
    make_hub("other", region_code="tiny")
    login(client, make_user("operator", email="b@example.jp", hubs=("other",)))
    html = client.get("/board").get_data(as_text=True)
    assert "seemed unwell" not in html
    form = {"csrf_token": csrf_token(client, "/intake/simulator")}  # any console form's token: same session
    with caplog.at_level("WARNING", logger="web.board"):
        assert client.post(f"/board/alerts/{alert}/acknowledge", data=form).status_code == 404
    assert alert in caplog.text and "seemed unwell" not in caplog.text  # ids only in the log
    assert client.post("/board/alerts/no-such-alert/acknowledge", data=form).status_code == 404
    with db.read() as s:
        assert s.get(OperatorAlert, alert).acknowledged_at is None  # type: ignore[union-attr]


def test_planners_read_alerts_but_cannot_acknowledge(client: FlaskClient, make_user, db: Database,
                                                     alert: str) -> None:
    login(client, make_user("planner"))
    html = client.get(f"/board{DAY}").get_data(as_text=True)
    assert "seemed unwell" in html and 'class="ack"' not in html and "data-csrf=" not in html
    assert client.get(f"/board/data{DAY}").get_json()["alerts"][0]["ack_url"] is None
    form = {"csrf_token": csrf_token(client, "/login")}
    assert client.post(f"/board/alerts/{alert}/acknowledge", data=form).status_code == 403
    with db.read() as s:
        assert s.get(OperatorAlert, alert).acknowledged_at is None  # type: ignore[union-attr]
