"""Operator edits of a proposed plan (new versions, re-validated) and confirming it (notifications)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Batch, Message, Order, Plan, Volunteer
from dispatch.phrases import english
from dispatch.planning import plan_batch
from dispatch.services.pins import pin_matches
from dispatch.services.plans import (
    confirm_plan,
    drone_sorties,
    drop_order,
    force_ground,
    move_stop,
    pin_for_notification,
    reorder,
    request_ground,
)
from dispatch.services.signin import redeem_courier_link
from tests.dispatch.test_planning import CUTOFF, FAST, five_orders, latest_plan, states

pytestmark = pytest.mark.db

SETTINGS = Settings(secret_key="test-pepper", public_url="https://hakobu.example")
NOW = CUTOFF + dt.timedelta(minutes=5)


def volunteer_id(db: Database, code: str) -> str:
    with db.read() as s:
        return s.scalars(select(Volunteer.id).where(Volunteer.code == code)).one()


def planned(db: Database) -> tuple[str, str, dict[str, str]]:
    """Five tiny orders planned: (batch id, plan id, {resident code: order id})."""
    batch_id, ids = five_orders(db)
    return batch_id, plan_batch(db, batch_id, **FAST), ids


def deliveries(plan: Plan, volunteer: str) -> list[str]:
    route = next((r for r in plan.routes if r.volunteer_id == volunteer), None)
    return [] if route is None else [st.order_id for st in route.stops if st.kind == "delivery"]


def served_by_courier(plan: Plan) -> list[tuple[str, str]]:
    return [(r.volunteer_id, st.order_id) for r in plan.routes if r.volunteer_id
            for st in r.stops if st.kind == "delivery"]


def test_move_stop_makes_a_new_valid_version_with_the_order_first(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, ids = planned(db)
    v2 = volunteer_id(db, "V2")
    new_id = move_stop(db, plan_id, ids["R2"], v2, 0)
    plan = latest_plan(db, batch_id)
    assert plan.id == new_id and plan.version == 2 and english(plan.note).startswith("moved order #")
    assert deliveries(plan, v2)[0] == ids["R2"]
    assert sum(st.order_id == ids["R2"] for r in plan.routes for st in r.stops if st.kind == "delivery") == 1
    assert plan.validation["ok"], plan.validation
    with db.read() as s:
        assert s.get(Plan, plan_id).state == "superseded"  # type: ignore[union-attr]
    with pytest.raises(DomainError, match="latest"):
        move_stop(db, plan_id, ids["R2"], v2, 0)  # editing an old version is refused


def test_overloading_the_walker_is_stored_invalid_and_cannot_be_confirmed(db: Database,
                                                                          tiny_region: str) -> None:
    batch_id, _, ids = planned(db)
    v1 = volunteer_id(db, "V1")
    for code in ("R1", "R2", "R3", "R4", "R5"):
        plan = latest_plan(db, batch_id)
        if ids[code] in deliveries(plan, v1) or ids[code] in {u["order_id"] for u in plan.unserved}:
            continue
        move_stop(db, plan.id, ids[code], v1, 99)
    plan = latest_plan(db, batch_id)
    assert len(deliveries(plan, v1)) == 5
    assert plan.validation["ok"] is False
    assert any("over the limit 4" in v for v in plan.validation["violations"])  # V1 carries 4 parcels
    with pytest.raises(DomainError, match="invalid"):
        confirm_plan(db, plan.id, None, NOW, SETTINGS)
    with db.read() as s:
        assert s.scalars(select(Message).where(Message.template == "courier_route_link")).all() == []


def test_reorder_reverses_the_deliveries_and_retimes_them(db: Database, tiny_region: str) -> None:
    batch_id, _, ids = planned(db)
    v2 = volunteer_id(db, "V2")
    for code in ("R1", "R2", "R3"):
        if ids[code] not in deliveries(latest_plan(db, batch_id), v2):
            move_stop(db, latest_plan(db, batch_id).id, ids[code], v2, 99)
    before = deliveries(latest_plan(db, batch_id), v2)
    reorder(db, latest_plan(db, batch_id).id, v2, list(reversed(before)))
    plan = latest_plan(db, batch_id)
    assert deliveries(plan, v2) == list(reversed(before))
    route = next(r for r in plan.routes if r.volunteer_id == v2)
    etas = [st.eta for st in route.stops]
    assert etas == sorted(etas)  # type: ignore[type-var]
    with pytest.raises(DomainError, match="each order of the route once"):
        reorder(db, plan.id, v2, before[:1])


def test_drop_order_sends_it_back_to_the_queue(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, ids = planned(db)
    drop_order(db, plan_id, ids["R1"])
    plan = latest_plan(db, batch_id)
    assert ids["R1"] not in {st.order_id for r in plan.routes for st in r.stops}
    assert {"order_id": ids["R1"], "reason": "dropped",
            "detail": "dropped by the operator to the next batch"} in plan.unserved
    assert plan.validation["ok"], plan.validation
    assert states(db, [ids["R1"]]) == {ids["R1"]: "confirmed"}


def test_force_ground_takes_the_order_off_the_drone(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, ids = planned(db)
    flown = [st.order_id for r in latest_plan(db, batch_id).routes if r.drone_id for st in r.stops
             if st.kind == "delivery"]
    target = flown[0] if flown else ids["R4"]
    force_ground(db, plan_id, target, time_limit_s=2.0, solution_limit=20)
    plan = latest_plan(db, batch_id)
    assert plan.version == 2 and "force ground" in english(plan.note)
    assert target not in {st.order_id for r in plan.routes if r.drone_id for st in r.stops}
    with db.read() as s:
        assert s.get(Order, target).force_ground is True  # type: ignore[union-attr]
        assert s.get(Batch, batch_id).state == "solved"  # type: ignore[union-attr]


def test_a_re_plan_is_requested_once_and_left_to_the_solver(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, ids = planned(db)
    assert request_ground(db, plan_id, ids["R4"]) == batch_id
    with pytest.raises(DomainError, match="already being planned again"):
        request_ground(db, plan_id, ids["R5"])
    with db.read() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None and batch.state == "closed" and batch.reason == ""
        assert batch.replan_reason is not None
        assert english(batch.replan_reason).startswith("force ground order #")
        assert batch.display_reason == f"re-plan: {english(batch.replan_reason)}"


def test_confirm_queues_links_etas_and_no_pin_in_the_database(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    done = confirm_plan(db, plan_id, None, NOW, SETTINGS)
    plan = latest_plan(db, batch_id)
    assert plan.state == "confirmed" and plan.confirmed_at == NOW
    couriers = {v for v, _ in served_by_courier(plan)}
    served = [st.order_id for r in plan.routes for st in r.stops if st.kind == "delivery"]
    assert done.courier_messages == len(couriers) and done.resident_messages == len(served)
    with db.read() as s:
        messages = s.scalars(select(Message).where(Message.direction == "out",
                                                   Message.template != "order_received")).all()
        hashes = {o.id: o.pin_hash for o in s.scalars(select(Order).where(Order.id.in_(served)))}
    links = [m for m in messages if m.template == "courier_route_link"]
    etas = [m for m in messages if m.template == "order_planned"]
    assert {m.volunteer_id for m in links} == couriers
    assert sorted(m.order_id for m in etas) == sorted(served)  # type: ignore[type-var]
    for m in etas:
        assert set(m.params) == {"number", "window_start", "window_end", "pin_order_id"}
        start, end = (dt.datetime.fromisoformat(m.params[k]) for k in ("window_start", "window_end"))
        assert end - start == dt.timedelta(hours=1) and start.utcoffset() == dt.timedelta(hours=9)
    assert all(hashes.values())  # PIN-protected from confirmation on, stored hashed only
    assert states(db, served) == dict.fromkeys(served, "planned")
    secret = links[0].params["url"].removeprefix("https://hakobu.example/courier/login/")
    assert redeem_courier_link(db, secret, SETTINGS.key_for("courier_link"), now=NOW) == links[0].volunteer_id
    assert redeem_courier_link(db, secret, SETTINGS.key_for("courier_link"), now=NOW) is None  # single use
    pin = pin_for_notification(db, served[0])
    with db.read() as s:
        stored = s.get(Order, served[0]).pin_hash  # type: ignore[union-attr]
    assert len(pin) == 4 and pin.isdigit() and pin_matches(served[0], pin, stored or "")
    with pytest.raises(DomainError, match="confirmed"):
        confirm_plan(db, plan_id, None, NOW, SETTINGS)  # only once


def test_drone_sorties_list_flight_log_fields(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    plan = latest_plan(db, batch_id)
    sorties = drone_sorties(db, plan_id)
    assert len(sorties) == sum(1 for r in plan.routes if r.drone_id)
    for log in sorties:
        assert log.aircraft == "D1" and log.takeoff_place == log.landing_place
        assert log.takeoff_at is not None and log.landing_at is not None and log.takeoff_at < log.landing_at
        assert log.waypoints[0] == log.waypoints[-1] and len(log.waypoints) >= 3
        assert log.order_numbers


def test_a_plan_confirmed_after_its_first_eta_is_re_timed_from_now(db: Database, tiny_region: str) -> None:
    """Issue 13: confirming late must not text residents times that have passed."""
    from dispatch.services.plans import first_eta

    batch_id, plan_id, _ = planned(db)
    proposed = latest_plan(db, batch_id)
    first = first_eta(proposed)
    assert first is not None
    late = first + dt.timedelta(minutes=20)
    done = confirm_plan(db, plan_id, None, late, SETTINGS)
    confirmed = latest_plan(db, batch_id)
    assert done.retimed and confirmed.id == done.plan_id != proposed.id
    assert confirmed.state == "confirmed" and confirmed.validation["ok"]
    assert "re-timed from" in confirmed.note and "had passed" in confirmed.note
    new_first = first_eta(confirmed)
    assert new_first is not None and new_first >= late
    with db.read() as s:
        etas = s.scalars(select(Message).where(Message.template == "order_planned")).all()
    assert etas and all(dt.datetime.fromisoformat(m.params["window_end"]) > late for m in etas)


def test_a_late_plan_that_cannot_be_re_timed_is_refused_unless_confirmed_as_planned(
        db: Database, tiny_region: str) -> None:
    from dispatch.services.plans import PastEtas

    batch_id, plan_id, _ = planned(db)
    evening = NOW.replace(hour=19)  # Tokyo time: after every shift and the hub's closing
    with pytest.raises(PastEtas, match="re-plan the batch"):
        confirm_plan(db, plan_id, None, evening, SETTINGS)
    assert latest_plan(db, batch_id).state == "proposed"  # nothing confirmed, nobody texted
    done = confirm_plan(db, plan_id, None, evening, SETTINGS, as_planned=True)
    assert not done.retimed and latest_plan(db, batch_id).state == "confirmed"
