"""A whole simulated day through the real services (issue 5, item 10), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import HandoffEvent, Message, Order
from dispatch.simulate import SimConfig, simulate
from tests.conftest import TINY
from web.cli import main
from web.simulate_cli import RealSms

SETTINGS = Settings(secret_key="sim-pepper", public_url="https://hakobu.example")
MONDAY = dt.date(2026, 3, 2)


@pytest.mark.db
def test_a_simulated_day_accounts_for_every_order(db: Database, tmp_path: Path) -> None:
    config = SimConfig(region=TINY, orders=14, seed=4, time_limit_s=0.5, day=MONDAY,
                       fail_rate=0.35, cancel_rate=0.3)
    summary = simulate(db, config, RealSms(db, SETTINGS), SETTINGS, tmp_path)

    o = summary["orders"]
    assert o["total"] == 14 and o["unaccounted"] == []
    assert o["delivered"] + o["unserved"] + o["cancelled"] + o["returned"] == o["total"]
    assert summary["accounted"] and summary["all_plans_valid"] and summary["audit"]["ok"]
    assert o["delivered"] > 0 and o["cancelled"] > 0 and summary["failed_attempts"] > 0
    assert sum(o["unserved_by_reason"].values()) == o["unserved"]
    # The summary agrees with the database it describes.
    with db.read() as s:
        states = dict(s.execute(select(Order.state, func.count()).group_by(Order.state)).all())
        handed = s.scalar(select(func.count()).select_from(HandoffEvent).where(
            HandoffEvent.kind.in_(("courier_to_resident", "drone_to_resident")))) or 0
        returned = s.scalar(select(func.count(func.distinct(HandoffEvent.order_id))).where(
            HandoffEvent.kind == "returned")) or 0
        pins_sent = s.scalars(select(Message.body).where(Message.template == "order_planned")).all()
    assert states.get("delivered", 0) == o["delivered"] == handed
    assert states.get("cancelled", 0) == o["cancelled"]
    assert returned >= o["returned"] and returned >= 1
    assert pins_sent and all("暗証番号" in body or "PIN" in body for body in pins_sent)
    # The day's map: every confirmed plan's legs and stops.
    collection = json.loads((tmp_path / "plan.geojson").read_text())
    stops = [f for f in collection["features"]
             if f["geometry"]["type"] == "Point" and "eta" in f["properties"]]
    assert collection["type"] == "FeatureCollection" and stops
    assert {f["properties"]["batch_id"] for f in stops} <= {b["batch_id"] for b in summary["batches"]}
    assert json.loads((tmp_path / "summary.json").read_text())["orders"] == o


def test_the_same_seed_gives_the_same_day(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        result = CliRunner().invoke(main, ["simulate", "--region", str(TINY), "--orders", "8", "--seed", "9",
                                           "--out", str(tmp_path / name), "--time-limit", "0.5",
                                           "--day", MONDAY.isoformat()])
        assert result.exit_code == 0, result.output
        runs.append(json.loads((tmp_path / name / "summary.json").read_text()))
    assert runs[0]["orders"] == runs[1]["orders"]
    assert runs[0]["km_by_mode"] == runs[1]["km_by_mode"]


def test_a_broken_region_names_file_row_and_field_and_simulates_nothing(tmp_path: Path) -> None:
    region = tmp_path / "broken"
    shutil.copytree(TINY, region)
    lines = (region / "volunteers.csv").read_text().splitlines()
    lines[1] = lines[1].replace(",walk,", ",hovercraft,")
    (region / "volunteers.csv").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["simulate", "--region", str(region), "--orders", "3",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "volunteers.csv:2" in result.output and "mode" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.db
def test_a_simulated_week_strands_nothing(db: Database, tmp_path: Path) -> None:
    """Issue 13: several days in a row, with carry-over. Tiny's couriers cannot carry everything
    (rice is heavier than a walker's 8 kg, the weekend has one courier on Saturday and none on
    Sunday) and a third of the doors stay shut, so orders miss their day, are carried on, and
    the strict settings park some. Whatever happens, every order ends delivered, cancelled, parked
    or waiting for a later day with the resident told: stranded is 0 on every day."""
    config = SimConfig(region=TINY, orders=8, seed=7, time_limit_s=0.5, day=MONDAY + dt.timedelta(days=3),
                       fail_rate=0.35, cancel_rate=0.1, days=4)
    strict = Settings(secret_key="sim-pepper", public_url="https://hakobu.example",
                      carry_over_max_days=1, max_delivery_attempts=1)
    summary = simulate(db, config, RealSms(db, strict), strict, tmp_path)

    days = summary["days"]
    assert [d["date"] for d in days] == ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]
    assert all(d["stranded"] == 0 and d["audit_ok"] and d["plans_valid"] for d in days)
    for account in days:
        assert {k: type(v) for k, v in account.items() if k != "date"} == {
            "orders": int, "delivered": int, "cancelled": int, "parked": int, "carried_over": int,
            "stranded": int, "audit_ok": bool, "plans_valid": bool}
    total = summary["total"]
    assert total["orders"] == sum(d["orders"] for d in days) == 32
    assert total["orders"] == (total["delivered"] + total["cancelled"] + total["parked"]
                               + total["carried_over"] + total["stranded"])
    assert total["stranded"] == 0 and total["audit_ok"] and total["plans_valid"]
    assert total["delivered"] == sum(d["delivered"] for d in days) > 0
    assert total["parked"] > 0 and sum(d["carried_over"] for d in days) > 0  # the case is there
    with db.read() as s:
        states = dict(s.execute(select(Order.state, func.count()).group_by(Order.state)).all())
        carried = s.scalars(select(Order).where(Order.carried_over > 0)).all()
        waiting = s.scalars(select(Order).where(Order.state == "confirmed")).all()
        told = {m.order_id for m in s.scalars(select(Message).where(Message.template == "carried_over"))}
        parked_told = s.scalar(select(func.count()).select_from(Message).where(
            Message.template == "order_parked")) or 0
    assert states.get("parked", 0) == total["parked"] == parked_told
    assert states.get("delivered", 0) == total["delivered"]
    # Every order carried to a later day was told (its new day), and what a waiting resident was
    # last told is the day the order is now planned for.
    assert carried and {o.id for o in carried} <= told
    assert waiting and all(o.told_day == o.window_start.astimezone(ZoneInfo("Asia/Tokyo")).date()
                           for o in waiting)
