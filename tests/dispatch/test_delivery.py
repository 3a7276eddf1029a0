"""The courier's actions on real confirmed plans: custody, states, SMS, alerts, deduplication."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.models import (
    Batch,
    CourierAction,
    CourierPosition,
    HandoffEvent,
    Hub,
    Message,
    OperatorAlert,
    Order,
    Resident,
    Route,
)
from dispatch.phrases import english
from dispatch.planning import plan_batch
from dispatch.read import alerts as alerts_read
from dispatch.read import courier as courier_read
from dispatch.requests import ItemRequest
from dispatch.services import delivery
from dispatch.services.batching import close_batch
from dispatch.services.handoffs import record_handoff, verify_custody
from dispatch.services.ordering import place_order
from dispatch.services.plans import confirm_plan
from dispatch.services.users import upsert_user
from tests.dispatch.factories import CONFIRMED_AT, SETTINGS, Day, confirmed_day, pin_of
from tests.dispatch.test_planning import CUTOFF, FAST, hub_id, latest_plan, resident_id

pytestmark = pytest.mark.db

T = CONFIRMED_AT + dt.timedelta(minutes=10)  # 10:15 in Tokyo: the couriers set off


def aid() -> str:
    """A fresh action id, as the phone generates one."""
    return uuid.uuid4().hex


def read(db: Database, read_model: Callable[..., Any], *args: Any) -> Any:
    """A read model's answer in a read session of its own."""
    with db.read() as s:
        return read_model(s, *args)


def open_alerts(db: Database, hub_ids: set[str] | None = None) -> list[alerts_read.AlertRow]:
    return read(db, alerts_read.open_alerts, hub_ids)


def count(db: Database, model: Any, *where: Any) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def order(db: Database, order_id: str) -> Order:
    with db.read() as s:
        return s.get_one(Order, order_id)


def events(db: Database, order_id: str) -> list[HandoffEvent]:
    with db.read() as s:
        return list(s.scalars(select(HandoffEvent).where(HandoffEvent.order_id == order_id)
                              .order_by(HandoffEvent.seq)))


def outbound(db: Database, template: str, order_id: str | None = None) -> list[Message]:
    with db.read() as s:
        query = select(Message).where(Message.template == template)
        if order_id is not None:
            query = query.where(Message.order_id == order_id)
        return list(s.scalars(query))


def route_state(db: Database, route_id: str) -> str:
    with db.read() as s:
        return s.get_one(Route, route_id).state


@pytest.fixture
def day(db: Database, tiny_region: str) -> Day:
    return confirmed_day(db)


def picked_up(db: Database, day: Day) -> tuple[str, list[str]]:
    """The first courier with orders has picked up their whole route: (volunteer id, order ids)."""
    courier = day.courier_with_orders()
    outcome = delivery.pick_up(db, courier, aid(), T, route_id=day.routes[courier])
    assert outcome.detail["picked"] == sorted(day.deliveries[courier])
    return courier, day.deliveries[courier]


# --- pick up ------------------------------------------------------------------------------------


