"""Every SMS speaks the clock of its recipient's region (issue 12): the tiny region moved to Lisbon.

The copy differs from ``sample_regions/tiny`` only by ``timezone`` in ``region.toml``. On Monday 2
March 2026 Lisbon is on UTC+0 and Tokyo on UTC+9, so a time rendered in the wrong zone is off by
nine hours and cannot pass by accident.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import Message
from dispatch.planning import plan_batch
from dispatch.requests import ItemRequest
from dispatch.services.delivery import deliver, pick_up
from dispatch.services.ordering import place_order
from dispatch.services.plans import confirm_plan, eta_window
from sms.sender import send_due
from sms.service import receive_sms, render_message
from sms.transports import SimulatorTransport
from tests.conftest import TINY
from tests.dispatch.factories import pin_of
from tests.dispatch.test_planning import FAST, MONDAY, latest_plan, order_batch, resident_id

LISBON = ZoneInfo("Europe/Lisbon")
TOKYO = ZoneInfo("Asia/Tokyo")
CUTOFF = dt.datetime.combine(MONDAY, dt.time(10), LISBON)  # the hub's 10:00 cutoff, Lisbon time
SETTINGS = Settings(secret_key="lisbon-pepper", public_url="https://hakobu.example")
R1_PHONE = "+817000000001"


@pytest.fixture
def lisbon(db: Database, tmp_path: Path) -> str:
    """The tiny region, copied and set in Europe/Lisbon, loaded; returns its code."""
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region

    folder = tmp_path / "lisbon"
    shutil.copytree(TINY, folder)
    toml = folder / "region.toml"
    original = toml.read_text()
    assert 'timezone = "Asia/Tokyo"' in original
    toml.write_text(original.replace('timezone = "Asia/Tokyo"', 'timezone = "Europe/Lisbon"'))
    return load_region(db, read_region(folder)).region_code


def _hhmm(instant: dt.datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


def _sent(db: Database, template: str) -> list[Message]:
    send_due(db, SimulatorTransport(), now=CUTOFF + dt.timedelta(hours=6), limit=1000)
    with db.read() as s:
        return list(s.scalars(select(Message).where(Message.template == template,
                                                    Message.direction == "out")))


def test_a_status_reply_shows_the_window_in_the_regions_clock(db: Database, lisbon: str) -> None:
    """The inline (TwiML) answer and its stored copy: the delivery window of today's order, which
    opens at the hub's 08:00 in Lisbon (17:00 in Tokyo)."""
    placed_at = dt.datetime.combine(MONDAY, dt.time(6), LISBON)
    place_order(db, resident_id(db, "R1"), [ItemRequest("米", 1)], channel="web", now=placed_at)
    reply = receive_sms(db, "twilio", "SM" + "7" * 32, R1_PHONE, "状況", placed_at, settings=SETTINGS,
                        reply_inline=True)
    assert reply.template == "status" and reply.timezone == "Europe/Lisbon"
    text = render_message(reply.template, reply.language, reply.params, reply.timezone)
    assert "08:00" in text and "18:00" in text, text  # the hub's hours, in Lisbon
    assert "17:00" not in text, text  # 08:00 Lisbon read on a Tokyo clock


def test_eta_and_receipt_texts_show_lisbon_times(db: Database, lisbon: str) -> None:
    """Plan confirmed (ETA window and PIN), picked up (ETA again), delivered (the time): every text
    the resident gets reads Lisbon's clock."""
    batch_id, ids = order_batch(db, {"R1": [ItemRequest("パン", 1)], "R2": [ItemRequest("パン", 1)]},
                                cutoff=CUTOFF)
    plan_id = plan_batch(db, batch_id, **FAST)
    confirm_plan(db, plan_id, None, CUTOFF + dt.timedelta(minutes=5), SETTINGS)
    plan = latest_plan(db, batch_id)
    etas = {st.order_id: st.eta for r in plan.routes for st in r.stops if st.kind == "delivery"}
    planned = _sent(db, "order_planned")
    assert planned, "the confirmation queued no ETA texts"
    for message in planned:
        eta = etas[message.order_id]
        assert eta is not None
        start, end = eta_window(eta, LISBON)
        assert f"{start:%H:%M}" in message.body and f"{end:%H:%M}" in message.body, message.body
        assert _hhmm(start, TOKYO) not in message.body, message.body

    route = next(r for r in plan.routes if r.volunteer_id and r.stops)
    order_id = next(st.order_id for st in route.stops if st.kind == "delivery")
    assert route.volunteer_id is not None and order_id in ids.values()
    out_at = CUTOFF + dt.timedelta(minutes=30)
    assert pick_up(db, route.volunteer_id, "lisbon-pick-1", out_at, route_id=route.id).ok
    delivered_at = dt.datetime.combine(MONDAY, dt.time(11, 47), LISBON)
    assert deliver(db, route.volunteer_id, order_id, pin_of(db, order_id), "lisbon-drop-1", delivered_at).ok
    receipt = next(m for m in _sent(db, "delivered") if m.order_id == order_id)
    assert receipt.params["time"] == "11:47" and "11:47" in receipt.body, receipt.body
    on_the_way = next(m for m in _sent(db, "out_for_delivery") if m.order_id == order_id)
    start, end = eta_window(etas[order_id], LISBON)  # type: ignore[arg-type]
    assert f"{start:%H:%M}" in on_the_way.body and f"{end:%H:%M}" in on_the_way.body, on_the_way.body
