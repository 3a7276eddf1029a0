"""Issue 7's planner in a real headless Chromium: replay a simulated day with the time slider and the
play button, then read the day's KPIs and download them as CSV.

The day is made by the real simulator (:func:`dispatch.simulate.simulate`) into the live server's
database (the tiny region, a Monday), exactly as ``hakobu demo`` makes its past day. The replay map
draws on a canvas, so the test reads what the page says it drew (``#replay-time``'s ``data-shown``:
the dots on the map, ``data-time``: the slider time) and checks it against the events the page
embeds, counted here independently. Screenshots go to ``test-artifacts/planner-*.png``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.simulate import SimConfig, simulate
from tests.conftest import TINY
from tests.web.test_browser import ARTIFACTS, live_app, page, sign_in  # noqa: F401 - pytest fixtures
from web.simulate_cli import RealSms

pytestmark = [pytest.mark.db, pytest.mark.browser]

MONDAY = dt.date(2026, 3, 2)  # the tiny couriers work on weekdays


def simulate_monday(db: Database) -> dict[str, Any]:
    """A whole simulated Monday on the tiny region (8 orders, no failures): the planner's replay."""
    config = SimConfig(region=TINY, orders=8, seed=3, time_limit_s=0.5, solution_limit=50, day=MONDAY,
                       fail_rate=0.0, cancel_rate=0.0)
    settings = Settings(secret_key="browser-test", public_url="http://127.0.0.1")
    return simulate(db, config, RealSms(db, settings), settings, region_code="tiny")


def expected_dots(features: list[dict[str, Any]], until: str) -> int:
    """What the slider at ``until`` should show: every hand-over up to then, and one dot per courier
    (their latest position up to then)."""
    events = [f for f in features if not f["properties"]["track"] and f["properties"]["time"] <= until]
    tracks = {f["properties"]["track"] for f in features
              if f["properties"]["track"] and f["properties"]["time"] <= until}
    return len(events) + len(tracks)


def test_planner_replays_a_simulated_day_and_downloads_its_kpis(page, live_app: str, make_user,  # noqa: F811
                                                                 db: Database, tmp_path: Path) -> None:
    make_user("planner", email="planner@example.jp")
    summary = simulate_monday(db)
    delivered = summary["orders"]["delivered"]
    assert summary["accounted"] and delivered > 0

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_app, "planner@example.jp")
    page.click('nav a[href="/planner/"]')
    page.click('.planner-nav a[href="/planner/replay"]')
    day = page.locator(f'.planner-days a[data-day="{MONDAY.isoformat()}"]')
    assert day.get_attribute("data-simulated") == "1"  # the shortcut says it is a simulated day
    day.click()
    page.wait_for_selector("#map-panel .leaflet-container")
    page.wait_for_selector(".leaflet-overlay-pane canvas")

    map_id = re.search(r'window\["(map_[0-9a-f]+)"\]', page.content())
    assert map_id, "the replay script names its map"
    # The map is fitted to the day (routes and events), not left on the whole region.
    south, west, north, east = page.evaluate(
        f"() => {{ const b = window['{map_id.group(1)}'].getBounds(); "
        "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }")
    assert north - south < 0.05 and east - west < 0.1, (south, west, north, east)

    features = json.loads(page.locator("#replay-data").text_content() or "[]")
    times = sorted({f["properties"]["time"] for f in features})
    kinds = {f["properties"]["kind"] for f in features}
    assert {"hub_to_courier", "courier_to_resident", "position"} <= kinds
    slider, shown = page.locator("#replay-slider"), page.locator("#replay-time")
    assert int(slider.get_attribute("max") or 0) == len(times) - 1

    slider.fill("0")  # the first moment: one hand-over, nothing else yet
    assert shown.get_attribute("data-time") == times[0]
    first = int(shown.get_attribute("data-shown") or -1)
    assert first == expected_dots(features, times[0]) >= 1
    middle = len(times) // 2
    slider.fill(str(middle))
    assert shown.get_attribute("data-time") == times[middle]
    assert int(shown.get_attribute("data-shown") or -1) == expected_dots(features, times[middle])
    page.screenshot(path=str(ARTIFACTS / "planner-replay-slider.png"), full_page=True)

    slider.fill(str(len(times) - 1))
    page.click("#replay-play")  # at the end, play starts again from the first moment
    page.wait_for_function("() => Number(document.getElementById('replay-slider').value) >= 3")
    page.click("#replay-play")  # pause
    at = int(slider.input_value())
    assert 3 <= at < len(times)
    assert shown.get_attribute("data-time") == times[at]
    assert int(shown.get_attribute("data-shown") or -1) == expected_dots(features, times[at]) >= first
    page.screenshot(path=str(ARTIFACTS / "planner-replay-playing.png"), full_page=True)
    assert page.locator("table.timelines tr[data-order]").count() == summary["orders"]["total"]
    lons = [f["geometry"]["coordinates"][0] for f in features]
    lats = [f["geometry"]["coordinates"][1] for f in features]
    assert south <= min(lats) and max(lats) <= north and west <= min(lons) and max(lons) <= east
    assert errors == []  # the map's script and the slider's ran to the end

    page.click('.planner-nav a[href="/planner/"]')
    page.click(f'.planner-days a[data-day="{MONDAY.isoformat()}"]')
    row = page.locator('tr[data-kpi="delivered"] td')
    assert row.last.inner_text() == str(delivered)  # the "all hubs" column
    page.wait_for_selector(".charts svg")
    page.screenshot(path=str(ARTIFACTS / "planner-kpis.png"), full_page=True)
    with page.expect_download() as download_info:
        page.click("#kpis-csv")
    download = download_info.value
    assert download.suggested_filename == f"hakobu-kpis-{MONDAY.isoformat()}-{MONDAY.isoformat()}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    total = next(r for r in rows if r["hub"] == "all" and r["day"] == "range")
    assert int(total["delivered"]) == delivered and int(total["orders"]) == summary["orders"]["total"]
    assert float(total["km_car"]) + float(total["km_bicycle"]) + float(total["km_walk"]) > 0


def test_planner_runs_a_scenario_in_the_background_and_sees_the_comparison(
        page, live_app: str, make_user, db: Database) -> None:  # noqa: F811
    """Issue 7's step 3 in Chromium: the form returns at once with the run's page, which refreshes
    itself (a meta refresh: no script, nothing for the CSP to block) until base vs scenario and the
    two maps are there."""
    make_user("planner", email="planner@example.jp")
    simulate_monday(db)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_app, "planner@example.jp")
    page.goto(f"{live_app}/planner/scenario")
    page.fill("#date", MONDAY.isoformat())
    page.fill("#drones", "2")
    page.click(".scenario-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/planner/scenario/runs/[\w-]+$"))
    first = page.locator(".run-state").get_attribute("data-state")
    assert first in ("queued", "running")  # the request did not wait for the solve
    page.screenshot(path=str(ARTIFACTS / "planner-scenario-running.png"), full_page=True)
    page.wait_for_selector('tr[data-kpi="drone sorties"]', timeout=180_000)  # after some refreshes
    assert page.locator(".run-state").get_attribute("data-state") == "done"
    page.wait_for_selector(".maps .leaflet-container >> nth=1")
    assert page.locator(".maps .leaflet-container").count() == 2
    assert page.locator(f'tr[data-state="done"] a[href="{page.url.removeprefix(live_app)}"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / "planner-scenario-done.png"), full_page=True)
    assert errors == []
