"""Permits on the Tajima sample (issue 14, item 1): the post office lies in the Toyooka DID, so
Izushi's drones shuttle its parcels only under Izushi's permit; an expired permit grounds them
with the reason on the plan; Tanto, without a permit, never flies the DID."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.imports import import_orders
from dispatch.models import Hub, Permit, Plan, Resident
from dispatch.phrases import english
from dispatch.planning import plan_batch
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.services.batching import close_batch
from tests.conftest import TAJIMA
from tests.dispatch.test_planning import latest_plan

pytestmark = pytest.mark.db

TOKYO = ZoneInfo("Asia/Tokyo")
#: Monday 7 December 2026, inside the sample permit's validity (2026-04-01 .. 2027-03-31).
MONDAY = dt.date(2026, 12, 7)
CUTOFF = dt.datetime.combine(MONDAY, dt.time(10), TOKYO)
NUMBER = "東阪航第12345号"


@pytest.fixture
def tajima(db: Database) -> Database:
    load_region(db, read_region(TAJIMA))
    return db


def post_office_batch(db: Database, tmp_path: Path, hub_code: str, n: int = 3) -> str:
    """``n`` parcels waiting at the post office for residents of ``hub_code`` (imported from a
    manifest, as the post office sends them), and the hub's 10:00 batch closed."""
    with db.read() as s:
        hub = s.scalars(select(Hub).where(Hub.code == hub_code)).one()
        codes = s.scalars(
            select(Resident.code).where(Resident.hub_id == hub.id).order_by(Resident.code).limit(n)
        ).all()
    manifest = tmp_path / f"{hub_code}.csv"
    manifest.write_text(
        "resident,items,origin\n" + "".join(f"{c},小包:1,TOYOOKA-PO\n" for c in codes), encoding="utf-8"
    )
    import_orders(db, manifest, now=CUTOFF - dt.timedelta(hours=2))
    return close_batch(db, hub.id, CUTOFF, now=CUTOFF).batch_id


def planned(db: Database, batch_id: str) -> Plan:
    plan_batch(db, batch_id, time_limit_s=2.0, solution_limit=20)
    return latest_plan(db, batch_id)


def shuttles(plan: Plan) -> list[list[str]]:
    """The permits of each shuttle sortie (supply point -> hub) of the plan."""
    return [
        r.permits
        for r in plan.routes
        if r.drone_id and any(st.kind in ("load", "transfer") for st in r.stops)
    ]


def test_a_valid_permit_lets_the_shuttle_fly_from_the_post_office_and_the_plan_names_it(
    tajima: Database, tmp_path: Path
) -> None:
    plan = planned(tajima, post_office_batch(tajima, tmp_path, "IZUSHI"))
    assert plan.validation["ok"], plan.validation["violations"]
    assert shuttles(plan) and all(p == [NUMBER] for p in shuttles(plan))
    notes = [english(n) for n in plan.flight_notes]
    district = "豊岡 人口集中地区 (Toyooka densely inhabited district)"
    assert f"drone D1 may fly through {district} under permit {NUMBER}" in notes


def test_an_expired_permit_grounds_the_shuttle_with_the_reason(tajima: Database, tmp_path: Path) -> None:
    with tajima.write() as s:
        permit = s.scalars(select(Permit).where(Permit.number == NUMBER)).one()
        permit.valid_until = MONDAY - dt.timedelta(days=1)
    plan = planned(tajima, post_office_batch(tajima, tmp_path, "IZUSHI"))
    assert plan.validation["ok"], plan.validation["violations"]
    assert shuttles(plan) == []
    assert any(
        f"stays no-fly for drone D1: permit {NUMBER} expired on 2026-12-06" in english(n)
        for n in plan.flight_notes
    )


def test_a_hub_without_a_permit_never_flies_the_district(tajima: Database, tmp_path: Path) -> None:
    plan = planned(tajima, post_office_batch(tajima, tmp_path, "TANTO"))
    assert plan.validation["ok"], plan.validation["violations"]
    assert shuttles(plan) == []
    assert any("stays no-fly for drone D3: no permit" in english(n) for n in plan.flight_notes)


# --- permits.csv ------------------------------------------------------------------------------


def test_bad_permit_rows_are_named_by_file_row_and_field_and_nothing_is_read(tmp_path: Path) -> None:
    import shutil

    from dispatch.region.reader import RegionError
    from tests.conftest import TINY

    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "permits.csv").write_text(
        "number,hub_id,valid_from,valid_until,categories,drones,pilots,zones\n"
        "P-1,H1,2026-04-01,2026-03-31,did,D1,A,TINY-Z1\n"
        "P-2,H1,2026-04-01,2027-03-31,sky,D9,A,NOWHERE\n"
        "P-1,H1,April,2027-03-31,did,D1,A,TINY-Z1\n",
        encoding="utf-8",
    )
    with pytest.raises(RegionError) as caught:
        read_region(folder)
    assert [str(p) for p in caught.value.problems] == [
        "permits.csv:2: valid_until: 2026-03-31 is before valid_from 2026-04-01",
        "permits.csv:2: zones: zone 'TINY-Z1' is PROHIBITED: no permit covers it "
        "(only REQ_AUTHORIZATION or CONDITIONAL)",
        "permits.csv:3: categories: unknown value 'sky' (expected space-separated "
        "did airport high_altitude bvlos night under_30m event dangerous_goods drop)",
        "permits.csv:3: drones: drone 'D9' does not exist in drones.csv",
        "permits.csv:3: zones: zone 'NOWHERE' does not exist in zones.geojson",
        "permits.csv:4: number: duplicate id 'P-1' (first used in row 2)",
        "permits.csv:4: valid_from: must be a date YYYY-MM-DD, got 'April'",
        "permits.csv:4: zones: zone 'TINY-Z1' is PROHIBITED: no permit covers it "
        "(only REQ_AUTHORIZATION or CONDITIONAL)",
    ]


def test_the_sample_permit_loads_and_a_reload_updates_it_in_place(tajima: Database) -> None:
    with tajima.read() as s:
        (permit,) = s.scalars(select(Permit)).all()
        assert (permit.number, permit.drones, permit.zones, permit.categories) == (
            NUMBER,
            ["D1", "D2"],
            ["JP-TOYOOKA-DID"],
            ["did", "bvlos", "drop"],
        )
        assert s.get_one(Hub, permit.hub_id).code == "IZUSHI"
    report = load_region(tajima, read_region(TAJIMA))
    assert dict(report.counts["permits"]) == {"unchanged": 1}
