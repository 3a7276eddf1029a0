"""Hub staff fly drone sorties on real confirmed plans: checklist, take-off, drop, landing, abort."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.imports import import_orders
from dispatch.models import (
    Batch,
    Drone,
    HandoffEvent,
    Hub,
    Message,
    OperatorAlert,
    Order,
    Permit,
    Plan,
    Region,
    Resident,
    Route,
    SortieLog,
    Volunteer,
    Zone,
)
from dispatch.planning import plan_batch
from dispatch.read.drones import SortieRow, late_sortie_orders, todays_sorties
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.requests import ItemRequest
from dispatch.services import delivery, sorties
from dispatch.services.batching import close_batch
from dispatch.services.handoffs import verify_custody
from dispatch.services.pins import PinStatus
from dispatch.services.plans import confirm_plan
from tests.conftest import TAJIMA
from tests.dispatch.factories import CONFIRMED_AT, SETTINGS, pin_of
from tests.dispatch.test_delivery import aid, shuttle_day
from tests.dispatch.test_planning import CUTOFF, FAST, TOKYO, latest_plan, order_batch

pytestmark = pytest.mark.db

STAFF = "user:staff1"
OK = sorties.PreFlight(battery_checked=True, weather_checked=True)
LATE = dt.timedelta(minutes=15)
#: Izushi's 10:00 cutoff on Monday 7 December 2026, inside the sample permit's validity.
PO_CUTOFF = dt.datetime(2026, 12, 7, 10, tzinfo=TOKYO)


@dataclass(frozen=True)
class DroneDay:
    """A confirmed plan whose only vehicle is the hub's drone: R4's and R5's light parcels (both
    have drop points) go by direct sortie. ``orders``: resident code -> order id; ``sortie``: the
    route id of the sortie that drops R4's parcel; ``drone``: the drone's id."""

    batch_id: str
    orders: dict[str, str]
    sortie: str
    drone: str
    depart_at: dt.datetime


def drone_plan(db: Database, cutoff: dt.datetime = CUTOFF,
               residents: tuple[str, ...] = ("R4", "R5")) -> tuple[str, str, dict[str, str]]:
    """A proposed plan that certainly has a drone sortie: every courier is off (inactive), so
    nothing but the hub's drone can carry these light parcels to residents with a drop point,
    and leaving them unserved costs the solver more than flying. Returns (batch id, plan id,
    {resident code: order id})."""
    with db.write() as s:
        for volunteer in s.scalars(select(Volunteer)):
            volunteer.active = False
    batch_id, orders = order_batch(db, {code: [ItemRequest("パン", 1)] for code in residents}, cutoff=cutoff)
    return batch_id, plan_batch(db, batch_id, **FAST), orders


def drone_day(db: Database, settings: Settings = SETTINGS, cutoff: dt.datetime = CUTOFF,
              confirmed_at: dt.datetime = CONFIRMED_AT) -> DroneDay:
    """:func:`drone_plan` for R4 and R5, confirmed."""
    batch_id, plan_id, orders = drone_plan(db, cutoff)
    confirm_plan(db, plan_id, None, confirmed_at, settings, as_planned=True)  # a past day, as planned
    plan = latest_plan(db, batch_id)
    assert plan.state == "confirmed"
    route = next(r for r in plan.routes if r.drone_id is not None
                 and any(st.order_id == orders["R4"] and st.kind == "delivery" for st in r.stops))
    assert route.drone_id is not None and route.depart_at is not None
    return DroneDay(batch_id, orders, route.id, route.drone_id, route.depart_at)


@pytest.fixture
def day(db: Database, tiny_region: str) -> DroneDay:
    return drone_day(db)


def order(db: Database, order_id: str) -> Order:
    with db.read() as s:
        return s.get_one(Order, order_id)


def chain(db: Database, order_id: str) -> list[tuple[str, str]]:
    with db.read() as s:
        return [(e.kind, e.proof) for e in s.scalars(
            select(HandoffEvent).where(HandoffEvent.order_id == order_id).order_by(HandoffEvent.seq))]


def sent(db: Database, template: str, order_id: str) -> list[Message]:
    with db.read() as s:
        return list(s.scalars(select(Message).where(Message.template == template,
                                                    Message.order_id == order_id)))


def route_state(db: Database, route_id: str) -> str:
    with db.read() as s:
        return s.get_one(Route, route_id).state


def on_board(db: Database, route_id: str) -> list[str]:
    with db.read() as s:
        route = s.get_one(Route, route_id)
        return [st.order_id for st in route.stops if st.kind == "delivery"]


# --- take-off -------------------------------------------------------------------------------------


def test_take_off_records_the_checklist_and_puts_the_parcel_out_for_delivery(db: Database,
                                                                              day: DroneDay) -> None:
    at = day.depart_at
    record = sorties.take_off(db, day.sortie, STAFF, at, OK)
    r4 = day.orders["R4"]
    assert order(db, r4).number in record.moved and not record.skipped
    assert order(db, r4).state == "in_transit"
    assert chain(db, r4) == [("hub_to_drone", "drone_log")]
    assert len(sent(db, "out_for_delivery", r4)) == 1
    assert route_state(db, day.sortie) == "active"
    with db.read() as s:
        log = s.scalars(select(SortieLog).where(SortieLog.route_id == day.sortie)).one()
        assert (log.battery_checked, log.weather_checked, log.outcome) == (True, True, "flying")
        assert log.payload_kg == pytest.approx(sum(order(db, o).weight_kg for o in on_board(db, day.sortie)))
        assert log.payload_limit_kg == 4.5 and log.taken_off_at == at and log.checked_by == STAFF
    with pytest.raises(DomainError, match="cannot take off again"):
        sorties.take_off(db, day.sortie, STAFF, at, OK)


@pytest.mark.parametrize(("checklist", "message"), [
    (sorties.PreFlight(battery_checked=False, weather_checked=True), "battery"),
    (sorties.PreFlight(battery_checked=True, weather_checked=False), "weather"),
    (sorties.PreFlight(battery_checked=True, weather_checked=True, payload_kg=5.0),
     "over drone D1's limit of 4.5"),
])
def test_an_incomplete_checklist_refuses_the_take_off_and_records_nothing(
        db: Database, day: DroneDay, checklist: sorties.PreFlight, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, checklist)
    assert order(db, day.orders["R4"]).state == "planned" and chain(db, day.orders["R4"]) == []
    assert route_state(db, day.sortie) == "planned"
    with db.read() as s:
        assert s.scalars(select(SortieLog)).all() == []


def test_no_take_off_under_a_weather_hold_or_with_a_grounded_drone(db: Database, day: DroneDay) -> None:
    with db.write() as s:
        s.scalars(select(Hub).where(Hub.kind == "hub")).one().weather_hold = True
    with pytest.raises(DomainError, match="weather hold"):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    with db.write() as s:
        s.scalars(select(Hub).where(Hub.kind == "hub")).one().weather_hold = False
        s.get_one(Drone, day.drone).status = "grounded"
    with pytest.raises(DomainError, match="grounded"):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)


def test_a_zone_needing_a_permit_takes_off_only_under_a_recorded_permit_for_drone_and_pilot(
        db: Database, day: DroneDay) -> None:
    with db.write() as s:
        route = s.get_one(Route, day.sortie)
        region = s.scalars(select(Region)).one()
        hub = s.scalars(select(Hub).where(Hub.kind == "hub")).one()
        (x, y) = route.path[len(route.path) // 2] if route.path else (route.stops[0].lon, route.stops[0].lat)
        d = 0.0005
        square = [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]
        s.add(Zone(region_id=region.id, identifier="TINY-DID", name="Densely inhabited",
                   type="REQ_AUTHORIZATION", category="DID", applicability=[], feature={}, buffer_m=10.0,
                   geometry={"type": "Polygon", "coordinates": [square]}))
    pilot = sorties.PreFlight(battery_checked=True, weather_checked=True, pilot="Aoi Sato")
    with pytest.raises(DomainError, match="Densely inhabited and the hub holds no permit"):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, pilot)
    today = day.depart_at.astimezone(TOKYO).date()
    with db.write() as s:
        drone_code = s.get_one(Drone, day.drone).code
        s.add(Permit(region_id=region.id, hub_id=hub.id, number="MLIT-2026-0042", categories=["did"],
                     drones=[drone_code], pilots=["Aoi Sato"], zones=["TINY-DID"],
                     valid_from=today - dt.timedelta(days=90), valid_until=today - dt.timedelta(days=1)))
    with pytest.raises(DomainError, match="permit MLIT-2026-0042 expired on"):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, pilot)
    with db.write() as s:
        s.scalars(select(Permit)).one().valid_until = today
    someone = sorties.PreFlight(battery_checked=True, weather_checked=True, pilot="Ken Mori")
    with pytest.raises(DomainError, match="pilot Ken Mori is not named on permit MLIT-2026-0042"):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, someone)
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, pilot)
    with db.read() as s:
        log = s.scalars(select(SortieLog)).one()
        assert (log.permit_ref, log.permit_zones, log.pilot) == ("MLIT-2026-0042", ["TINY-DID"], "Aoi Sato")


# --- drop and landing -----------------------------------------------------------------------------


def test_drop_at_an_unattended_drop_point_delivers_by_the_flight_log(db: Database, day: DroneDay) -> None:
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    r4 = day.orders["R4"]
    with pytest.raises(DomainError, match="still on board"):
        sorties.land(db, day.sortie, STAFF, day.depart_at + dt.timedelta(minutes=5))
    at = day.depart_at + dt.timedelta(minutes=4)
    result = sorties.drop(db, day.sortie, r4, STAFF, at)
    assert result.ok and order(db, r4).state == "delivered"
    assert chain(db, r4) == [("hub_to_drone", "drone_log"), ("drone_to_resident", "drone_log")]
    (receipt,) = sent(db, "delivered", r4)
    assert receipt.params["time"] == at.astimezone(CUTOFF.tzinfo).strftime("%H:%M")
    for other in on_board(db, day.sortie):
        if other != r4:
            sorties.drop(db, day.sortie, other, STAFF, at)
    record = sorties.land(db, day.sortie, STAFF, at + dt.timedelta(minutes=4))
    assert record.moved == [] and route_state(db, day.sortie) == "done"
    with db.read() as s:
        log = s.scalars(select(SortieLog)).one()
        assert (log.outcome, log.landed_at) == ("landed", at + dt.timedelta(minutes=4))
    assert verify_custody(db).ok


def test_drop_with_the_residents_pin_counts_wrong_tries_and_locks(db: Database, day: DroneDay) -> None:
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    r4 = day.orders["R4"]
    right = pin_of(db, r4)
    wrong = f"{(int(right) + 1) % 10000:04d}"
    at = day.depart_at + dt.timedelta(minutes=4)
    first = sorties.drop(db, day.sortie, r4, STAFF, at, pin=wrong)
    assert (first.status, first.tries_left) == (PinStatus.WRONG, 4)
    assert order(db, r4).state == "in_transit" and order(db, r4).pin_attempts == 1
    ok = sorties.drop(db, day.sortie, r4, STAFF, at, pin=right)
    assert ok.ok and chain(db, r4)[-1] == ("drone_to_resident", "resident_pin")
    with pytest.raises(DomainError, match="not on board"):
        sorties.drop(db, day.sortie, r4, STAFF, at, pin=right)


def test_five_wrong_pins_at_the_drop_lock_it_and_alert_the_operators(db: Database, day: DroneDay) -> None:
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    r4 = day.orders["R4"]
    wrong = f"{(int(pin_of(db, r4)) + 1) % 10000:04d}"
    results = [sorties.drop(db, day.sortie, r4, STAFF, day.depart_at, pin=wrong) for _ in range(5)]
    assert results[-1].status is PinStatus.LOCKED and results[-1].alert_operator
    with db.read() as s:
        assert [a.kind for a in s.scalars(select(OperatorAlert))] == ["pin_locked"]
    with pytest.raises(DomainError, match="PIN is locked"):
        sorties.drop(db, day.sortie, r4, STAFF, day.depart_at)  # not even as unattended
    assert order(db, r4).state == "in_transit"


def test_an_order_of_another_sortie_is_not_found(db: Database, day: DroneDay) -> None:
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    with pytest.raises(NotFound):
        sorties.drop(db, day.sortie, "no-such-order", STAFF, day.depart_at)
    with db.read() as s:
        hub = s.scalars(select(Hub).where(Hub.kind == "hub")).one().id
    with pytest.raises(NotFound):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK, hub_ids={f"not-{hub}"})


# --- abort ----------------------------------------------------------------------------------------


def test_an_aborted_flight_brings_the_parcel_back_and_offers_it_to_the_ground(db: Database,
                                                                              day: DroneDay) -> None:
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    r4 = day.orders["R4"]
    with pytest.raises(DomainError, match="reason is empty"):
        sorties.abort(db, day.sortie, STAFF, day.depart_at, "  ")
    record = sorties.abort(db, day.sortie, STAFF, day.depart_at + dt.timedelta(minutes=2), "gusts",
                           to_ground=True)
    assert order(db, r4).number in record.moved
    got = order(db, r4)
    assert (got.state, got.force_ground) == ("confirmed", True)  # the next batch plans it by road
    assert chain(db, r4) == [("hub_to_drone", "drone_log"), ("returned", "operator_confirm")]
    with db.read() as s:
        assert s.scalars(select(HandoffEvent.to_party).where(HandoffEvent.kind == "returned")).first() == \
            f"hub:{got.hub_id}"
        log = s.scalars(select(SortieLog)).one()
        assert (log.outcome, log.abort_reason) == ("aborted", "gusts")
    assert len(sent(db, "rescheduled", r4)) == 1
    assert route_state(db, day.sortie) == "cancelled"
    with pytest.raises(DomainError, match="nothing to abort"):
        sorties.abort(db, day.sortie, STAFF, day.depart_at, "again")
    assert verify_custody(db).ok


def test_a_sortie_aborted_before_take_off_sends_its_orders_back_to_the_queue(db: Database,
                                                                              day: DroneDay) -> None:
    r4 = day.orders["R4"]
    sorties.abort(db, day.sortie, STAFF, day.depart_at, "drone would not arm")
    got = order(db, r4)
    assert (got.state, got.force_ground) == ("confirmed", False) and chain(db, r4) == []
    with db.read() as s:
        log = s.scalars(select(SortieLog)).one()
        assert (log.taken_off_at, log.outcome) == (None, "aborted")
    with pytest.raises(DomainError, match="cancelled: it cannot take off"):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)


# --- shuttle: the landing releases the parcel to its courier --------------------------------------


def test_a_shuttle_landing_releases_its_parcel_to_the_courier(db: Database, tiny_region: str) -> None:
    order_id, courier, drone, _supply = shuttle_day(db)
    with db.read() as s:
        sortie = s.scalars(select(Route.id).where(Route.drone_id == drone, Route.plan_id.in_(
            select(Plan.id).where(Plan.state == "confirmed")))).one()
        depart = s.get_one(Route, sortie).depart_at
    assert depart is not None
    sorties.take_off(db, sortie, STAFF, depart, OK)
    assert order(db, order_id).state == "planned"  # in the air, not yet out for delivery
    waiting = delivery.pick_up(db, courier, aid(), depart, order_ids=[order_id])
    assert waiting.detail["waiting"] == [order_id]
    record = sorties.land(db, sortie, STAFF, depart + dt.timedelta(minutes=10))
    assert record.moved == [order(db, order_id).number]
    picked = delivery.pick_up(db, courier, aid(), depart + dt.timedelta(minutes=11), order_ids=[order_id])
    assert picked.detail["picked"] == [order_id]
    assert [k for k, _ in chain(db, order_id)] == ["supply_to_drone", "drone_to_hub", "hub_to_courier"]
    assert verify_custody(db).ok


# --- what staff and the board see -----------------------------------------------------------------


def test_todays_sorties_in_order_with_late_ones_flagged(db: Database, day: DroneDay) -> None:
    def listed(now: dt.datetime) -> list[SortieRow]:
        with db.read() as s:
            return todays_sorties(s, None, now, LATE)

    early = listed(day.depart_at)
    assert [r.depart_at for r in early] == sorted(r.depart_at for r in early)
    row = next(r for r in early if r.route_id == day.sortie)
    assert (row.status, row.kind, row.drone_code, row.payload_limit_kg) == ("waiting", "direct", "D1", 4.5)
    assert any(p.order_id == day.orders["R4"] and p.role == "delivery" for p in row.parcels)
    later = day.depart_at + LATE + dt.timedelta(minutes=1)
    assert next(r for r in listed(later) if r.route_id == day.sortie).status == "late"
    with db.read() as s:
        assert day.orders["R4"] in late_sortie_orders(s, None, later, LATE)
        assert day.orders["R4"] not in late_sortie_orders(s, None, day.depart_at + LATE, LATE)
    sorties.take_off(db, day.sortie, STAFF, later, OK)
    with db.read() as s:
        assert day.orders["R4"] not in late_sortie_orders(s, None, later, LATE)
    tomorrow = day.depart_at + dt.timedelta(days=1)
    assert [r.route_id for r in listed(tomorrow)] == [day.sortie]  # still in the air
    with db.read() as s:
        assert s.scalars(select(Batch.id)).all() == [day.batch_id]


# --- the simulator flies through the same services ------------------------------------------------


def test_the_simulated_day_flies_every_sortie_through_the_staff_services(db: Database,
                                                                         tmp_path: Path) -> None:
    from dispatch.simulate import SimConfig, simulate
    from tests.conftest import TINY
    from tests.dispatch.test_simulate import MONDAY
    from tests.dispatch.test_simulate import SETTINGS as SIM_SETTINGS
    from web.simulate_cli import RealSms

    config = SimConfig(region=TINY, orders=14, seed=4, time_limit_s=0.5, day=MONDAY, fail_rate=0.35,
                       cancel_rate=0.3)
    summary = simulate(db, config, RealSms(db, SIM_SETTINGS), SIM_SETTINGS, tmp_path)
    assert summary["drone_sorties"] > 0 and summary["audit"]["ok"]
    with db.read() as s:
        flown = s.scalars(select(Route).join(Plan, Plan.id == Route.plan_id).where(
            Route.drone_id.is_not(None), Plan.state == "confirmed")).all()
        logs = {log.route_id: log for log in s.scalars(select(SortieLog))}
        assert flown and all(r.state in ("done", "cancelled") for r in flown)
        for route in flown:
            log = logs[route.id]
            assert log.outcome in ("landed", "aborted") and log.checked_by == "user:simulator"
            if log.outcome == "landed":
                assert log.battery_checked and log.weather_checked and log.taken_off_at is not None
        dropped = s.scalars(select(HandoffEvent.proof).where(HandoffEvent.kind == "drone_to_resident")).all()
    assert dropped and set(dropped) == {"drone_log"}  # unattended drop points


def test_a_sortie_in_the_air_still_comes_down_after_a_revision(db: Database, day: DroneDay) -> None:
    from dispatch.services.disruptions import set_weather_hold

    with db.read() as s:
        plan_id = s.get_one(Route, day.sortie).plan_id
        drone_routes = select(Route).where(Route.plan_id == plan_id, Route.drone_id.is_not(None))
        flights = sorted(s.scalars(drone_routes), key=lambda r: r.depart_at)
        hub = s.scalars(select(Hub.id).where(Hub.kind == "hub")).one()
        first = (flights[0].id, flights[0].depart_at, [st.order_id for st in flights[0].stops])
    assert len(flights) == 2  # one drone, two drop points: two sorties one after the other
    route_id, depart, parcels = first
    sorties.take_off(db, route_id, STAFF, depart, OK)
    set_weather_hold(db, hub, True, depart + dt.timedelta(minutes=1), actor=STAFF, settings=SETTINGS)
    with db.read() as s:
        assert s.get_one(Plan, plan_id).state == "superseded"  # the later sortie was moved off
        listed = [r.route_id for r in todays_sorties(s, None, depart + dt.timedelta(minutes=2), LATE)]
    assert route_id in listed  # the pilot still sees the drone in the air
    for order_id in parcels:
        assert sorties.drop(db, route_id, order_id, STAFF, depart + dt.timedelta(minutes=3)).ok
    sorties.land(db, route_id, STAFF, depart + dt.timedelta(minutes=6))
    assert route_state(db, route_id) == "done"
    assert all(order(db, o).state == "delivered" for o in parcels)


# --- disruptions follow what was recorded (issue 13, item 3) ---------------------------------------


def test_a_late_sortie_never_taken_off_goes_to_the_queue_on_a_weather_hold_and_yesterday_stays(
        db: Database, tiny_region: str) -> None:
    """Planned for about 10:00, not taken off at 10:05 (late, no take-off recorded): a weather hold
    then takes it off the drone — the old rule kept any sortie whose *planned* start had passed,
    as if it were flying. With no courier on duty its orders go back to the queue and the
    residents are told. Yesterday's confirmed plan, whose sortie was never flown either, is the
    record of that day and is not revised."""
    from dispatch.services import disruptions

    yesterday = drone_day(db, cutoff=CUTOFF - dt.timedelta(days=1),
                          confirmed_at=CONFIRMED_AT - dt.timedelta(days=1))
    today = drone_day(db)
    before_yesterday = latest_plan(db, yesterday.batch_id)
    late = today.depart_at + dt.timedelta(minutes=5)
    assert late > today.depart_at and route_state(db, today.sortie) == "planned"

    result = disruptions.set_weather_hold(db, order(db, today.orders["R4"]).hub_id, True, late,
                                          actor=STAFF, settings=SETTINGS)

    assert result.in_air == [] and set(result.queued) == set(today.orders.values())
    revised = latest_plan(db, today.batch_id)
    assert revised.state == "confirmed" and not [r for r in revised.routes if r.drone_id is not None]
    for order_id in today.orders.values():
        assert order(db, order_id).state == "confirmed"  # back in the queue for the next batch
        assert len(sent(db, "rescheduled", order_id)) == 1  # and the resident told
    after_yesterday = latest_plan(db, yesterday.batch_id)
    assert (after_yesterday.id, after_yesterday.state) == (before_yesterday.id, "confirmed")
    assert [o for o in yesterday.orders.values() if sent(db, "rescheduled", o)] == []


def test_a_sortie_in_the_air_finishes_and_its_pilot_is_told_to_land(db: Database, day: DroneDay) -> None:
    from dispatch.services import disruptions

    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    hub_id = order(db, day.orders["R4"]).hub_id
    result = disruptions.set_weather_hold(db, hub_id, True, day.depart_at + dt.timedelta(minutes=3),
                                          actor=STAFF, settings=SETTINGS)
    assert day.sortie in result.in_air
    assert day.orders["R4"] not in result.queued and order(db, day.orders["R4"]).state == "in_transit"
    with db.read() as s:
        [row] = [r for r in todays_sorties(s, None, day.depart_at + dt.timedelta(minutes=4), LATE)
                 if r.route_id == day.sortie]
    assert row.status == "in_air" and row.weather_hold  # the page tells the pilot to land now


# --- a parcel shuttled in, then flown out on the same drone's next sortie -------------------------


def test_a_shuttled_parcel_flown_on_by_the_next_sortie_is_dropped_there(db: Database, tmp_path: Path) -> None:
    """Izushi's couriers are off: the post office's parcel for a resident with a drop point is
    shuttled to the hub, then loaded on the drone's next sortie (a ``pickup`` stop at the hub
    before its ``delivery``). Staff take off with it and drop it: the drop finds the parcel."""
    load_region(db, read_region(TAJIMA))
    with db.write() as s:
        hub = s.scalars(select(Hub).where(Hub.code == "IZUSHI")).one()
        for volunteer in s.scalars(select(Volunteer).where(Volunteer.hub_id == hub.id)):
            volunteer.active = False
        near = (Resident.drop_lon - hub.lon) * (Resident.drop_lon - hub.lon) + (
            Resident.drop_lat - hub.lat) * (Resident.drop_lat - hub.lat)  # well inside the range
        code = s.scalars(select(Resident.code).order_by(near).where(
            Resident.hub_id == hub.id, Resident.drop_lon.is_not(None))).first()
        hub_id = hub.id
    manifest = tmp_path / "po.csv"
    manifest.write_text(f"resident,items,origin\n{code},小包:1,TOYOOKA-PO\n", encoding="utf-8")
    import_orders(db, manifest, now=PO_CUTOFF - dt.timedelta(hours=2))
    batch_id = close_batch(db, hub_id, PO_CUTOFF, now=PO_CUTOFF).batch_id
    confirm_plan(db, plan_batch(db, batch_id, **FAST), None, PO_CUTOFF, SETTINGS, as_planned=True)
    plan = latest_plan(db, batch_id)
    flights = sorted((r for r in plan.routes if r.drone_id is not None), key=lambda r: r.depart_at)
    kinds = [[st.kind for st in sorted(r.stops, key=lambda st: st.seq)] for r in flights]
    assert len(flights) == 2 and "transfer" in kinds[0], (kinds, plan.unserved)
    assert kinds[1] == ["pickup", "delivery"], kinds
    order_id = next(st.order_id for st in flights[1].stops)
    shuttle, onward = flights
    pilot = sorties.pilots_for(db, shuttle.id)
    sorties.take_off(db, shuttle.id, STAFF, shuttle.depart_at, OK if not pilot else
                     sorties.PreFlight(battery_checked=True, weather_checked=True, pilot=pilot[0]))
    sorties.land(db, shuttle.id, STAFF, shuttle.return_at)
    sorties.take_off(db, onward.id, STAFF, onward.depart_at, OK)
    assert order(db, order_id).state == "in_transit"
    sorties.drop(db, onward.id, order_id, STAFF, onward.depart_at + dt.timedelta(minutes=5))
    assert order(db, order_id).state == "delivered"
    assert [k for k, _ in chain(db, order_id)] == [
        "supply_to_drone", "drone_to_hub", "hub_to_drone", "drone_to_resident"]
    assert verify_custody(db).ok
