"""The permits page (issue 14, item 1): an operator records a permit for their hub through the
form (CSRF, checks as in permits.csv), edits it; another hub's operator neither sees nor edits it;
the dashboard warns before a permit expires."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Hub, Permit
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from tests.conftest import TAJIMA
from tests.web.conftest import csrf_token, login
from tests.web.test_japanese_pages import raw_codes
from web import create_app

pytestmark = pytest.mark.db

NOW = dt.datetime(2027, 3, 25, 9, 0, tzinfo=dt.UTC)  # six days before the sample permit ends


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(
        {"database_url": database_url, "secret_key": "test-secret-key", "tiles": "none", "TESTING": True},
        clock=lambda: NOW,
    )
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def tajima(db: Database) -> Database:
    load_region(db, read_region(TAJIMA))
    return db


def hub(db: Database, code: str) -> str:
    with db.read() as s:
        return s.scalars(select(Hub.id).where(Hub.code == code)).one()


def form(client: FlaskClient, **fields: object) -> dict[str, object]:
    return {
        "csrf_token": csrf_token(client, "/permits"),
        "number": "東阪航第99999号",
        "holder": "Tanto",
        "valid_from": "2027-01-01",
        "valid_until": "2027-12-31",
        "categories": ["did", "bvlos"],
        "drones": "D3 D4",
        "pilots": "Aoi Sato; Ken Mori",
        "zones": "JP-TOYOOKA-DID",
        "notes": "",
        **fields,
    }


def test_an_operator_adds_and_edits_a_permit_for_their_hub(
    client: FlaskClient, make_user, tajima: Database
) -> None:
    login(client, make_user("operator", email="tanto@example.jp", hubs=("TANTO",)))
    tanto = hub(tajima, "TANTO")
    refused = client.post("/permits/new", data=form(client, hub_id=tanto, drones="D1"), follow_redirects=True)
    assert "drone D1 is not a drone of this hub" in refused.get_data(as_text=True)
    page = client.post("/permits/new", data=form(client, hub_id=tanto), follow_redirects=True)
    assert page.status_code == 200 and "Permit 東阪航第99999号 saved." in page.get_data(as_text=True)
    with tajima.read() as s:
        permit = s.scalars(select(Permit).where(Permit.number == "東阪航第99999号")).one()
        assert (permit.hub_id, permit.drones, permit.pilots, permit.source) == (
            tanto,
            ["D3", "D4"],
            ["Aoi Sato", "Ken Mori"],
            "console",
        )
    # The page lists only Tanto's permit, not Izushi's (the sample's).
    listing = client.get("/permits").get_data(as_text=True)
    assert 'data-permit="東阪航第99999号"' in listing and "東阪航第12345号" not in listing
    edited = client.post(
        f"/permits/{permit.id}/save",
        data=form(client, hub_id=tanto, valid_until="2027-06-30"),
        follow_redirects=True,
    )
    assert "saved" in edited.get_data(as_text=True)
    with tajima.read() as s:
        assert s.get_one(Permit, permit.id).valid_until == dt.date(2027, 6, 30)
    no_token = client.post("/permits/new", data={**form(client, hub_id=tanto), "csrf_token": ""})
    assert no_token.status_code == 400


def test_another_hubs_operator_can_neither_open_nor_save_a_permit(
    client: FlaskClient, make_user, tajima: Database
) -> None:
    with tajima.read() as s:
        izushi_permit = s.scalars(select(Permit)).one()
    login(client, make_user("operator", email="tanto@example.jp", hubs=("TANTO",)))
    assert client.get(f"/permits/{izushi_permit.id}").status_code == 404
    response = client.post(
        f"/permits/{izushi_permit.id}/save", data=form(client, hub_id=izushi_permit.hub_id, drones="D1")
    )
    assert response.status_code == 404
    response = client.post(
        "/permits/new", data=form(client, hub_id=izushi_permit.hub_id, drones="D1", number="X-1")
    )
    assert response.status_code == 404
    with tajima.read() as s:
        assert s.scalars(select(Permit.number)).all() == ["東阪航第12345号"]


def test_the_dashboard_warns_the_hubs_operator_before_the_permit_expires(
    client: FlaskClient, make_user, tajima: Database
) -> None:
    login(client, make_user("operator", email="izushi@example.jp", hubs=("IZUSHI",)))
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Permit 東阪航第12345号 \(.*\) expires on 2027-03-31", page)
    japanese = client.get("/permits?lang=ja").get_data(as_text=True)
    assert "許可・承認" in japanese and raw_codes(japanese) == []
    other = client.application.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(other, make_user("operator", email="tanto@example.jp", hubs=("TANTO",)))
    assert "expires on 2027-03-31" not in other.get("/").get_data(as_text=True)
