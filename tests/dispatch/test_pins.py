"""Delivery PIN: only its hash is stored, the right one delivers, five wrong ones lock it."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import String, select, text

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Base, HandoffEvent, Order
from dispatch.services.handoffs import verify_custody
from dispatch.services.pins import (
    MAX_ATTEMPTS,
    PinResult,
    PinStatus,
    check_pin,
    issue_pin,
    normalise_pin,
    orders_with_locked_pin,
)
from tests.dispatch.factories import resident_order

pytestmark = pytest.mark.db

COURIER = "volunteer:v1"


def give_pin(db: Database, order_id: str) -> str:
    with db.write() as s:
        return issue_pin(s, s.get_one(Order, order_id))


def enter_pin(db: Database, order_id: str, pin: str, actor: str, *, at: dt.datetime | None = None,
              **where: float) -> PinResult:
    """The courier types ``pin`` in: :func:`check_pin` in a write transaction of its own."""
    with db.write() as s:
        return check_pin(s, order_id, pin, actor, at=at or dt.datetime.now(dt.UTC), **where)  # type: ignore[arg-type]


def wrong(pin: str) -> str:
    """A different 4-digit PIN."""
    return f"{(int(pin) + 1) % 10_000:04d}"


def load(db: Database, order_id: str) -> Order:
    with db.read() as s:
        return s.get_one(Order, order_id)


@pytest.fixture
def order(db: Database) -> tuple[str, str]:
    """An order in transit and its freshly issued PIN."""
    order_id = resident_order(db, 1).id
    return order_id, give_pin(db, order_id)


def test_issued_pin_is_four_digits_and_only_its_hash_is_stored(db: Database, order: tuple[str, str]) -> None:
    order_id, pin = order
    assert re.fullmatch(r"\d{4}", pin)
    stored = load(db, order_id).pin_hash
    assert stored is not None and stored.startswith("scrypt$")


def test_the_pin_never_appears_in_the_database(db: Database, order: tuple[str, str]) -> None:
    """Every text column of every table is read raw; the PIN is in none of them as a number."""
    _, pin = order
    whole_number = re.compile(rf"(?<!\d){pin}(?!\d)")
    seen = 0
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns if isinstance(c.type, String)]
            if not columns:
                continue
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in conn.execute(text(f'SELECT {quoted} FROM "{table.name}"')):
                for value in row:
                    seen += 1
                    assert value is None or not whole_number.search(str(value)), (table.name, value)
    assert seen > 10  # the scan did read the order, resident, hub and region rows


def test_the_right_pin_delivers_and_records_the_handoff(db: Database, order: tuple[str, str]) -> None:
    order_id, pin = order
    result = enter_pin(db, order_id, pin, COURIER, lon=134.81, lat=35.51)
    assert result.ok and result.event_id is not None and not result.alert_operator
    delivered = load(db, order_id)
    assert delivered.state == "delivered"
    with db.read() as s:
        event = s.scalars(select(HandoffEvent).where(HandoffEvent.id == result.event_id)).one()
    assert (event.kind, event.proof, event.from_party) == ("courier_to_resident", "resident_pin", COURIER)
    assert event.to_party == f"resident:{delivered.resident_id}"
    assert verify_custody(db).ok


def test_full_width_digits_are_accepted(db: Database, order: tuple[str, str]) -> None:
    order_id, pin = order
    full_width = pin.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert enter_pin(db, order_id, full_width, COURIER).ok


def test_wrong_pins_count_down_and_the_fifth_locks_and_alerts(db: Database, order: tuple[str, str]) -> None:
    order_id, pin = order
    results = [enter_pin(db, order_id, wrong(pin), COURIER) for _ in range(MAX_ATTEMPTS)]
    assert [r.status for r in results[:-1]] == [PinStatus.WRONG] * (MAX_ATTEMPTS - 1)
    assert [r.tries_left for r in results] == [4, 3, 2, 1, 0]
    assert [r.alert_operator for r in results] == [False] * 4 + [True]
    assert results[-1].status is PinStatus.LOCKED
    locked = load(db, order_id)
    assert (locked.pin_attempts, locked.pin_locked, locked.state) == (5, True, "in_transit")
    assert [o.id for o in orders_with_locked_pin(db)] == [order_id]


def test_a_locked_pin_refuses_even_the_right_one(db: Database, order: tuple[str, str]) -> None:
    order_id, pin = order
    for _ in range(MAX_ATTEMPTS):
        enter_pin(db, order_id, wrong(pin), COURIER)
    again = enter_pin(db, order_id, pin, COURIER)
    assert again.status is PinStatus.LOCKED and not again.alert_operator  # alerted once, not again
    assert load(db, order_id).state == "in_transit"
    with db.read() as s:
        assert s.scalars(select(HandoffEvent)).all() == []


def test_reissuing_unlocks_with_a_new_pin(db: Database, order: tuple[str, str]) -> None:
    order_id, pin = order
    for _ in range(MAX_ATTEMPTS):
        enter_pin(db, order_id, wrong(pin), COURIER)
    assert load(db, order_id).pin_locked
    new_pin = give_pin(db, order_id)
    assert (load(db, order_id).pin_attempts, load(db, order_id).pin_locked) == (0, False)
    assert enter_pin(db, order_id, new_pin, COURIER).ok


def test_a_pin_works_only_for_its_own_order(db: Database, order: tuple[str, str]) -> None:
    order_id, pin = order
    other_id = resident_order(db, 2).id
    other_pin = give_pin(db, other_id)
    while other_pin == pin:  # 1 in 10,000: the two orders drew the same PIN
        other_pin = give_pin(db, other_id)
    result = enter_pin(db, other_id, pin, COURIER)
    assert result.status is PinStatus.WRONG and result.tries_left == 4
    assert load(db, other_id).state == "in_transit"
    assert load(db, order_id).pin_attempts == 0  # the order the PIN belongs to is untouched


def test_a_hash_copied_onto_another_order_does_not_validate(db: Database, order: tuple[str, str]) -> None:
    """The order id is inside the hashed input, so even the same stored hash is order-specific."""
    order_id, pin = order
    other_id = resident_order(db, 2).id
    with db.engine.begin() as conn:
        copy = 'UPDATE "order" SET pin_hash = (SELECT pin_hash FROM "order" WHERE id = :a) WHERE id = :b'
        conn.execute(text(copy), {"a": order_id, "b": other_id})
    assert enter_pin(db, other_id, pin, COURIER).status is PinStatus.WRONG


def test_concurrent_guesses_cannot_exceed_the_limit(db: Database, order: tuple[str, str]) -> None:
    """Eight guessers at once: exactly five tries count, one of them locks and alerts."""
    order_id, pin = order
    start = threading.Barrier(8)
    statuses: list[tuple[PinStatus, bool]] = []

    def guess() -> None:
        start.wait()
        result = enter_pin(db, order_id, wrong(pin), COURIER)
        statuses.append((result.status, result.alert_operator))

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count((PinStatus.WRONG, False)) == 4
    assert statuses.count((PinStatus.LOCKED, True)) == 1
    assert statuses.count((PinStatus.LOCKED, False)) == 3
    assert load(db, order_id).pin_attempts == MAX_ATTEMPTS


def test_malformed_input_is_refused_without_counting(db: Database, order: tuple[str, str]) -> None:
    order_id, _ = order
    for typo in ("123", "12345", "12a4", ""):
        with pytest.raises(DomainError, match="exactly 4 digits"):
            enter_pin(db, order_id, typo, COURIER)
    with pytest.raises(DomainError, match="entered by the courier"):
        enter_pin(db, order_id, "1234", "user:operator")
    assert load(db, order_id).pin_attempts == 0
    assert normalise_pin(" １２３４ ") == "1234"


def test_a_pin_is_only_taken_for_an_order_in_transit(db: Database) -> None:
    order_id = resident_order(db, 3, state="planned").id
    pin = give_pin(db, order_id)
    with pytest.raises(DomainError, match="order #3 is planned, not in transit"):
        enter_pin(db, order_id, pin, COURIER)
    assert load(db, order_id).state == "planned"
