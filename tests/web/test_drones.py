"""The drone operations pages: today's sorties, checklist and take-off, drop, landing, abort —
hub-scoped, CSRF-protected, translated — and the board's flag for a sortie that did not take off."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Drone, HandoffEvent, OperatorAlert, Order, Route, SortieLog, utcnow
from dispatch.read.board import board as read_board
from dispatch.services import sorties
from tests.dispatch.factories import SETTINGS, pin_of
from tests.dispatch.test_sorties import DroneDay, drone_day
from tests.web.conftest import csrf_token, login
from tests.web.test_japanese_pages import raw_codes
from web import create_app

pytestmark = pytest.mark.db

TOKYO = ZoneInfo("Asia/Tokyo")


def todays_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """10:00 in Tokyo on today's Tokyo date: the sortie's plan is today's, whatever the hour."""
    local = (now or utcnow()).astimezone(TOKYO)
    return dt.datetime.combine(local.date(), dt.time(10), TOKYO)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app({"database_url": database_url, "secret_key": "test-secret-key",
                              "tiles": "none", "public_url": "https://hakobu.example", "TESTING": True})
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def today(db: Database, tiny_region: str) -> DroneDay:
    return drone_day(db, SETTINGS, cutoff=todays_cutoff(), confirmed_at=utcnow())


@pytest.fixture
def operator(client: FlaskClient, make_user, tiny_region: str) -> FlaskClient:
    """The client signed in as an operator of the sortie's hub (H1, so after the region exists)."""
    login(client, make_user("operator", hubs=("H1",)))
    return client


def order(db: Database, order_id: str) -> Order:
    with db.read() as s:
        return s.get_one(Order, order_id)


def post(client: FlaskClient, path: str, page: str, **data: str) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token(client, page), **data}, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def test_the_list_shows_todays_sorties_with_their_parcels(operator: FlaskClient, db: Database,
                                                           today: DroneDay) -> None:
    page = operator.get("/drones").get_data(as_text=True)
    assert f'data-sortie="{today.sortie}"' in page and "✈ D1" in page
    assert f'data-order="{order(db, today.orders["R4"]).number}"' in page
    assert "drop point of R4" in page and "of 4.5 kg" in page
    assert 'data-nav="drones"' in page


def test_checklist_take_off_drop_with_pin_and_landing(operator: FlaskClient, db: Database,
                                                      today: DroneDay) -> None:
    page = f"/drones/{today.sortie}"
    status, body = post(operator, f"{page}/take-off", page, payload_kg="0.4", weather_checked="y")
    assert status == 200 and "check the battery before take-off" in body
    assert order(db, today.orders["R4"]).state == "planned"

    status, body = post(operator, f"{page}/take-off", page, payload_kg="0.4", battery_checked="y",
                        weather_checked="y")
    assert status == 200 and "Take-off recorded" in body and 'data-action="drop"' in body
    r4 = today.orders["R4"]
    assert order(db, r4).state == "in_transit"

    wrong = f"{(int(pin_of(db, r4)) + 1) % 10000:04d}"
    status, body = post(operator, f"{page}/drop/{r4}", page, pin=wrong)
    assert "Wrong PIN: 4 tries left." in body and order(db, r4).state == "in_transit"
    status, body = post(operator, f"{page}/drop/{r4}", page, pin=pin_of(db, r4))
    assert "Dropped at the drop point: delivered." in body and order(db, r4).state == "delivered"
    with db.read() as s:
        last = s.scalars(select(HandoffEvent).where(HandoffEvent.order_id == r4)
                         .order_by(HandoffEvent.seq.desc())).first()
        assert last is not None and (last.kind, last.proof) == ("drone_to_resident", "resident_pin")
        on_board = [st.order_id for st in s.get_one(Route, today.sortie).stops
                    if st.kind == "delivery" and st.order_id != r4]
    for other in on_board:
        post(operator, f"{page}/drop/{other}", page)
    status, body = post(operator, f"{page}/land", page)
    assert "Landed." in body
    with db.read() as s:
        assert s.get_one(Route, today.sortie).state == "done"
        log = s.scalars(select(SortieLog)).one()
        assert log.outcome == "landed" and log.checked_by.startswith("user:")


def test_abort_sends_the_order_to_the_ground(operator: FlaskClient, db: Database, today: DroneDay) -> None:
    page = f"/drones/{today.sortie}"
    status, body = post(operator, f"{page}/abort", page, reason="strong wind", to_ground="y")
    assert status == 200 and "Sortie aborted" in body
    got = order(db, today.orders["R4"])
    assert (got.state, got.force_ground) == ("confirmed", True)


def test_another_hubs_operator_gets_404_and_nothing_changes(client: FlaskClient, make_user, make_hub,
                                                            db: Database, today: DroneDay) -> None:
    make_hub("other")
    login(client, make_user("operator", email="other@example.jp", hubs=("other",)))
    assert f'data-sortie="{today.sortie}"' not in client.get("/drones").get_data(as_text=True)
    assert client.get(f"/drones/{today.sortie}").status_code == 404
    token = csrf_token(client, "/drones")
    for action in ("take-off", "land", "abort", f"drop/{today.orders['R4']}"):
        response = client.post(f"/drones/{today.sortie}/{action}",
                               data={"csrf_token": token, "payload_kg": "0.4", "battery_checked": "y",
                                     "weather_checked": "y", "reason": "x"})
        assert response.status_code == 404, action
    assert order(db, today.orders["R4"]).state == "planned"


