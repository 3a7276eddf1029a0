"""Planner pages on the real app: KPIs with CSV, the replay, one scenario; planners and admins only."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from dispatch.db import Database
from tests.studies.day import DAY, record_day
from tests.web.conftest import login

pytestmark = pytest.mark.db

RANGE = f"from={DAY.isoformat()}&to={DAY.isoformat()}"
PAGES = ("/planner/", "/planner/kpis.csv", "/planner/replay", "/planner/scenario",
         "/planner/scenario/runs/any")  # scenario runs in a worker: tests/web/test_planner_runs.py


def test_operators_get_no_planner_page(client: FlaskClient, make_user: Callable[..., str],
                                       tiny_region: str) -> None:
    login(client, make_user("operator"))
    for page in PAGES:
        assert client.get(page).status_code == 403, page


def test_anonymous_users_are_sent_to_sign_in(client: FlaskClient, tiny_region: str) -> None:
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"], page


def test_kpi_page_and_csv(client: FlaskClient, make_user: Callable[..., str], db: Database,
                          tiny_region: str) -> None:
    record_day(db, {"R3": 90})
    login(client, make_user("planner"))
    page = client.get(f"/planner/?{RANGE}").get_data(as_text=True)
    row = re.search(r'<tr data-kpi="delivered">(.*?)</tr>', page, re.S)
    assert row and re.findall(r"<td>(\d+)</td>", row.group(1)) == ["4", "4"]  # H1 and all
    share = re.search(r'<tr data-kpi="on_time_share">(.*?)</tr>', page, re.S)
    assert share and re.findall(r"<td>([^<]*)</td>", share.group(1)) == ["75.0 %", "75.0 %"]  # 3 of 4
    assert "<svg" in page and "MLIT" in page
    response = client.get(f"/planner/kpis.csv?{RANGE}&hub=H1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["hub"] for r in rows} == {"H1", "all"} and all(r["delivered"] == "4" for r in rows)
    bad = client.get("/planner/kpis.csv?from=2026-13-01")
    assert bad.status_code == 400 and "2026-13-01" in bad.get_data(as_text=True)
    assert "is not a date" in client.get("/planner/?from=yesterday").get_data(as_text=True)


def test_replay_page_shows_what_happened_beside_the_plan(client: FlaskClient, make_user: Callable[..., str],
                                                         db: Database, tiny_region: str) -> None:
    day = record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    login(client, make_user("admin"))
    page = client.get(f"/planner/replay?{RANGE}").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="replay-data">(.*?)</script>',
                                page, re.S).group(1))
    kinds = {f["properties"]["kind"] for f in data}
    assert "position" in kinds and "hub_to_courier" in kinds and "courier_to_resident" in kinds
    assert sum(f["properties"]["kind"].endswith("_to_resident") for f in data) == len(day.delivered_at)
    assert len(re.findall(r'<tr data-order="\d+">', page)) == 6  # five delivered, one cancelled
    assert "replay-slider" in page and "leaflet" in page and "resident_pin" in page
    drone_orders = [o for o, mode in day.modes.items() if mode == "drone"]
    assert page.count("drone_to_resident") >= len(drone_orders)
    assert "cdn" not in page.lower() and "openstreetmap" not in page.lower()  # tiles "none": offline


def test_planner_pages_speak_japanese(client: FlaskClient, make_user: Callable[..., str], db: Database,
                                      tiny_region: str) -> None:
    """Every KPI label, the basis, the scopes, the chart titles and each parcel's timeline come from the
    catalogue: none of the English words is left on the Japanese pages."""
    from dispatch.studies.kpis import HEADLINE

    record_day(db, codes=("R1", "R2", "R3"))
    login(client, make_user("planner"))
    page = client.get(f"/planner/?{RANGE}&lang=ja").get_data(as_text=True)
    labels = re.findall(r'<tr data-kpi="[^"]+"><th scope="row">([^<]+)</th>', page)
    assert len(labels) == len(HEADLINE)
    english = {label for label, _ in HEADLINE}
    assert not english & set(labels), english & set(labels)
    assert "時間内配達率" in labels and "根拠: 記録" in page and "全ハブ" in page
    assert "注文数と配達数" in page and "手段別の走行距離" in page and "Orders and delivered" not in page
    assert "開始日" in page and "注文のある日" in page
    replay = client.get(f"/planner/replay?{RANGE}&lang=ja").get_data(as_text=True)
    steps = " ".join(re.findall(r'<ol class="steps">(.*?)</ol>', replay, re.S))
    assert "注文（ウェブ）" in steps and "バッチ締切" in steps and "配達員 → 住民" in steps
    assert "ordered (" not in steps and "batch closed" not in steps
    scenario = client.get("/planner/scenario?lang=ja").get_data(as_text=True)
    assert ">車</option>" in scenario and ">car</option>" not in scenario
