# ruff: noqa: F811 - page and live_app are the fixtures imported below
"""The console's maps in headless Chromium (issue 16, item 5): tooltips open and show their text as
text, stops are numbered with their ETA, the layer control has one line per layer, a legend."""

from __future__ import annotations

import pytest

from dispatch.db import Database
from dispatch.services.ordering import ItemRequest
from tests.dispatch.test_plan_edits import planned
from tests.dispatch.test_planning import order_batch
from tests.web.test_browser import ARTIFACTS, live_app, page  # noqa: F401 - fixtures
from tests.web.test_browser_console import sign_in

pytestmark = [pytest.mark.db, pytest.mark.browser]

#: Typed by a resident in an order's items (``<`` and ``>`` are refused at the door): shown on the
#: map as these characters; read as HTML the entity would show as "<b>", read as a template
#: literal ``${...}`` would run.
HOSTILE = 'お米 &lt;b&gt; ${window.__injected=1} "x" \u0060'


#: The page position of the order marker whose tooltip label contains ``#<number> ``.
MARKER_AT = """(number) => { const map = window[document.getElementById('map-panel').dataset.mapId];
  let found = null;
  map.eachLayer(l => { const p = l.feature && l.feature.properties;
    if (p && p.label && p.label.startsWith('#' + number + ' ') && l.getLatLng) { found = l; } });
  if (!found) { return null; }
  const point = map.latLngToContainerPoint(found.getLatLng());
  const box = map.getContainer().getBoundingClientRect();
  return [box.left + point.x, box.top + point.y]; }"""


def test_an_order_tooltip_opens_and_shows_the_residents_text_as_text(
    page,
    live_app: str,
    make_user,
    db: Database,
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    order_batch(db, {"R1": [ItemRequest(HOSTILE, 1)]})
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    page.wait_for_function("() => document.getElementById('map-panel').dataset.mapId")
    row = page.locator("#order-queue tr[data-order]").first
    number = row.get_attribute("data-order")
    at = page.evaluate(MARKER_AT, number)
    assert at is not None, "the order's marker is on the map"
    page.mouse.move(at[0] + 1, at[1] + 1)
    tip = page.locator(".leaflet-tooltip.map-tip")
    tip.wait_for(state="visible")
    assert HOSTILE in tip.inner_text()  # the characters the resident typed, as text
    assert tip.locator("b").count() == 0
    assert page.evaluate("() => window.__injected") is None
    assert not errors
    page.screenshot(path=str(ARTIFACTS / "console-map-tooltip.png"))


def test_plan_map_numbers_stops_with_their_eta_and_has_a_legend_and_a_layer_control(
    page, live_app: str, make_user, db: Database
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _, plan_id, _ = planned(db)
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    page.goto(f"{live_app}/plans/{plan_id}")
    stops = page.locator("#map-panel .map-stop")
    stops.first.wait_for()
    table = sorted(page.locator('table.stops tr[data-kind="delivery"] td:first-child').all_inner_texts())
    assert sorted(stops.all_inner_texts()) == table  # each delivery drawn with its stop number
    # Each badge has the colour of a route of the plan (the swatch beside the route's name).
    swatches = page.locator(".route h3 .swatch").evaluate_all("els => els.map(e => e.dataset.colour)")
    rgb = {f"rgb({int(c[1:3], 16)}, {int(c[3:5], 16)}, {int(c[5:7], 16)})" for c in swatches}
    badges = set(stops.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)"))
    assert badges and badges <= rgb
    stops.first.hover()
    tip = page.locator(".leaflet-tooltip.map-tip")
    tip.wait_for(state="visible")
    assert "ETA" in tip.inner_text() and "Stop" in tip.inner_text()
    legend = page.locator(".map-legend")
    assert "Legend" in legend.inner_text() and "Stop number" in legend.inner_text()
    page.hover(".leaflet-control-layers")
    labels = page.locator(".leaflet-control-layers-overlays label")
    labels.first.wait_for(state="visible")
    for label in labels.all():  # one line each: checkbox and name side by side, nothing cut
        box, tick = label.bounding_box(), label.locator("input").bounding_box()
        assert box is not None and tick is not None
        assert box["height"] < 2 * tick["height"] + 8, label.inner_text()
        assert tick["width"] < 30
    assert not errors
    page.screenshot(path=str(ARTIFACTS / "console-plan-map.png"))
