"""Closing batches: the cutoff boundary, idempotence, atomic claims under concurrency, catch-up rule."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Batch, Hub, Order, Region, Resident
from dispatch.services.batching import (
    EMPTY_REASON,
    close_batch,
    close_due_batches,
    close_early_if_full,
    cutoff_instants,
    due_cutoffs,
)

TOKYO = ZoneInfo("Asia/Tokyo")


def jst(hour: int, minute: int = 0, second: int = 0, micro: int = 0, day: int = 2) -> dt.datetime:
    """An instant on 2026-03-<day> in Japan (the sample region's timezone)."""
    return dt.datetime(2026, 3, day, hour, minute, second, micro, tzinfo=TOKYO)


def make_hub(db: Database, code: str = "kannabe", cutoffs: Sequence[str] = ("09:00", "13:00"),
             opens: dt.time = dt.time(8), closes: dt.time = dt.time(18)) -> str:
    """A hub (with its region and one resident) in Asia/Tokyo; returns the hub id."""
    with db.write() as s:
        region = s.scalars(select(Region).where(Region.code == "test")).one_or_none()
        if region is None:
            region = Region(code="test", name="Test", crs="EPSG:6673", timezone="Asia/Tokyo", locale="ja_JP")
            s.add(region)
            s.flush()
        hub = Hub(region_id=region.id, code=code, name=code.title(), kind="hub", opens=opens, closes=closes,
                  cutoffs=list(cutoffs), lon=134.77, lat=35.47)
        s.add(hub)
        s.flush()
        s.add(Resident(region_id=region.id, hub_id=hub.id, code=f"{code}-r1", name="Tanaka",
                       phone="+819012345678", lon=134.78, lat=35.48))
        return hub.id


def make_order(db: Database, hub_id: str, created_at: dt.datetime, state: str = "confirmed") -> str:
    """An order of the hub's resident created at ``created_at``; returns its id."""
    with db.write() as s:
        hub = s.get(Hub, hub_id)
        assert hub is not None
        resident = s.scalars(select(Resident).where(Resident.hub_id == hub_id)).first()
        assert resident is not None
        number = (s.scalar(select(func.max(Order.number)).where(Order.region_id == hub.region_id)) or 0) + 1
        order = Order(region_id=hub.region_id, number=number, hub_id=hub_id, resident_id=resident.id,
                      state=state, channel="sms", created_at=created_at, updated_at=created_at)
        s.add(order)
        s.flush()
        return order.id


def batch_of(db: Database, order_id: str) -> tuple[str | None, str]:
    """(batch id, state) of an order."""
    with db.read() as s:
        order = s.get(Order, order_id)
        assert order is not None
        return order.batch_id, order.state


def batches(db: Database, hub_id: str) -> list[Batch]:
    with db.read() as s:
        return list(s.scalars(select(Batch).where(Batch.hub_id == hub_id).order_by(Batch.cutoff_at)))


pytestmark = pytest.mark.db


def test_an_order_created_exactly_at_the_cutoff_is_in_that_batch_and_a_microsecond_later_in_the_next(
        db: Database) -> None:
    hub = make_hub(db)
    exactly = make_order(db, hub, jst(9))
    just_after = make_order(db, hub, jst(9, micro=1))
    first = close_batch(db, hub, jst(9), now=jst(9, 0, 1))
    second = close_batch(db, hub, jst(13), now=jst(13, 0, 1))
    assert first.order_ids == (exactly,)
    assert second.order_ids == (just_after,)
    assert batch_of(db, exactly) == (first.batch_id, "batched")
    assert batch_of(db, just_after) == (second.batch_id, "batched")


def test_closing_the_same_cutoff_again_returns_the_batch_and_claims_nothing(db: Database) -> None:
    hub = make_hub(db)
    early = make_order(db, hub, jst(8, 30))
    first = close_batch(db, hub, jst(9), now=jst(9, 1))
    late_but_before = make_order(db, hub, jst(8, 45))  # committed after the close: next batch's
    again = close_batch(db, hub, jst(9), now=jst(9, 2))
    assert (first.created, again.created) == (True, False)
    assert again.batch_id == first.batch_id
    assert again.order_ids == ()
    assert batch_of(db, early) == (first.batch_id, "batched")
    assert batch_of(db, late_but_before) == (None, "confirmed")
    nxt = close_batch(db, hub, jst(13), now=jst(13))
    assert nxt.order_ids == (late_but_before,)


def test_received_orders_wait_until_confirmed_and_join_the_next_batch(db: Database) -> None:
    hub = make_hub(db)
    pending = make_order(db, hub, jst(8), state="received")
    cancelled = make_order(db, hub, jst(8), state="cancelled")
    assert close_batch(db, hub, jst(9), now=jst(9)).order_ids == ()
    with db.write() as s:
        order = s.get(Order, pending)
        assert order is not None
        order.state = "confirmed"
    assert close_batch(db, hub, jst(13), now=jst(13)).order_ids == (pending,)
    assert batch_of(db, cancelled) == (None, "cancelled")


def test_an_empty_batch_is_recorded_and_solved_at_once(db: Database) -> None:
    hub = make_hub(db)
    result = close_batch(db, hub, jst(9), now=jst(9))
    assert result.state == "solved"
    [batch] = batches(db, hub)
    assert (batch.state, batch.reason, batch.solve_seconds) == ("solved", EMPTY_REASON, 0.0)


def test_a_batch_cannot_close_before_its_cutoff(db: Database) -> None:
    hub = make_hub(db)
    with pytest.raises(DomainError, match="after now"):
        close_batch(db, hub, jst(13), now=jst(12, 59))
    assert batches(db, hub) == []


def test_close_early_takes_the_waiting_orders_only_when_the_hub_is_full(db: Database) -> None:
    hub = make_hub(db)
    ids = {make_order(db, hub, jst(9, minute)) for minute in (5, 10)}
    assert close_early_if_full(db, hub, threshold=3, now=jst(9, 20)) is None
    ids.add(make_order(db, hub, jst(9, 15)))
    early = close_early_if_full(db, hub, threshold=3, now=jst(9, 20))
    assert early is not None
    assert (early.cutoff_at, set(early.order_ids)) == (jst(9, 20), ids)
    assert close_early_if_full(db, hub, threshold=3, now=jst(9, 21)) is None


def test_concurrent_closings_of_one_cutoff_make_one_batch(db: Database) -> None:
    hub = make_hub(db)
    orders = {make_order(db, hub, jst(8, minute)) for minute in range(10)}
    results = []
    barrier = threading.Barrier(6)

    def close() -> None:
        barrier.wait()
        results.append(close_batch(db, hub, jst(9), now=jst(9, 0, 5)))

    threads = [threading.Thread(target=close) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    assert len({r.batch_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert [set(r.order_ids) for r in results if r.created] == [orders]
    assert len(batches(db, hub)) == 1


def test_orders_arriving_at_the_cutoff_while_batches_close_land_in_exactly_one_batch(db: Database) -> None:
    """Writers insert orders stamped exactly at 09:00 while a 09:00 close, an early close and the
    13:00 close race; afterwards every order is in exactly one batch, none is left behind."""
    hub = make_hub(db)
    created: list[str] = []
    results = []
    start = threading.Barrier(4)

    def write_orders() -> None:
        start.wait()
        created.extend(make_order(db, hub, jst(9)) for _ in range(15))

    def close(cutoff: dt.datetime) -> None:
        start.wait()
        results.append(close_batch(db, hub, cutoff, now=jst(13, 0, 1)))

    threads = [threading.Thread(target=write_orders),
               *(threading.Thread(target=close, args=(jst(hour),)) for hour in (9, 10, 11))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.append(close_batch(db, hub, jst(13), now=jst(13, 0, 1)))  # sweeps up the stragglers
    claimed = [order_id for r in results for order_id in r.order_ids]
    assert sorted(claimed) == sorted(created)  # each exactly once: no duplicates, none missing
    for order_id in created:
        batch_id, state = batch_of(db, order_id)
        assert state == "batched"
        assert [r.batch_id for r in results if order_id in r.order_ids] == [batch_id]


def test_cutoff_instants_are_local_times_returned_in_utc() -> None:
    found = cutoff_instants(["13:00", "09:00"], TOKYO, jst(9), jst(9, day=3))
    assert found == [jst(13).astimezone(dt.UTC), jst(9, day=3).astimezone(dt.UTC)]
    assert found[0].tzinfo == dt.UTC
    assert found[0].hour == 4  # 13:00 JST is 04:00 UTC


def test_cutoff_instants_keep_the_wall_clock_time_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # summer time starts 2026-03-29
    found = cutoff_instants(["09:00"], berlin, dt.datetime(2026, 3, 28, tzinfo=berlin),
                            dt.datetime(2026, 3, 30, 23, tzinfo=berlin))
    assert [i.astimezone(berlin).hour for i in found] == [9, 9, 9]
    assert [i.hour for i in found] == [8, 7, 7]


def test_cutoff_instants_name_a_malformed_cutoff() -> None:
    with pytest.raises(ValueError, match="'9h'"):
        cutoff_instants(["9h"], TOKYO, jst(0), jst(23))


def test_a_new_hub_catches_up_only_its_most_recent_cutoff(db: Database) -> None:
    hub = make_hub(db)
    assert due_cutoffs(db, hub, jst(14)) == [jst(13)]


def test_catch_up_closes_every_missed_cutoff_in_order_within_24_hours(db: Database) -> None:
    hub = make_hub(db, cutoffs=("09:00", "13:00", "17:00"))
    close_batch(db, hub, jst(9, day=1), now=jst(9, day=1))  # last seen: yesterday 09:00
    assert due_cutoffs(db, hub, jst(14)) == [jst(17, day=1), jst(9), jst(13)]  # 13:00 yesterday: > 24 h
    old = make_order(db, hub, jst(7, day=1))
    mid = make_order(db, hub, jst(10))
    results = close_due_batches(db, hub, now=jst(14))
    assert [r.cutoff_at for r in results] == [jst(17, day=1), jst(9), jst(13)]
    assert [r.order_ids for r in results] == [(old,), (), (mid,)]
    assert close_due_batches(db, hub, now=jst(14)) == []
