"""The dashboard's live map in headless Chromium: a courier's position shared after the page was
loaded moves the courier's marker, without a reload."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import CourierPosition, Hub, Volunteer, utcnow
from tests.web.test_browser import ARTIFACTS, live_app, page  # noqa: F401 - fixtures
from tests.web.test_browser_console import sign_in

pytestmark = [pytest.mark.db, pytest.mark.browser]

#: The couriers' markers on the page: [lat, lon] of each Leaflet layer with the courier className.
COURIERS = """() => { const map = window[document.getElementById('map-panel').dataset.mapId]; const out = [];
  map.eachLayer(l => { if (l.options && l.options.className === 'hakobu-courier') {
    const p = l.getLatLng(); out.push([p.lat, p.lng]); } }); return out; }"""


def share(db: Database, lon: float, lat: float) -> None:
    """H1's first courier shares a position now (the live app runs on the real clock)."""
    with db.write() as s:
        hub = s.scalars(select(Hub.id).where(Hub.code == "H1")).one()
        courier = s.scalars(select(Volunteer).where(Volunteer.hub_id == hub).order_by(Volunteer.code)).first()
        assert courier is not None
        s.add(CourierPosition(volunteer_id=courier.id, lon=lon, lat=lat, recorded_at=utcnow()))


def test_a_courier_position_shared_after_page_load_moves_the_marker(page, live_app: str,  # noqa: F811
                                                                    make_user, db: Database) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    share(db, 134.861, 35.571)
    make_user("operator", email="op@example.jp", hubs=("H1",))
    sign_in(page, live_app, "op@example.jp")
    assert page.evaluate(COURIERS) == [[35.571, 134.861]]  # drawn by folium at page load
    page.evaluate("() => { window.__sameDocument = true; }")
    share(db, 134.87, 35.58)
    polled = "() => (parseInt(document.getElementById('map-panel').dataset.polls, 10) || 0) >= 1"
    page.wait_for_function(polled, timeout=25_000)
    assert page.evaluate(COURIERS) == [[35.58, 134.87]]  # moved: one marker, at the new position
    assert page.evaluate("() => window.__sameDocument === true")  # no reload happened
    assert "Updated" in page.locator("#live-updated").inner_text()
    assert not errors
    page.screenshot(path=str(ARTIFACTS / "console-live-map.png"))