def test_planners_may_not_fly_and_posts_need_the_csrf_token(client: FlaskClient, make_user, db: Database,
                                                            today: DroneDay) -> None:
    login(client, make_user("planner"))
    assert client.get("/drones").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/plans")})
    login(client, make_user("operator", hubs=("H1",)))
    response = client.post(f"/drones/{today.sortie}/take-off",
                           data={"payload_kg": "0.4", "battery_checked": "y", "weather_checked": "y"})
    assert response.status_code == 400 and re.search(r"[Cc]SRF", response.get_data(as_text=True))
    assert order(db, today.orders["R4"]).state == "planned"


def test_the_page_speaks_japanese(operator: FlaskClient, today: DroneDay) -> None:
    listing = operator.get("/drones?lang=ja").get_data(as_text=True)
    assert "ドローン運航" in listing
    page = operator.get(f"/drones/{today.sortie}").get_data(as_text=True)
    assert "飛行前点検" in page and "バッテリー確認済み" in page and "離陸" in page


def test_the_board_flags_a_sortie_not_taken_off_in_time(db: Database, today: DroneDay) -> None:
    late_after = dt.timedelta(minutes=15)
    r4 = today.orders["R4"]
    with db.read() as s:
        on_time = read_board(s, None, today.depart_at + late_after, sortie_late_after=late_after)
    assert "sortie_late" not in next(p for p in on_time.parcels if p.order_id == r4).exceptions
    later = today.depart_at + late_after + dt.timedelta(minutes=1)
    with db.read() as s:
        late = read_board(s, None, later, sortie_late_after=late_after)
    row = next(p for p in late.parcels if p.order_id == r4)
    assert "sortie_late" in row.exceptions
    assert late.parcels[0].exceptions  # exceptions sort on top


def hub_of(db: Database, drone_id: str) -> str:
    """The hub a drone belongs to."""
    with db.read() as s:
        return s.get_one(Drone, drone_id).hub_id


def _fly_and_drop_all(client: FlaskClient, db: Database, today: DroneDay, **checklist: str) -> str:
    """Take off and drop every parcel of the direct sortie; returns its page."""
    page = f"/drones/{today.sortie}"
    post(client, f"{page}/take-off", page, payload_kg="0.4", battery_checked="y", weather_checked="y",
         **checklist)
    with db.read() as s:
        on_board = [st.order_id for st in s.get_one(Route, today.sortie).stops if st.kind == "delivery"]
    for parcel in on_board:
        post(client, f"{page}/drop/{parcel}", page, pin=pin_of(db, parcel))
    return page


def test_the_landing_records_safety_events_and_a_defect_in_the_flight_log_and_alerts_the_board(
        operator: FlaskClient, db: Database, today: DroneDay) -> None:
    page = _fly_and_drop_all(operator, db, today, pilot_licence="一等-0123456789")
    assert 'name="safety_notes"' in operator.get(page).get_data(as_text=True)
    status, body = post(operator, f"{page}/land", page, safety_notes="鳥が接近、回避して継続",
                        defects="プロペラ1枚に欠け: 交換済み")
    assert status == 200 and "Landed." in body and "The defect is on the hub" in body
    assert 'data-role="defects"' in body and "プロペラ1枚に欠け" in body
    with db.read() as s:
        log = s.scalars(select(SortieLog)).one()
        assert (log.safety_notes, log.defects) == ("鳥が接近、回避して継続", "プロペラ1枚に欠け: 交換済み")
        day = log.taken_off_at.astimezone(TOKYO).date().isoformat()
    drone_hub = hub_of(db, today.drone)
    assert sorties.last_licence(db, log.pilot, drone_hub) == "一等-0123456789"  # the next checklist's
    assert sorties.last_licence(db, log.pilot, "another-hub") == ""  # never another hub's pilots

    csv_text = operator.get(f"/flight-log/flights.csv?date={day}").get_data(as_text=True)
    header, row = csv_text.lstrip("\ufeff").splitlines()[:2]
    fields = dict(zip(header.split(","), row.split(","), strict=True))
    assert fields["safety_events"] == "鳥が接近、回避して継続"
    assert fields["defects"] == "プロペラ1枚に欠け: 交換済み"
    assert fields["pilot_licence"] == "一等-0123456789"
    printable = operator.get(f"/flight-log?date={day}").get_data(as_text=True)
    assert "鳥が接近、回避して継続" in printable and "プロペラ1枚に欠け: 交換済み" in printable
    assert "一等-0123456789" in printable

    board = operator.get("/board?lang=ja").get_data(as_text=True)
    assert 'data-alert="drone_defect"' in board and "機体の不具合" in board
    assert "機体 D1 が不具合ありで着陸しました: プロペラ1枚に欠け: 交換済み" in board
    assert not raw_codes(board)


def test_a_landing_without_entries_raises_no_alert_and_too_long_an_entry_is_refused(
        operator: FlaskClient, db: Database, today: DroneDay) -> None:
    page = _fly_and_drop_all(operator, db, today)
    status, body = post(operator, f"{page}/land", page, defects="x" * 1001)
    assert status == 200 and "Please fill in the form: defects" in body
    with db.read() as s:
        assert s.get_one(Route, today.sortie).state == "active"
    status, body = post(operator, f"{page}/land", page)
    assert "Landed." in body and "The defect is on the hub" not in body
    with db.read() as s:
        assert not s.scalars(select(OperatorAlert)).all()
        assert s.scalars(select(SortieLog.defects)).one() == ""
