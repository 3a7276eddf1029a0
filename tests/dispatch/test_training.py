"""Orders that need a trained courier (issue 15, item 4), from volunteers.csv to the plan: a
medicine order goes to the courier trained for it, a welfare visit with nobody trained on shift
is unserved with the reason, and never flown by a drone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Hub, Resident, Volunteer
from dispatch.planning import plan_batch
from dispatch.requests import ItemRequest
from dispatch.services.batching import close_batch
from dispatch.services.ordering import place_order
from tests.dispatch.test_planning import CUTOFF, FAST, latest_plan
from tests.dispatch.volunteer_region import load_volunteer_region

pytestmark = pytest.mark.db


def test_training_decides_who_carries_an_order(db: Database, tmp_path: Path) -> None:
    load_volunteer_region(db, tmp_path)  # Monday: V1 (pin) and V2 (pin, medicine) on shift
    with db.read() as s:
        residents = {r.code: r.id for r in s.scalars(select(Resident))}
        hub_id = s.scalars(select(Hub.id)).first()
        codes = {v.id: v.code for v in s.scalars(select(Volunteer))}
    placed = CUTOFF - dt.timedelta(hours=1)
    medicine = place_order(db, residents["R2"], [ItemRequest("薬", 1)], channel="phone", now=placed,
                           needs_training="medicine").id
    welfare = place_order(db, residents["R4"], [ItemRequest("パン", 1)], channel="phone", now=placed,
                          needs_training="welfare").id  # R4 has a drone drop point
    plain = place_order(db, residents["R1"], [ItemRequest("パン", 1)], channel="web", now=placed).id
    batch_id = close_batch(db, hub_id, CUTOFF, now=CUTOFF).batch_id
    plan_batch(db, batch_id, **FAST)
    plan = latest_plan(db, batch_id)
    carrier = {st.order_id: r for r in plan.routes for st in r.stops if st.kind == "delivery"}
    assert codes[carrier[medicine].volunteer_id] == "V2"
    assert plain in carrier
    [unserved] = [u for u in plan.unserved if u["order_id"] == welfare]
    assert unserved["reason"] == "no_eligible_vehicle" and "welfare" in unserved["detail"]
    assert welfare not in carrier  # not by drone either
