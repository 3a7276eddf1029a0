"""KPIs of a small recorded day, checked against figures computed by hand from the fixture."""

from __future__ import annotations

import csv
import io
import math

import pytest
from pyproj import Transformer
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Hub, Resident
from dispatch.requests import ItemRequest
from dispatch.services.ordering import place_order
from dispatch.studies.facts import load_facts
from dispatch.studies.kpis import FACTORS, compute, kpi_table, percentile_nearest_rank
from tests.studies.day import DAY, PLACED, confirmed_plan, record_day, resident_id

pytestmark = pytest.mark.db

DELAYS = {"R1": 0, "R2": 30, "R3": 90, "R4": 0}  # minutes after the planned ETA


def test_percentile_nearest_rank_by_hand() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile_nearest_rank(values, 90) == 40.0  # ceil(0.9·4) = 4th
    assert percentile_nearest_rank(values, 50) == 20.0  # ceil(0.5·4) = 2nd
    assert percentile_nearest_rank([5.0] * 9 + [100.0], 90) == 5.0  # ceil(0.9·10) = 9th


def test_kpis_of_a_recorded_day_match_the_hand_computation(db: Database, tiny_region: str) -> None:
    day = record_day(db, DELAYS)
    assert set(day.delivered_at) == set(day.orders.values()), "the fixture day must serve every order"
    facts = load_facts(db, DAY, DAY)
    k = compute(facts, None, None)

    assert (k.orders, k.delivered, k.cancelled) == (5, 4, 1)
    # ETA window = ETA floored to 15 min, one hour long: +0 and +30 min are inside, +90 is not.
    assert (k.on_time, k.with_window) == (3, 4) and k.on_time_share == pytest.approx(0.75)
    leads = sorted((at - PLACED).total_seconds() / 60 for at in day.delivered_at.values())
    assert k.lead_median_min == pytest.approx(round((leads[1] + leads[2]) / 2, 1))
    assert k.lead_p90_min == pytest.approx(round(leads[3], 1))  # nearest rank: ceil(0.9·4) = 4th

    plan = confirmed_plan(db, day.plan_id)
    km: dict[str, float] = {}
    for r in plan.routes:
        km[r.mode] = km.get(r.mode, 0.0) + r.distance_m / 1000
    assert k.km_by_mode == pytest.approx(km)
    courier = [r for r in plan.routes if r.volunteer_id and r.stops]
    hours = sum((r.return_at - r.depart_at).total_seconds() for r in courier) / 3600
    assert k.courier_hours == pytest.approx(hours, abs=1e-3)
    drones = [r for r in plan.routes if r.drone_id]
    assert k.drone_sorties == len(drones)
    assert k.drone_km == pytest.approx(sum(r.distance_m for r in drones) / 1000, abs=1e-3)
    by_courier = sum(1 for m in day.modes.values() if m != "drone")  # one parcel per order
    assert k.courier_parcels == by_courier
    assert k.parcels_per_courier_hour == pytest.approx(round(by_courier / hours, 2))

    # CO2: walk and bicycle emit nothing; drones 0.05 kWh/km × 0.43 kg/kWh; baseline: each delivered
    # household drives to the hub (tiny has no supply point) and back, straight × 1.3, 130 g/km.
    assert k.co2_service_kg == pytest.approx(km.get("drone", 0) * 0.05 * 0.43 + km.get("car", 0) * 0.116,
                                             abs=1e-3)
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:6673", always_xy=True)
    with db.read() as s:
        hub = s.scalars(select(Hub)).one()
        homes = {r.code: (r.lon, r.lat) for r in s.scalars(select(Resident))}
    hx, hy = to_m.transform(hub.lon, hub.lat)
    trips = 0.0
    for code in DELAYS:
        x, y = to_m.transform(*homes[code])
        trips += 2 * 1.3 * math.hypot(x - hx, y - hy) / 1000
    assert k.co2_baseline_kg == pytest.approx(trips * 0.130, abs=1e-3)
    assert k.co2_saved_kg == pytest.approx(k.co2_baseline_kg - k.co2_service_kg, abs=1e-3)
    assert FACTORS["baseline_car"].source.startswith("MLIT")

    assert (k.residents, k.residents_ordering) == (5, 4)  # R5 never ordered
    assert k.residents_reached_share == pytest.approx(0.8)
    assert k.unserved == {}


def test_undelivered_orders_count_as_unserved_with_a_reason(db: Database, tiny_region: str) -> None:
    """Before anything is driven, served orders are 'not delivered' and the median is undefined."""
    place_order(db, resident_id(db, "R2"), [ItemRequest("パン", 1)], channel="sms", now=PLACED)
    k = compute(load_facts(db, DAY, DAY), None, None)
    assert (k.orders, k.delivered) == (1, 0)
    assert k.lead_median_min is None and k.on_time_share is None and k.parcels_per_courier_hour is None
    assert k.unserved == {"not planned": 1}


def test_csv_has_a_row_per_hub_and_day_and_the_total(db: Database, tiny_region: str) -> None:
    record_day(db, DELAYS)
    table = kpi_table(load_facts(db, DAY, DAY))
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    scopes = [(r["hub"], r["day"]) for r in rows]
    assert scopes == [("H1", DAY.isoformat()), ("H1", "range"), ("all", "range")]
    assert {r["delivered"] for r in rows} == {"4"}
    assert float(rows[-1]["on_time_share"]) == pytest.approx(0.75)
    assert len({r["km_drone"] for r in rows}) == 1  # one hub, one day: every scope agrees
