"""The dashboard's live map: couriers' last positions, drones in the air at an estimated position
(from the recorded take-off along the planned path), the open orders and the new-order count,
hub-scoped, read by the read model and served as JSON to the page's poller."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import CourierPosition, Hub, Route, Volunteer
from dispatch.read.live_map import LiveMap, live_map
from dispatch.services import sorties
from tests.dispatch.test_sorties import OK, STAFF, DroneDay, drone_day
from tests.web.conftest import login
from web import create_app

pytestmark = pytest.mark.db

LATE = dt.timedelta(minutes=5)  # staff take off five minutes after the planned departure
#: The app's clock for the endpoint tests (set by each test).
CLOCK: list[dt.datetime] = [dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)]


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app({"database_url": database_url, "secret_key": "test-secret-key",
                              "tiles": "none", "TESTING": True}, clock=lambda: CLOCK[0])
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def flying(db: Database, tiny_region: str) -> tuple[DroneDay, dt.datetime]:
    """The tiny region's drone sortie to R4, taken off late; returns it and the take-off time."""
    day = drone_day(db)
    taken_off = day.depart_at + LATE
    sorties.take_off(db, day.sortie, STAFF, taken_off, OK)
    return day, taken_off


def sortie_geometry(db: Database, route_id: str) -> tuple[tuple[float, float], tuple[float, float], float]:
    """(hub, drop point, planned seconds from departure to the drop) of a direct sortie."""
    with db.read() as s:
        route = s.get_one(Route, route_id)
        drop = next(st for st in route.stops if st.kind == "delivery")
        assert route.depart_at is not None and drop.eta is not None and route.path
        return ((route.path[0][0], route.path[0][1]), (drop.lon, drop.lat),
                (drop.eta - route.depart_at).total_seconds())


def hub_id(db: Database, code: str = "H1") -> str:
    with db.read() as s:
        return s.scalars(select(Hub.id).where(Hub.code == code)).one()


def share(db: Database, at: dt.datetime, lon: float, lat: float) -> str:
    """A courier of H1 shares a position at ``at``; returns the courier's code."""
    with db.write() as s:
        courier = s.scalars(select(Volunteer).where(Volunteer.hub_id == hub_id(db))
                            .order_by(Volunteer.code)).first()
        assert courier is not None
        s.add(CourierPosition(volunteer_id=courier.id, lon=lon, lat=lat, recorded_at=at))
        return courier.code


def read_live(db: Database, hub_ids: set[str] | None, now: dt.datetime,
              since: dt.datetime | None = None) -> LiveMap:
    with db.read() as s:
        return live_map(s, hub_ids, now, since)


def test_a_drone_halfway_to_its_drop_point_is_shown_halfway_as_estimated(db: Database, flying) -> None:
    day, taken_off = flying
    (hub_lon, hub_lat), (drop_lon, drop_lat), to_drop = sortie_geometry(db, day.sortie)
    view = read_live(db, {hub_id(db)}, taken_off + dt.timedelta(seconds=to_drop / 2))
    [drone] = view.drones
    assert drone.route_id == day.sortie and drone.estimated and drone.taken_off_at == taken_off
    assert drone.label.startswith("D1")
    # Paced from the recorded take-off (five minutes late), not from the planned departure.
    assert (drone.lon, drone.lat) == pytest.approx(((hub_lon + drop_lon) / 2, (hub_lat + drop_lat) / 2))
    at_drop = read_live(db, None, taken_off + dt.timedelta(seconds=to_drop)).drones[0]
    assert (at_drop.lon, at_drop.lat) == pytest.approx((drop_lon, drop_lat))


def test_a_drone_not_taken_off_or_landed_is_not_in_the_air(db: Database, tiny_region: str) -> None:
    day = drone_day(db)
    assert read_live(db, None, day.depart_at + LATE).drones == []  # planned, never took off
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    at = day.depart_at + dt.timedelta(minutes=4)
    with db.read() as s:
        aboard = [st.order_id for st in s.get_one(Route, day.sortie).stops if st.kind == "delivery"]
    for order_id in aboard:
        sorties.drop(db, day.sortie, order_id, STAFF, at)
    sorties.land(db, day.sortie, STAFF, day.depart_at + dt.timedelta(minutes=6))
    assert read_live(db, None, day.depart_at + dt.timedelta(minutes=7)).drones == []


def test_positions_orders_and_new_orders_are_hub_scoped(db: Database, flying) -> None:
    day, taken_off = flying
    now = taken_off + dt.timedelta(minutes=1)
    code = share(db, now - dt.timedelta(minutes=3), 134.87, 35.58)
    share(db, now - dt.timedelta(minutes=1), 134.88, 35.59)  # the same courier, later: the last one counts
    view = read_live(db, {hub_id(db)}, now, since=now - dt.timedelta(days=400))
    assert [(c.code, c.lon, c.lat) for c in view.couriers] == [(code, 134.88, 35.59)]
    numbers = {o.number for o in view.orders}
    assert view.new_orders >= len(day.orders) and len(numbers) >= len(day.orders)
    assert {o.state for o in view.orders} >= {"in_transit"}  # R4's parcel is on the drone
    assert read_live(db, {hub_id(db)}, now, since=now).new_orders == 0
    elsewhere = read_live(db, {"another-hub"}, now, since=now - dt.timedelta(days=400))
    assert (elsewhere.couriers, elsewhere.drones, elsewhere.orders, elsewhere.new_orders) == ([], [], [], 0)


def test_the_json_endpoint_serves_the_operators_hub_only(client: FlaskClient, make_user, make_hub,
                                                         db: Database, flying) -> None:
    _, taken_off = flying
    CLOCK[0] = taken_off + dt.timedelta(seconds=30)
    code = share(db, CLOCK[0] - dt.timedelta(seconds=10), 134.87, 35.58)
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get("/").get_data(as_text=True)
    assert '<script src="/static/live_map.js"' in page and 'data-map-id="map_' in page
    url = urlsplit(html.unescape(re.search(r'data-url="([^"]+)"', page).group(1)))  # type: ignore[union-attr]
    assert url.path == "/live" and parse_qs(url.query)["since"] == [CLOCK[0].isoformat()]  # the app's clock
    year_ago = (CLOCK[0] - dt.timedelta(days=400)).isoformat()
    data = client.get("/live", query_string={"since": year_ago}).get_json()
    assert [c["code"] for c in data["couriers"]] == [code]
    [drone] = data["drones"]
    assert drone["estimated"] and "estimated position" in drone["tooltip"]
    assert drone["label"] in drone["tooltip"]
    assert {o["number"] for o in data["orders"]} and all("phone" not in o for o in data["orders"])
    in_air = next(o for o in data["orders"] if o["state"] == "in_transit")
    assert in_air["colour"] == "#ffc107" and in_air["state_label"]
    assert data["new_orders"] == len(data["orders"]) and "new since the page was loaded" in data["new_label"]
    assert client.get("/live?since=garbage").get_json()["new_orders"] == 0

    make_hub("kannabe")
    other = client.application.test_client()
    login(other, make_user("operator", email="other@example.jp", hubs=("kannabe",)))
    elsewhere = other.get("/live").get_json()
    assert (elsewhere["couriers"], elsewhere["drones"], elsewhere["orders"]) == ([], [], [])
