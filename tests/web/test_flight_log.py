"""The flight log (issue 14, item 3) of a simulated Tajima day: the post office's parcels come in
by the drone shuttle under Izushi's permit, and ``hakobu sorties log`` and the console's page and
download list every sortie flown with the 飛行日誌 fields."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import SortieLog
from dispatch.simulate import SimConfig, simulate
from tests.conftest import TAJIMA
from tests.web.conftest import login
from tests.web.test_japanese_pages import raw_codes
from web.cli import main
from web.simulate_cli import RealSms

pytestmark = [pytest.mark.db, pytest.mark.slow]

SETTINGS = Settings(secret_key="sim-pepper", public_url="https://hakobu.example")
MONDAY = dt.date(2026, 12, 7)  # inside the sample permit's validity
FIELDS = [
    "date",
    "pilot",
    "pilot_licence",
    "registration",
    "aircraft",
    "purpose",
    "route",
    "categories",
    "permit",
    "takeoff_place",
    "takeoff_time",
    "landing_place",
    "landing_time",
    "flight_minutes",
    "total_hours",
    "safety_events",
    "defects",
    "outcome",
    "sortie_id",
]


@pytest.fixture(scope="module")
def flown(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A simulated Tajima Monday kept in its own SQLite file; every order a post-office parcel."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tajima') / 'day.sqlite'}"
    db = Database(url)
    config = SimConfig(
        region=TAJIMA,
        orders=8,
        seed=2,
        time_limit_s=0.5,
        solution_limit=20,
        day=MONDAY,
        fail_rate=0.0,
        cancel_rate=0.0,
        supply_share=1.0,
    )
    summary = simulate(db, config, RealSms(db, SETTINGS), SETTINGS)
    assert summary["accounted"] and summary["all_plans_valid"]
    db.dispose()
    return url


def log_rows(url: str, *extra: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(
        main, ["sorties", "log", "--date", MONDAY.isoformat(), "--format", "csv", "--database", url, *extra]
    )
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_the_cli_lists_every_sortie_flown_with_the_flight_log_fields(flown: str) -> None:
    rows = log_rows(flown)
    db = Database(flown)
    with db.read() as s:
        took_off = s.scalars(select(SortieLog.route_id).where(SortieLog.taken_off_at.is_not(None))).all()
    db.dispose()
    assert rows and sorted(r["sortie_id"] for r in rows) == sorted(took_off)
    assert list(rows[0]) == FIELDS
    shuttles = [r for r in rows if r["route"] == "IZUSHI → TOYOOKA-PO → IZUSHI"]
    assert shuttles, [r["route"] for r in rows]
    for r in shuttles:
        assert r["permit"] == "東阪航第12345号" and r["pilot"] == "但馬 太郎"
        assert r["registration"].startswith("JU00TJM") and "did" in r["categories"].split()
        assert r["outcome"] == "landed" and int(r["flight_minutes"]) > 0 and float(r["total_hours"]) > 0
        assert r["takeoff_place"] == r["landing_place"] == "出石ハブ (Izushi hub)"
    assert all(r["route"].startswith("TANTO") is False or r["permit"] == "" for r in rows)
    assert log_rows(flown, "--hub", "KANNABE") == []  # no drone port, no flight


def test_the_console_page_and_download_show_the_same_day_to_the_hubs_operator(flown: str) -> None:
    from dispatch.services.users import upsert_user
    from web import create_app

    app = create_app(
        {"database_url": flown, "secret_key": "test-secret-key", "tiles": "none", "TESTING": True}
    )
    db = app.extensions["hakobu"].db
    upsert_user(db, "izushi@example.jp", "Izushi", "operator", "pw-flight-log-1", ("IZUSHI",), language="en")
    upsert_user(
        db, "kannabe@example.jp", "Kannabe", "operator", "pw-flight-log-1", ("KANNABE",), language="en"
    )
    client: FlaskClient = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "izushi@example.jp", "pw-flight-log-1")
    page = client.get(f"/flight-log?date={MONDAY.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "IZUSHI → TOYOOKA-PO → IZUSHI" in html and "東阪航第12345号" in html
    download = client.get(f"/flight-log/flights.csv?date={MONDAY.isoformat()}")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == log_rows(flown, "--hub", "IZUSHI")
    plan = client.get(f"/flight-log/plan.csv?date={MONDAY.isoformat()}").get_data(as_text=True)
    assert "東阪航第12345号" in plan and "但馬 太郎; Hana Yamada" in plan
    # Another hub's operator sees none of Izushi's flights.
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(other, "kannabe@example.jp", "pw-flight-log-1")
    theirs = other.get(f"/flight-log/flights.csv?date={MONDAY.isoformat()}").get_data(as_text=True)
    assert list(csv.DictReader(io.StringIO(theirs.lstrip("\ufeff")))) == []
    assert client.get("/flight-log?date=yesterday").status_code == 400
    japanese = client.get(f"/flight-log?date={MONDAY.isoformat()}&lang=ja").get_data(as_text=True)
    assert "飛行記録" in japanese and raw_codes(japanese) == []
    db.dispose()
