"""The solve queue where people and Prometheus look: ``/metrics`` (bearer token or an admin) and the
line above the console's batch timeline (scoped to the operator's hubs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from dispatch.db import Database
from dispatch.models import Batch, utcnow
from tests.web.conftest import login
from web import create_app

pytestmark = pytest.mark.db

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def monitored(database_url: str) -> Iterator[Flask]:
    application = create_app({"database_url": database_url, "secret_key": "test-secret-key",
                              "tiles": "none", "TESTING": True, "metrics_token": TOKEN})
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def queue(db: Database, make_hub: Callable[..., str]) -> dict[str, str]:
    """Hub north: a batch waiting for ten minutes and a solved one (3.5 s); hub south: a failed one."""
    north, south = make_hub("north"), make_hub("south")
    now = utcnow()
    with db.write() as s:
        s.add_all([
            Batch(hub_id=north, cutoff_at=now - dt.timedelta(minutes=10), state="closed",
                  closed_at=now - dt.timedelta(minutes=10)),
            Batch(hub_id=north, cutoff_at=now - dt.timedelta(hours=4), state="solved", solve_seconds=3.5,
                  solved_at=now - dt.timedelta(hours=4), attempts=1),
            Batch(hub_id=south, cutoff_at=now - dt.timedelta(hours=1), state="failed", reason="no courier",
                  attempts=1),
        ])
    return {"north": north, "south": south}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_a_scraper_with_the_token_reads_the_queues_in_prometheus_format(monitored: Flask,
                                                                        queue: dict[str, str]) -> None:
    response = monitored.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    found = samples(response.get_data(as_text=True))
    assert found[("hakobu_solve_queue_depth", (("state", "waiting"),))] == 1
    assert found[("hakobu_solve_queue_depth", (("state", "solving"),))] == 0
    assert found[("hakobu_solve_queue_depth", (("state", "failed"),))] == 1
    assert 600 <= found[("hakobu_solve_queue_oldest_seconds", ())] < 700
    assert found[("hakobu_solve_seconds_count", ())] == 1
    assert found[("hakobu_solve_seconds_sum", ())] == 3.5
    assert found[("hakobu_solve_seconds_bucket", (("le", "2"),))] == 0
    assert found[("hakobu_solve_seconds_bucket", (("le", "5"),))] == 1
    assert found[("hakobu_outbox_pending", ())] == 0
    assert found[("hakobu_webhook_latency_seconds_count", ())] == 0


def test_without_the_token_only_an_admin_reads_the_metrics(monitored: Flask, queue: dict[str, str],
                                                          make_user: Callable[..., str]) -> None:
    anonymous = monitored.test_client()
    assert anonymous.get("/metrics").status_code == 302
    wrong = anonymous.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 302 and "/login" in wrong.location
    operator = monitored.test_client()
    login(operator, make_user("operator"))
    assert operator.get("/metrics").status_code == 403
    admin = monitored.test_client()
    login(admin, make_user("admin"))
    assert admin.get("/metrics").status_code == 200


def test_no_token_configured_admits_no_scraper(client: FlaskClient, queue: dict[str, str]) -> None:
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 302


def test_the_batch_timeline_shows_the_queue_of_the_operators_hubs(client: FlaskClient, queue: dict[str, str],
                                                                 make_user: Callable[..., str]) -> None:
    login(client, make_user("operator", hubs=("north",)))
    page = client.get("/").get_data(as_text=True)
    assert 'data-waiting="1" data-solving="0" data-failed="0"' in page  # south's failure is not theirs
    assert "1 waiting (the oldest for 10 min)" in page or "1 waiting (the oldest for 11 min)" in page
    planner = client.application.test_client()
    planner.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(planner, make_user("planner"))
    assert 'data-waiting="1" data-solving="0" data-failed="1"' in planner.get("/").get_data(as_text=True)
