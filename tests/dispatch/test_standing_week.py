"""Issue 15's "done when" for standing orders: a simulated week with standing orders for 20
residents, driven through ``dispatch.simulate`` and the same services (the residents set them by
SMS, the scheduler's sweep step places and reminds, couriers deliver with PINs), delivers each
occurrence exactly once, none twice, none forgotten; the one a resident skipped with 取消 is not
delivered, and a day the hub is closed is skipped with notice."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Hub, Message, Order, StandingOccurrence, StandingOrder
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.schema import upgrade
from dispatch.services import standing
from dispatch.simulate import SimConfig, simulate
from tests.conftest import TINY
from web.simulate_cli import RealSms

pytestmark = pytest.mark.db
SETTINGS = Settings(secret_key="sim-pepper", public_url="https://hakobu.example")
MONDAY = dt.date(2026, 3, 2)
THURSDAY = MONDAY + dt.timedelta(days=3)


def twenty_residents(tmp_path: Path) -> Path:
    """Tiny, with 20 residents (four at each of its five homes) and a car courier every day, trained
    for medicine (standing 薬 orders need one)."""
    folder = tmp_path / "tiny20"
    shutil.copytree(TINY, folder)
    data = json.loads((folder / "residents.geojson").read_text(encoding="utf-8"))
    homes = data["features"]
    data["features"] = []
    for i in range(20):
        feature = json.loads(json.dumps(homes[i % len(homes)]))
        feature["properties"].update(id=f"S{i:02d}", phone=f"+8170000010{i:02d}", language="ja")
        feature["properties"].pop("drop_lon", None), feature["properties"].pop("drop_lat", None)
        data["features"].append(feature)
    (folder / "residents.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (folder / "volunteers.csv").write_text(
        "id,name,phone,hub_id,mode,capacity_kg,max_parcels,shift_start,shift_end,days,training\n"
        "V1,森 健太,+817000000101,H1,car,200,40,08:00,18:00,mon tue wed thu fri sat sun,medicine\n",
        encoding="utf-8",
    )
    return folder


def test_a_week_of_standing_orders_delivers_each_occurrence_once(db: Database, tmp_path: Path) -> None:
    region = twenty_residents(tmp_path)
    upgrade(db)
    code = load_region(db, read_region(region)).region_code
    with db.read() as s:
        hub_id = s.scalars(select(Hub.id).where(Hub.code == "H1")).one()
    standing.close_hub_day(
        db, [hub_id], THURSDAY, "祝日", user_id=None, now=dt.datetime(2026, 2, 20, tzinfo=dt.UTC)
    )
    config = SimConfig(
        region=region,
        orders=0,
        seed=5,
        time_limit_s=0.3,
        solution_limit=50,
        day=MONDAY,
        fail_rate=0.0,
        cancel_rate=0.0,
        days=7,
        standing=20,
    )
    summary = simulate(db, config, RealSms(db, SETTINGS), SETTINGS, tmp_path / "out", region_code=code)

    # 20 weekly orders set by SMS on Monday morning (weekday i % 7): the three Monday ones first
    # come next week; of the 17 due, Thursday's three are closed, Tuesday's S01 was skipped.
    assert summary["standing"] == {
        "standing_orders": 20,
        "due": 17,
        "delivered_once": 13,
        "skipped": 1,
        "closed": 3,
        "forgotten": 0,
        "delivered_twice": 0,
        "skipped_delivered": 0,
        "not_delivered": 0,
        "ok": True,
    }
    assert summary["total"]["stranded"] == 0 and summary["audit_ok"] and summary["plans_valid"]
    with db.read() as s:
        assert s.query(StandingOrder).count() == 20
        days = [o.day for o in s.scalars(select(StandingOccurrence))]
        assert len(days) == len(
            set(zip(days, s.scalars(select(StandingOccurrence.standing_order_id)), strict=True))
        )
        reminders = list(s.scalars(select(Message).where(Message.template == "standing_reminder")))
        closed = list(s.scalars(select(Message).where(Message.template == "standing_closed")))
        skipped = s.scalars(
            select(Order).where(Order.channel == "standing", Order.state == "cancelled")
        ).one()
    assert len(closed) == 3 and all(m.params["date"] == THURSDAY.isoformat() for m in closed)
    # every occurrence placed in the week was reminded once, the day before, at 16:00 Tokyo
    assert len(reminders) == 13 + 1 + 3  # the delivered, the skipped, and next Monday's three
    assert {m.created_at.astimezone(dt.timezone(dt.timedelta(hours=9))).time() for m in reminders} == {
        dt.time(16, 0)
    }
    assert skipped.note == "cancelled by SMS"