def test_pick_up_hands_each_parcel_to_the_courier_and_tells_the_resident(db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    route_id = day.routes[courier]
    outcome = delivery.pick_up(db, courier, aid(), T, route_id=route_id, lon=134.86, lat=35.5699)
    assert outcome.ok and not outcome.replayed
    assert outcome.detail == {"picked": sorted(day.deliveries[courier]), "already": [], "waiting": [],
                              "skipped": []}
    for order_id in day.deliveries[courier]:
        assert order(db, order_id).state == "in_transit"
        (event,) = events(db, order_id)
        assert (event.kind, event.from_party, event.to_party, event.actor, event.proof) == (
            "hub_to_courier", f"hub:{hub_id(db)}", f"volunteer:{courier}", f"volunteer:{courier}",
            "courier_scan")
        (sms,) = outbound(db, "out_for_delivery", order_id)
        start = dt.datetime.fromisoformat(sms.params["window_start"])
        assert sms.params["number"] == order(db, order_id).number
        assert start.utcoffset() == dt.timedelta(hours=9) and start.minute % 15 == 0
    assert route_state(db, route_id) == "active"
    assert verify_custody(db).ok


def test_a_repeated_pick_up_is_a_no_op_returning_the_first_outcome(db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    action = aid()
    first = delivery.pick_up(db, courier, action, T, route_id=day.routes[courier])
    before = (count(db, HandoffEvent), count(db, Message), count(db, CourierAction))
    again = delivery.pick_up(db, courier, action, T + dt.timedelta(minutes=3), route_id=day.routes[courier])
    assert again.replayed and again.detail == first.detail and again.status == first.status
    assert (count(db, HandoffEvent), count(db, Message), count(db, CourierAction)) == before
    fresh = delivery.pick_up(db, courier, aid(), T, route_id=day.routes[courier])  # a new tap
    assert fresh.detail["already"] == sorted(day.deliveries[courier]) and fresh.detail["picked"] == []
    assert count(db, HandoffEvent) == before[0]


def test_a_cancelled_order_is_not_picked_up(db: Database, day: Day) -> None:
    from dispatch.services.ordering import cancel_order

    courier = day.courier_with_orders()
    gone, *rest = day.deliveries[courier]
    assert cancel_order(db, gone, "changed my mind", SETTINGS, now=dt.datetime.now(dt.UTC),
                        resident_id=order(db, gone).resident_id)
    with pytest.raises(NotFound):  # off the revised plan: an old page still showing it gets 404
        delivery.pick_up(db, courier, aid(), T, order_ids=[gone])
    route_id = delivery.resolve_route(db, courier, day.routes[courier])  # the plan was revised
    if route_id is not None:
        outcome = delivery.pick_up(db, courier, aid(), T, route_id=route_id)
        assert outcome.detail["picked"] == sorted(rest)
    assert events(db, gone) == []


def shuttle_day(db: Database) -> tuple[str, str, str, str]:
    """R2's parcel waits at a supply point; the plan flies it to the hub on a drone shuttle and a
    courier takes it on. Returns (order id, courier id, drone id, supply point id)."""
    with db.write() as s:
        hub = s.scalars(select(Hub)).one()
        supply = Hub(region_id=hub.region_id, code="SP1", name="Post office", kind="supply",
                     drone_port=False, opens=dt.time(8), closes=dt.time(18), cutoffs=[],
                     lon=134.8645, lat=35.5738)
        s.add(supply)
        s.flush()
        supply_id = supply.id
    order_id = place_order(db, resident_id(db, "R2"), [ItemRequest("パン", 1)], channel="web",
                           now=CUTOFF - dt.timedelta(hours=1)).id
    with db.write() as s:
        s.get_one(Order, order_id).origin_hub_id = supply_id
    batch_id = close_batch(db, hub_id(db), CUTOFF, now=CUTOFF).batch_id
    confirm_plan(db, plan_batch(db, batch_id, **FAST), None, CONFIRMED_AT, SETTINGS)
    plan = latest_plan(db, batch_id)
    shuttle = next(r for r in plan.routes if any(st.kind == "transfer" for st in r.stops))
    courier = next(r for r in plan.routes
                   if r.volunteer_id and any(st.order_id == order_id for st in r.stops))
    assert shuttle.drone_id is not None and courier.volunteer_id is not None
    return order_id, courier.volunteer_id, shuttle.drone_id, supply_id


def test_a_shuttled_parcel_is_refused_until_its_drone_has_landed(db: Database, tiny_region: str) -> None:
    order_id, courier, drone, supply = shuttle_day(db)
    waiting = delivery.pick_up(db, courier, aid(), T, order_ids=[order_id])
    assert waiting.detail["waiting"] == [order_id] and order(db, order_id).state == "planned"
    record_handoff(db, order_id, "supply_to_drone", f"supply:{supply}", f"drone:{drone}", "user:staff",
                   "drone_log", T)
    in_flight = delivery.pick_up(db, courier, aid(), T, order_ids=[order_id])
    assert in_flight.detail["waiting"] == [order_id]
    record_handoff(db, order_id, "drone_to_hub", f"drone:{drone}", f"hub:{hub_id(db)}", "user:staff",
                   "drone_log", T + dt.timedelta(minutes=2))
    landed = delivery.pick_up(db, courier, aid(), T + dt.timedelta(minutes=3), order_ids=[order_id])
    assert landed.detail["picked"] == [order_id] and order(db, order_id).state == "in_transit"
    assert [e.kind for e in events(db, order_id)] == ["supply_to_drone", "drone_to_hub", "hub_to_courier"]


# --- deliver ------------------------------------------------------------------------------------


def test_the_right_pin_delivers_records_custody_and_sends_the_receipt(db: Database, day: Day) -> None:
    courier, orders = picked_up(db, day)
    for order_id in orders:
        outcome = delivery.deliver(db, courier, order_id, pin_of(db, order_id), aid(),
                                   T + dt.timedelta(minutes=20), lon=134.868, lat=35.5701)
        assert outcome.ok and outcome.detail["event_id"]
        assert order(db, order_id).state == "delivered"
        last = events(db, order_id)[-1]
        assert (last.kind, last.proof, last.to_party) == (
            "courier_to_resident", "resident_pin", f"resident:{order(db, order_id).resident_id}")
        (receipt,) = outbound(db, "delivered", order_id)
        assert receipt.params["time"] == "10:35"  # local time in Tokyo
    assert route_state(db, day.routes[courier]) == "done"
    assert verify_custody(db).ok


def test_a_wrong_pin_counts_once_even_when_the_action_is_replayed(db: Database, day: Day) -> None:
    courier, (order_id, *_) = picked_up(db, day)
    pin = pin_of(db, order_id)
    wrong = f"{(int(pin) + 1) % 10_000:04d}"
    action = aid()
    first = delivery.deliver(db, courier, order_id, wrong, action, T)
    assert first.status == "wrong_pin" and first.detail["tries_left"] == 4
    again = delivery.deliver(db, courier, order_id, wrong, action, T)
    assert again.replayed and again.detail == first.detail
    assert order(db, order_id).pin_attempts == 1
    assert delivery.deliver(db, courier, order_id, pin, aid(), T).ok


def test_five_wrong_pins_lock_it_and_alert_the_operator_once(db: Database, day: Day) -> None:
    courier, (order_id, *_) = picked_up(db, day)
    pin = pin_of(db, order_id)
    wrong = f"{(int(pin) + 1) % 10_000:04d}"
    statuses = [delivery.deliver(db, courier, order_id, wrong, aid(), T).status for _ in range(5)]
    assert statuses == ["wrong_pin"] * 4 + ["locked"]
    assert delivery.deliver(db, courier, order_id, pin, aid(), T).status == "locked"
    alerts = open_alerts(db)
    assert [(a.kind, a.order_id) for a in alerts] == [("pin_locked", order_id)]
    assert order(db, order_id).state == "in_transit"


def test_a_pin_that_is_not_four_digits_is_refused_and_records_nothing(db: Database, day: Day) -> None:
    courier, (order_id, *_) = picked_up(db, day)
    action = aid()
    with pytest.raises(DomainError, match="exactly 4 digits"):
        delivery.deliver(db, courier, order_id, "12a", action, T)
    assert order(db, order_id).pin_attempts == 0
    assert count(db, CourierAction, CourierAction.action_id == action) == 0


def test_delivering_a_parcel_not_picked_up_is_refused(db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    order_id = day.deliveries[courier][0]
    with pytest.raises(DomainError, match="do not hold"):
        delivery.deliver(db, courier, order_id, pin_of(db, order_id), aid(), T)
    assert order(db, order_id).state == "planned"


def test_a_neighbour_or_hall_takes_the_parcel_only_with_consent(db: Database, day: Day) -> None:
    courier, (order_id, *_) = picked_up(db, day)
    resident = order(db, order_id).resident_id
    with pytest.raises(DomainError, match="not agreed"):
        delivery.hand_over(db, courier, order_id, "neighbour", aid(), T)
    with db.write() as s:
        s.get_one(Resident, resident).handover_consent = "neighbour"
    with pytest.raises(DomainError, match="not agreed to delivery to a hall"):
        delivery.hand_over(db, courier, order_id, "hall", aid(), T)
    with pytest.raises(DomainError, match="expected one of neighbour, hall"):
        delivery.hand_over(db, courier, order_id, "mailbox", aid(), T)
    outcome = delivery.hand_over(db, courier, order_id, "neighbour", aid(), T, note="next door, blue roof")
    assert outcome.ok and order(db, order_id).state == "delivered"
    last = events(db, order_id)[-1]
    assert (last.kind, last.to_party, last.proof, last.note) == (
        "courier_to_neighbour", f"neighbour:{resident}", "resident_consent", "next door, blue roof")
    assert len(outbound(db, "delivered", order_id)) == 1


# --- could not deliver, return ------------------------------------------------------------------


def test_fail_then_return_offers_the_order_to_the_next_batch(db: Database, day: Day) -> None:
    courier, orders = picked_up(db, day)
    order_id = orders[0]
    with pytest.raises(DomainError, match="nobody_home, refused, address_not_found, other"):
        delivery.fail(db, courier, order_id, "raining", aid(), T)
    failed = delivery.fail(db, courier, order_id, "nobody_home", aid(), T, note="car gone, mail piling up")
    assert failed.ok and order(db, order_id).state == "failed"
    assert order(db, order_id).note == "delivery failed: nobody_home"
    assert len(outbound(db, "delivery_failed", order_id)) == 1
    (alert,) = open_alerts(db)
    assert (alert.kind, english(alert.text)) == ("delivery_failed", "nobody_home: car gone, mail piling up")
    with pytest.raises(DomainError, match="not in transit"):
        delivery.deliver(db, courier, order_id, "1234", aid(), T)
    back = delivery.return_to_hub(db, courier, order_id, aid(), T + dt.timedelta(hours=1))
    assert back.ok and order(db, order_id).state == "confirmed"
    last = events(db, order_id)[-1]
    assert (last.kind, last.from_party, last.to_party) == ("returned", f"volunteer:{courier}",
                                                          f"hub:{hub_id(db)}")
    with pytest.raises(DomainError, match="do not hold"):
        delivery.return_to_hub(db, courier, order_id, aid(), T)  # it is at the hub now
    afternoon = CUTOFF.replace(hour=14)
    claimed = close_batch(db, hub_id(db), afternoon, now=afternoon)
    assert order_id in claimed.order_ids
    with db.read() as s:
        assert s.get_one(Batch, claimed.batch_id).hub_id == hub_id(db)
    for other in orders[1:]:
        delivery.deliver(db, courier, other, pin_of(db, other), aid(), T)
    assert route_state(db, day.routes[courier]) == "done"
    assert verify_custody(db).ok


# --- welfare notes, positions -------------------------------------------------------------------


def test_a_welfare_note_reaches_the_operator_at_once(db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    order_id = day.deliveries[courier][0]
    resident = order(db, order_id).resident_id
    with pytest.raises(DomainError, match="empty"):
        delivery.welfare_note(db, courier, "   ", aid(), T, order_id=order_id)
    delivery.welfare_note(db, courier, "体調が悪そうでした", aid(), T, order_id=order_id)
    delivery.welfare_note(db, courier, "seemed confused", aid(), T, resident_id=resident)
    alerts = open_alerts(db, {hub_id(db)})
    assert sorted(a.text for a in alerts) == ["seemed confused", "体調が悪そうでした"]
    assert {(a.kind, a.resident_id, a.hub_id) for a in alerts} == {("welfare", resident, hub_id(db))}
    assert open_alerts(db, {"another-hub"}) == []
    operator = upsert_user(db, "op@example.jp", "Op", "operator", "a long passphrase", ("H1",))
    delivery.acknowledge_alert(db, alerts[0].id, operator, now=T)
    assert [a.id for a in open_alerts(db)] == [alerts[1].id]
    with pytest.raises(NotFound):
        delivery.acknowledge_alert(db, alerts[1].id, operator, now=T, hub_ids={"another-hub"})


def test_position_is_stored_only_while_a_route_is_active(db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    with pytest.raises(DomainError, match="no active route"):
        delivery.share_position(db, courier, 134.86, 35.57, 12.0, T)
    courier, orders = picked_up(db, day)
    with pytest.raises(DomainError, match="not a WGS84"):
        delivery.share_position(db, courier, 200.0, 35.57, 12.0, T)
    with pytest.raises(DomainError, match="not a distance"):
        delivery.share_position(db, courier, 134.86, 35.57, -1.0, T)
    delivery.share_position(db, courier, 134.861, 35.571, 8.5, T)
    with db.read() as s:
        (position,) = s.scalars(select(CourierPosition)).all()
    assert (position.route_id, position.lon, position.accuracy_m) == (day.routes[courier], 134.861, 8.5)
    for order_id in orders:
        delivery.deliver(db, courier, order_id, pin_of(db, order_id), aid(), T)
    with pytest.raises(DomainError, match="no active route"):
        delivery.share_position(db, courier, 134.86, 35.57, 5.0, T)


# --- authorisation and action ids ---------------------------------------------------------------


ACTIONS: dict[str, Callable[[Database, str, str], object]] = {
    "pick_up": lambda db, v, o: delivery.pick_up(db, v, aid(), T, order_ids=[o]),
    "deliver": lambda db, v, o: delivery.deliver(db, v, o, "1234", aid(), T),
    "hand_over": lambda db, v, o: delivery.hand_over(db, v, o, "hall", aid(), T),
    "fail": lambda db, v, o: delivery.fail(db, v, o, "refused", aid(), T),
    "return": lambda db, v, o: delivery.return_to_hub(db, v, o, aid(), T),
    "welfare": lambda db, v, o: delivery.welfare_note(db, v, "unwell", aid(), T, order_id=o),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_another_couriers_order_is_not_found_and_nothing_is_recorded(db: Database, day: Day,
                                                                    action: str) -> None:
    courier, orders = picked_up(db, day)
    intruder = day.other_courier(courier)
    before = (count(db, HandoffEvent), count(db, CourierAction), count(db, OperatorAlert))
    with pytest.raises(NotFound):
        ACTIONS[action](db, intruder, orders[0])
    with pytest.raises(NotFound):
        ACTIONS[action](db, courier, "no-such-order")
    assert (count(db, HandoffEvent), count(db, CourierAction), count(db, OperatorAlert)) == before
    assert order(db, orders[0]).state == "in_transit"


def test_another_couriers_route_is_not_found(db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    intruder = day.other_courier(courier)
    with pytest.raises(NotFound):
        delivery.pick_up(db, intruder, aid(), T, route_id=day.routes[courier])
    with pytest.raises(NotFound):
        read(db, courier_read.route_view, intruder, day.routes[courier])
    with pytest.raises(NotFound):
        read(db, courier_read.route_line, intruder, day.routes[courier])
    view = read(db, courier_read.route_view, courier, day.routes[courier])
    assert [s.order_id for s in view.stops if s.kind == "delivery"] == day.deliveries[courier]
    assert {r.id for r in read(db, courier_read.courier_routes, courier)} == {day.routes[courier]}


def test_action_ids_are_checked_and_never_reused_for_another_action(db: Database, day: Day) -> None:
    courier, (order_id, *_) = picked_up(db, day)
    with pytest.raises(DomainError, match="8 to 64"):
        delivery.fail(db, courier, order_id, "refused", "short", T)
    action = aid()
    delivery.welfare_note(db, courier, "ok", action, T, order_id=order_id)
    with pytest.raises(DomainError, match="already used for another action"):
        delivery.fail(db, courier, order_id, "refused", action, T)
    with pytest.raises(DomainError, match="already used for another action"):
        delivery.welfare_note(db, day.other_courier(courier), "ok", action, T, order_id=order_id)
    assert order(db, order_id).state == "in_transit"


# --- concurrency --------------------------------------------------------------------------------


def run_together(n: int, call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` in ``n`` threads released at the same instant; results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as error:  # reported by the assertions
            results[i] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_simultaneous_copies_of_a_delivery_are_recorded_once(db: Database, day: Day) -> None:
    courier, (order_id, *_) = picked_up(db, day)
    pin = pin_of(db, order_id)
    action = aid()
    results = run_together(6, lambda: delivery.deliver(db, courier, order_id, pin, action, T))
    assert all(isinstance(r, delivery.Outcome) and r.ok for r in results), results
    assert sum(not r.replayed for r in results) == 1
    assert len({r.detail["event_id"] for r in results}) == 1
    assert count(db, HandoffEvent, HandoffEvent.order_id == order_id,
                 HandoffEvent.kind == "courier_to_resident") == 1
    assert len(outbound(db, "delivered", order_id)) == 1
    assert count(db, CourierAction, CourierAction.action_id == action) == 1


def test_simultaneous_copies_of_a_pick_up_hand_over_once(db: Database, day: Day) -> None:
    courier = day.courier_with_orders()
    action = aid()
    results = run_together(6, lambda: delivery.pick_up(db, courier, action, T, route_id=day.routes[courier]))
    assert all(isinstance(r, delivery.Outcome) and r.ok for r in results), results
    assert all(r.detail["picked"] == sorted(day.deliveries[courier]) for r in results)
    assert count(db, HandoffEvent, HandoffEvent.kind == "hub_to_courier") == len(day.deliveries[courier])
    assert verify_custody(db).ok
