"""The admins' integration pages and ``hakobu api``: create an integration for a hub, issue a token
(shown once, then only its prefix), use it, revoke it; register a webhook endpoint and read the
delivery log; send a dead delivery again."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.lifecycle import DeliveryState
from dispatch.models import Integration, WebhookDelivery, utcnow
from dispatch.services import webhooks
from tests.web.api_support import Receiver, receiver  # noqa: F401 - fixture
from tests.web.conftest import csrf_token, login
from web.cli import main

pytestmark = pytest.mark.db
ORDER = {"resident": "R1", "items": [{"name": "牛乳", "quantity": 1}]}


def _new_integration(client: FlaskClient) -> str:
    token = csrf_token(client, "/admin/integrations")
    response = client.post("/admin/integrations/new", data={"csrf_token": token, "name": "Post office",
                                                            "hubs": ["H1"]})
    assert response.status_code == 302
    return response.location.rsplit("/", 1)[-1]


def test_an_admin_issues_uses_and_revokes_a_token(client: FlaskClient, make_user, db: Database,
                                                  tiny_region: str) -> None:
    login(client, make_user("admin"))
    page = client.get("/admin/integrations").get_data(as_text=True)
    assert 'value="H1"' in page
    integration_id = _new_integration(client)
    with db.read() as s:
        assert [h.code for h in s.get_one(Integration, integration_id).hubs] == ["H1"]
    form = csrf_token(client, f"/admin/integrations/{integration_id}")
    issued = client.post(f"/admin/integrations/{integration_id}/tokens", data={"csrf_token": form})
    secret = re.search(r"<code>(hkb_[A-Za-z0-9_-]+)</code>", issued.get_data(as_text=True)).group(1)
    later = client.get(f"/admin/integrations/{integration_id}").get_data(as_text=True)
    assert secret not in later and f"{secret[:10]}…" in later  # shown once; afterwards its prefix

    api = client.application.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.post("/api/v1/orders", json=ORDER, headers=bearer).status_code == 201
    token_id = re.search(r'data-token="([^"]+)"', later).group(1)
    revoked = client.post(f"/admin/integrations/{integration_id}/tokens/{token_id}/revoke",
                          data={"csrf_token": form})
    assert revoked.status_code == 302
    assert api.get("/api/v1/events", headers=bearer).status_code == 401
    assert "revoked" in client.get(f"/admin/integrations/{integration_id}").get_data(as_text=True)


def test_the_delivery_log_shows_what_was_sent(client: FlaskClient, make_user, db: Database, tiny_region: str,
                                              receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    login(client, make_user("admin"))
    integration_id = _new_integration(client)
    form = csrf_token(client, f"/admin/integrations/{integration_id}")
    added = client.post(f"/admin/integrations/{integration_id}/endpoints",
                        data={"csrf_token": form, "url": receiver.url, "events": ["order.created"]})
    assert re.search(r"<code>whsec_[A-Za-z0-9+/=]+</code>", added.get_data(as_text=True))
    refused = client.post(f"/admin/integrations/{integration_id}/endpoints",
                          data={"csrf_token": form, "url": "http://example.jp/hooks"}, follow_redirects=True)
    assert "https" in refused.get_data(as_text=True)
    issued = client.post(f"/admin/integrations/{integration_id}/tokens", data={"csrf_token": form})
    secret = re.search(r"<code>(hkb_[A-Za-z0-9_-]+)</code>", issued.get_data(as_text=True)).group(1)
    client.application.test_client().post("/api/v1/orders", json=ORDER,
                                          headers={"Authorization": f"Bearer {secret}"})

    log_page = f"/admin/integrations/{integration_id}/deliveries"
    assert 'data-state="queued"' in client.get(log_page).get_data(as_text=True)
    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 1)
    receiver.fail_first = 3
    webhooks.deliver_due(db, utcnow())
    page = client.get(f"{log_page}?state=dead").get_data(as_text=True)
    assert 'data-state="dead"' in page and "HTTP 500" in page
    with db.read() as s:
        delivery_id = s.scalars(select(WebhookDelivery.id)).one()
    again = client.post(f"{log_page}/{delivery_id}/retry", data={"csrf_token": form})
    assert again.status_code == 302
    webhooks.deliver_due(db, utcnow())
    assert 'data-state="delivered"' in client.get(log_page).get_data(as_text=True)
    with db.read() as s:
        assert s.get_one(WebhookDelivery, delivery_id).state == DeliveryState.DELIVERED
    assert client.get(f"{log_page}?lang=ja").status_code == 200
    assert "連携" in client.get("/admin/integrations?lang=ja").get_data(as_text=True)


def test_the_command_line_creates_integrations_and_tokens(db: Database, tiny_region: str,
                                                          client: FlaskClient) -> None:
    runner = CliRunner()
    url = ["--database", db.url]
    created = runner.invoke(main, ["api", "integration", "create", "Municipality", "--hub", "H1", *url])
    assert created.exit_code == 0, created.output
    unknown = runner.invoke(main, ["api", "integration", "create", "Shop", "--hub", "nowhere", *url])
    assert unknown.exit_code == 2 and "unknown hub" in unknown.output
    issued = runner.invoke(main, ["api", "token", "create", "Municipality", *url])
    assert issued.exit_code == 0, issued.output
    secret = issued.stdout.strip().splitlines()[-1]
    assert secret.startswith("hkb_")
    assert client.get("/api/v1/events", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed = runner.invoke(main, ["api", "token", "list", "Municipality", *url])
    token_id = listed.output.split()[0]
    assert secret not in listed.output
    assert runner.invoke(main, ["api", "token", "revoke", token_id, *url]).exit_code == 0
    assert client.get("/api/v1/events", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    endpoint = runner.invoke(main, ["api", "endpoint", "add", "Municipality", "https://hooks.example.jp/x",
                                    "--event", "order.delivered", *url])
    assert endpoint.exit_code == 0 and endpoint.stdout.strip().startswith("whsec_")
