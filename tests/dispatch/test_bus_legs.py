"""Community-bus legs (貨客混載, issue 20, item 3): a parcel rides the bus when that is cheaper and in
time, a courier takes it when the bus misses the window, and the custody chain names the driver.

The fixture is the tiny region with a small GTFS feed written here: one route along the valley road
with a stop beside the hub and one beside R5 (1.2 km east), a trip at 12:10 → 12:30 on weekdays,
whose drivers agreed to carry 4 parcels. Only the walking courier is kept (the bicycle would
be as cheap as the bus for R5) and the drone is left out, so the choice is bus or walker. A second
test reads the real GTFS-JP feed of Nyuzen's town bus (``../shared/gtfs/nyuzen``) into a region.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatch.db import Database
from dispatch.models import BusTrip, Plan
from dispatch.planning import plan_batch
from dispatch.region import RegionError, read_region
from dispatch.region.importer import load_region
from dispatch.requests import ItemRequest, TimeWish
from tests.dispatch.test_planning import order_batch

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "sample_regions" / "tiny"
NYUZEN = REPO.parent / "shared" / "gtfs" / "nyuzen"
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = dt.date(2026, 3, 2)
CUTOFF = dt.datetime.combine(MONDAY, dt.time(10), TOKYO)
AGREEMENT = "山里交通 貨客混載協定 2026-04"

FEED = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nYT,山里交通,https://example.org,Asia/Tokyo\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
    "S0,山里ハブ前,35.5699,134.8601\nS7,東山口,35.5702,134.8729\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,YT,1,山里線,3\n",
    "trips.txt": "route_id,service_id,trip_id\nR1,WD,R1-1210\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "R1-1210,12:10:00,12:10:00,S0,1\nR1-1210,12:30:00,12:30:00,S7,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\nWD,1,1,1,1,1,0,0,20260101,20261231\n",
}


@pytest.fixture
def bus_valley(tmp_path: Path) -> Path:
    return make_bus_valley(tmp_path)


def make_bus_valley(tmp_path: Path) -> Path:
    """The tiny region with the bus feed, its parcel agreement, only the walker and no drone."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "gtfs").mkdir()
    for name, text in FEED.items():
        (folder / "gtfs" / name).write_text(text, encoding="utf-8")
    (folder / "bus_parcels.csv").write_text(
        f"route_id,trip_id,max_parcels,max_kg,agreement\nR1,,4,20,{AGREEMENT}\n", encoding="utf-8"
    )
    volunteers = (folder / "volunteers.csv").read_text(encoding="utf-8").splitlines()
    (folder / "volunteers.csv").write_text("\n".join(volunteers[:2]) + "\n", encoding="utf-8")  # the walker
    (folder / "drones.csv").write_text("id,hub_id,model,payload_kg,range_km,cruise_kmh,turnaround_min\n")
    return folder


def routes_of(db: Database, plan_id: str) -> dict[str, list[tuple[str, str, dt.datetime]]]:
    """mode -> [(order id, stop kind, eta)] of the plan."""
    with db.read() as s:
        plan = s.get_one(Plan, plan_id)
        return {r.mode: [(st.order_id, st.kind, st.eta) for st in r.stops] for r in plan.routes}


def test_the_feed_and_the_agreement_are_read(bus_valley: Path) -> None:
    (trip,) = read_region(bus_valley).bus_trips
    assert (trip.trip.trip_id, trip.max_parcels, trip.max_kg, trip.agreement) == (
        "R1-1210",
        4,
        20.0,
        AGREEMENT,
    )
    assert [c.stop_id for c in trip.trip.calls] == ["S0", "S7"]
    assert trip.trip.service.runs_on(MONDAY) and not trip.trip.service.runs_on(MONDAY + dt.timedelta(days=5))


@pytest.mark.db
def test_a_parcel_rides_the_bus_when_cheaper_and_in_time(db: Database, bus_valley: Path) -> None:
    load_region(db, read_region(bus_valley))
    batch_id, ids = order_batch(db, {"R5": [ItemRequest("パン", 1)]}, cutoff=CUTOFF)
    plan_id = plan_batch(db, batch_id, time_limit_s=2.0, solution_limit=20)
    routes = routes_of(db, plan_id)
    assert set(routes) == {"bus"}
    board, alight = routes["bus"]
    assert board[:2] == (ids["R5"], "pickup") and board[2] == dt.datetime.combine(
        MONDAY, dt.time(12, 10), TOKYO
    )
    assert alight[:2] == (ids["R5"], "delivery") and alight[2] == dt.datetime.combine(
        MONDAY, dt.time(12, 30), TOKYO
    )
    with db.read() as s:
        route = s.get_one(Plan, plan_id).routes[0]
        trip = s.get_one(BusTrip, route.bus_trip_id)
        assert (trip.code, trip.agreement) == ("R1-1210", AGREEMENT)


