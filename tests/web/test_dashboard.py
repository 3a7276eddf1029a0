"""The console's region map: renders from our own assets, scoped to the operator's hubs."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from dispatch.config import Settings
from tests.web.conftest import login

pytestmark = pytest.mark.db


def test_dashboard_without_a_region_says_how_to_load_one(client: FlaskClient, make_user) -> None:
    login(client, make_user("admin"))
    page = client.get("/").get_data(as_text=True)
    assert "hakobu region load" in page


def test_dashboard_shows_hubs_and_loads_no_external_script(client: FlaskClient, make_user,
                                                           make_hub) -> None:
    make_hub("kannabe")
    make_hub("tanto")
    login(client, make_user("operator", hubs=("kannabe",)))
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-hub="kannabe"' in page
    assert 'data-hub="tanto"' not in page  # another hub's operator data stays out of view
    assert "L.map(" in page or "L.map (" in page
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert scripts and all(src.startswith("/static/") for src in scripts)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    inline = re.findall(r"<script(?![^>]*src=)([^>]*)>", page)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)


def test_admin_sees_every_hub(client: FlaskClient, make_user, make_hub) -> None:
    make_hub("kannabe")
    make_hub("tanto")
    login(client, make_user("admin"))
    page = client.get("/").get_data(as_text=True)
    assert 'data-hub="kannabe"' in page and 'data-hub="tanto"' in page


def test_an_sms_order_shows_up_in_the_operators_order_queue(client: FlaskClient, make_user, db,
                                                            tiny_region: str) -> None:
    from sms.service import receive_sms

    reply = receive_sms(db, "simulator", None, "+817000000001", "注文 米 2", settings=Settings())
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get("/").get_data(as_text=True)
    number = reply.params["number"]
    assert f'data-order="{number}"' in page and "米×2" in page and "sms" in page