@pytest.mark.db
def test_a_courier_takes_it_when_the_bus_misses_the_window(db: Database, bus_valley: Path) -> None:
    """Asked for the morning (until 12:00): the 12:30 bus is too late, the walker goes."""
    load_region(db, read_region(bus_valley))
    batch_id, ids = order_batch(
        db, {"R5": [ItemRequest("パン", 1)]}, cutoff=CUTOFF, wish=TimeWish(0, "morning")
    )
    routes = routes_of(db, plan_batch(db, batch_id, time_limit_s=2.0, solution_limit=20))
    assert set(routes) == {"walk"}
    assert [(o, k) for o, k, _ in routes["walk"]] == [(ids["R5"], "delivery")]


@pytest.mark.db
def test_no_bus_on_saturday(db: Database, bus_valley: Path) -> None:
    load_region(db, read_region(bus_valley))
    saturday = dt.datetime.combine(MONDAY + dt.timedelta(days=5), dt.time(10), TOKYO)
    batch_id, _ = order_batch(db, {"R5": [ItemRequest("パン", 1)]}, cutoff=saturday)
    assert "bus" not in routes_of(db, plan_batch(db, batch_id, time_limit_s=2.0, solution_limit=20))


def test_trips_need_the_drivers_agreement_and_a_known_route(bus_valley: Path) -> None:
    (bus_valley / "bus_parcels.csv").write_text(
        "route_id,trip_id,max_parcels,max_kg,agreement\nR1,,4,20,\nR9,,2,10,x\nR1,R1-9999,1,5,x\n",
        encoding="utf-8",
    )
    with pytest.raises(RegionError) as caught:
        read_region(bus_valley)
    assert [str(p) for p in caught.value.problems] == [
        "bus_parcels.csv:2: agreement: required field is missing",
        "bus_parcels.csv:3: route_id: route 'R9' is not in gtfs/routes.txt (trips.txt)",
        "bus_parcels.csv:4: trip_id: trip 'R1-9999' of route 'R1' is not in gtfs/trips.txt",
    ]


@pytest.mark.skipif(not NYUZEN.is_dir(), reason=f"the Nyuzen GTFS-JP feed is not at {NYUZEN}")
def test_the_nyuzen_gtfs_jp_feed_reads_with_its_calendar(tmp_path: Path) -> None:
    """入善町's town bus as published (BOM, CRLF, GTFS-JP extras): 15 trips, 80 stops."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    shutil.copytree(NYUZEN, folder / "gtfs")
    (folder / "bus_parcels.csv").write_text(
        "route_id,trip_id,max_parcels,max_kg,agreement\n1_2,,3,15,入善町 貨客混載 試行\n", encoding="utf-8"
    )
    trips = read_region(folder).bus_trips
    assert trips and all(t.trip.route_id == "1_2" for t in trips)
    first = trips[0].trip
    assert first.calls[0].name == "入善駅前" and first.calls[0].departure == "17:45:00"
    assert first.service.runs_on(dt.date(2019, 6, 3))  # a Monday inside the feed's validity
    assert not first.service.runs_on(dt.date(2019, 1, 1))  # removed in calendar_dates.txt (New Year)


@pytest.mark.db
def test_an_edit_of_the_plan_keeps_its_bus_leg(db: Database, bus_valley: Path) -> None:
    """R5 by bus, R2 (west, far from any stop) by the walker; dropping R2 keeps R5 on the bus."""
    from dispatch.services.plans import drop_order

    load_region(db, read_region(bus_valley))
    batch_id, ids = order_batch(
        db, {"R5": [ItemRequest("パン", 1)], "R2": [ItemRequest("パン", 1)]}, cutoff=CUTOFF
    )
    plan_id = plan_batch(db, batch_id, time_limit_s=2.0, solution_limit=20)
    before = routes_of(db, plan_id)
    assert {o for o, k, _ in before["bus"]} == {ids["R5"]} and {o for o, _, _ in before["walk"]} == {
        ids["R2"]
    }
    edited = drop_order(db, plan_id, ids["R2"], user_id=None)
    after = routes_of(db, edited)
    assert after["bus"] == before["bus"] and "walk" not in after
