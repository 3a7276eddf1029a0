"""Chain of custody: events chain by hash, tampering is found and located, appends never fork."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from dispatch.audit_cli import audit
from dispatch.custody import (
    GENESIS,
    Anchor,
    InvalidHandoff,
    anchor_from_json,
    canonical_content,
    event_hash,
    verify_chain,
)
from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.models import HandoffEvent, Order, utcnow
from dispatch.services.handoffs import append_event, chain_of, record_handoff, take_anchor, verify_custody
from tests.concurrency import at_once
from tests.dispatch.factories import resident_order

pytestmark = pytest.mark.db

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))  # 09:00 in Tokyo


def journey(db: Database, order: Order) -> list[str]:
    """Supply point → drone → hub → courier → resident: four events for one parcel."""
    steps = [
        ("supply_to_drone", "supply:sp1", "drone:d1", "courier_scan"),
        ("drone_to_hub", "drone:d1", f"hub:{order.hub_id}", "drone_log"),
        ("hub_to_courier", f"hub:{order.hub_id}", "volunteer:v1", "courier_scan"),
        ("courier_to_resident", "volunteer:v1", f"resident:{order.resident_id}", "operator_confirm"),
    ]
    return [
        record_handoff(db, order.id, kind, src, dst, "user:op1", proof, T0 + dt.timedelta(minutes=20 * i),
                       lon=134.81, lat=35.51, note="left at the door")
        for i, (kind, src, dst, proof) in enumerate(steps)
    ]


@pytest.fixture
def chain(db: Database) -> Database:
    """A database holding two orders' journeys: a chain of eight events."""
    for number in (1, 2):
        journey(db, resident_order(db, number))
    return db


def sql(db: Database, statement: str, **params: object) -> None:
    """Tamper with the table directly, as someone with database access could."""
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


# --- pure: content and hash ---------------------------------------------------------------------


def test_hashed_content_is_canonical_and_leaves_out_place_and_note() -> None:
    fields = (3, "e", "o", "hub_to_courier", "hub:h", "volunteer:v", "user:u", "courier_scan")
    tokyo = canonical_content(*fields, T0)
    utc = canonical_content(*fields, T0.astimezone(dt.UTC))
    assert tokyo == utc  # the same instant hashes the same whatever its zone
    assert json.loads(tokyo)["at"] == "2026-12-01T00:00:00.000000Z"
    hashed = {"v", "seq", "id", "order_id", "kind", "from", "to", "actor", "proof", "at"}
    assert set(json.loads(tokyo)) == hashed


def test_handoffs_that_do_not_fit_their_kind_are_refused(db: Database) -> None:
    order = resident_order(db)
    with pytest.raises(InvalidHandoff, match="to_party 'volunteer:v1': type must be one of resident"):
        record_handoff(db, order.id, "courier_to_resident", "volunteer:v1", "volunteer:v1", "user:u",
                       "resident_pin", T0)
    with pytest.raises(InvalidHandoff, match="is not a 'type:id' reference"):
        record_handoff(db, order.id, "hub_to_courier", "hub:h", "volunteer:Taro Yamada", "user:u",
                       "courier_scan", T0)
    with pytest.raises(InvalidHandoff, match="unknown handoff kind 'teleported'"):
        record_handoff(db, order.id, "teleported", "hub:h", "volunteer:v", "user:u", "courier_scan", T0)
    with pytest.raises(NotFound):
        record_handoff(db, "no-such-order", "hub_to_courier", "hub:h", "volunteer:v", "user:u",
                       "courier_scan", T0)
    assert verify_custody(db).checked == 0


# --- the stored chain ---------------------------------------------------------------------------


def test_events_link_into_one_chain_and_verify(chain: Database) -> None:
    result = verify_custody(chain)
    assert result.ok and result.checked == 8 and result.head_seq == 8
    with chain.read() as s:
        events = list(s.scalars(select(HandoffEvent).order_by(HandoffEvent.seq)))
    assert [e.seq for e in events] == list(range(1, 9))
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert all(event_hash(e) == e.hash for e in events)


def test_chain_of_an_order_lists_its_custody_in_order(chain: Database) -> None:
    with chain.read() as s:
        second = s.scalars(select(Order).where(Order.number == 2)).one()
    events = chain_of(chain, second.id)
    kinds = ["supply_to_drone", "drone_to_hub", "hub_to_courier", "courier_to_resident"]
    assert [e.kind for e in events] == kinds
    assert [e.seq for e in events] == [5, 6, 7, 8]
    assert events[3].occurred_at == T0 + dt.timedelta(minutes=60)
    assert events[3].occurred_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(("tampering", "broken", "reason"), [
    ("UPDATE handoff_event SET to_party = 'volunteer:v9' WHERE seq = 3", 3, "edited"),
    ("DELETE FROM handoff_event WHERE seq = 4", 4, "seq 4 is missing"),
], ids=["edited", "deleted"])
def test_an_edited_or_deleted_event_is_detected_and_located(chain: Database, tampering: str, broken: int,
                                                            reason: str) -> None:
    """Verification stops at the first broken event, having checked every event before it."""
    sql(chain, tampering)
    result = verify_custody(chain)
    assert not result.ok
    assert result.first_broken_seq == broken and result.checked == broken - 1
    assert reason in result.reason


def test_an_edited_time_is_detected(chain: Database) -> None:
    sql(chain, "UPDATE handoff_event SET occurred_at = :t WHERE seq = 6",
        t=dt.datetime(2026, 12, 1, 3, 0))  # naive UTC, as the column stores it
    result = verify_custody(chain)
    assert (result.ok, result.first_broken_seq) == (False, 6)


def test_editing_the_note_or_coordinates_does_not_break_the_chain(chain: Database) -> None:
    """Deliberate: place and note are personal data kept out of the hash so they can be erased."""
    sql(chain, "UPDATE handoff_event SET note = '', lon = NULL, lat = NULL")
    assert verify_custody(chain).ok


def test_a_deleted_and_renumbered_event_is_detected_by_its_link(chain: Database) -> None:
    """Closing the gap in seq does not help: the next event's prev_hash still names the deleted one."""
    sql(chain, "DELETE FROM handoff_event WHERE seq = 4")
    for seq in range(5, 9):
        sql(chain, "UPDATE handoff_event SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    result = verify_custody(chain)
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert "prev_hash does not match" in result.reason


def test_a_deleted_first_event_is_detected(chain: Database) -> None:
    sql(chain, "DELETE FROM handoff_event WHERE seq = 1")
    assert verify_custody(chain).first_broken_seq == 1


def test_a_truncated_tail_is_detected_only_against_an_anchor(chain: Database) -> None:
    _, anchor = take_anchor(chain, now=utcnow())
    assert anchor is not None and anchor.seq == 8
    sql(chain, "DELETE FROM handoff_event WHERE seq > 5")
    assert verify_custody(chain).ok  # what is left is a valid chain ...
    result = verify_custody(chain, anchor)  # ... but shorter than the anchored one
    assert not result.ok
    assert result.first_broken_seq == 6 and result.checked == 5
    assert "events 6..8 are missing (truncated)" in result.reason


def test_a_rewritten_chain_is_detected_against_an_anchor(chain: Database) -> None:
    """Truncate and append fresh, perfectly chained events: the anchored seq now has another hash."""
    _, anchor = take_anchor(chain, now=utcnow())
    assert anchor is not None
    sql(chain, "DELETE FROM handoff_event WHERE seq > 5")
    with chain.read() as s:
        order_id = s.scalars(select(Order.id).where(Order.number == 2)).one()
    journey_again = [("hub_to_courier", "hub:h", "volunteer:v2", "courier_scan")] * 3
    for kind, src, dst, proof in journey_again:
        record_handoff(chain, order_id, kind, src, dst, "user:op1", proof, T0)
    assert verify_custody(chain).ok
    result = verify_custody(chain, anchor)
    assert (result.ok, result.first_broken_seq) == (False, 8)
    assert "rewritten" in result.reason


def test_appends_inside_a_larger_transaction_chain_and_roll_back_together(db: Database) -> None:
    order = resident_order(db)
    with db.write() as s:
        first = append_event(s, order.id, "supply_to_hub", "supply:sp", "hub:h", "system:sim", "courier_scan",
                             T0)
        second = append_event(s, order.id, "hub_to_courier", "hub:h", "volunteer:v", "system:sim",
                              "courier_scan", T0)
        assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
    with pytest.raises(RuntimeError), db.write() as s:
        append_event(s, order.id, "courier_to_hub", "volunteer:v", "hub:h", "system:sim", "courier_scan", T0)
        raise RuntimeError("the enclosing service failed")
    result = verify_custody(db)
    assert result.ok and result.head_seq == 2


def test_concurrent_appends_never_fork_the_chain(db: Database) -> None:
    """Ten threads append five events each at once; every append waits its turn, none fails."""
    order = resident_order(db)

    def courier(n: int) -> None:
        for i in range(5):
            record_handoff(db, order.id, "hub_to_courier", "hub:h", f"volunteer:v{n}", f"volunteer:v{n}",
                           "courier_scan", T0 + dt.timedelta(seconds=i))

    at_once(10, courier)
    result = verify_custody(db)
    assert result.ok and result.checked == 50 and result.head_seq == 50
    with db.read() as s:
        prev_hashes = list(s.scalars(select(HandoffEvent.prev_hash)))
    assert len(set(prev_hashes)) == 50  # no two events claim the same predecessor: no fork


# --- anchors and the command line -----------------------------------------------------------------


def test_verify_chain_flags_an_anchor_beyond_an_empty_chain() -> None:
    anchor = Anchor(seq=2, hash="a" * 64, taken_at=T0)
    result = verify_chain([], anchor)
    assert (result.ok, result.first_broken_seq) == (False, 1)


def test_cli_verify_passes_then_names_the_first_broken_link(chain: Database) -> None:
    runner = CliRunner()
    ok = runner.invoke(audit, ["verify", "--database", chain.url])
    assert ok.exit_code == 0, ok.output
    assert "ok: 8 event(s), head seq 8" in ok.output
    sql(chain, "UPDATE handoff_event SET proof = 'operator_confirm' WHERE seq = 2")
    broken = runner.invoke(audit, ["verify", "--database", chain.url])
    assert broken.exit_code == 1
    assert "BROKEN at seq 2" in broken.output and "edited" in broken.output


def test_cli_anchor_then_verify_catches_truncation(chain: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    anchor_file = tmp_path / "anchors" / "head.json"
    made = runner.invoke(audit, ["anchor", "--out", str(anchor_file), "--database", chain.url])
    assert made.exit_code == 0, made.output
    assert anchor_from_json(anchor_file.read_text()).seq == 8
    sql(chain, "DELETE FROM handoff_event WHERE seq = 8")
    plain = runner.invoke(audit, ["verify", "--database", chain.url])
    assert plain.exit_code == 0 and "without --anchor" in plain.output
    anchored = runner.invoke(audit, ["verify", "--anchor", str(anchor_file), "--database", chain.url])
    assert anchored.exit_code == 1
    assert "BROKEN at seq 8" in anchored.output and "truncated" in anchored.output


def test_cli_refuses_to_move_an_anchor_over_a_truncated_chain(chain: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    anchor_file = tmp_path / "head.json"
    assert runner.invoke(audit, ["anchor", "--out", str(anchor_file), "--database", chain.url]).exit_code == 0
    before = anchor_file.read_text()
    sql(chain, "DELETE FROM handoff_event WHERE seq > 6")
    again = runner.invoke(audit, ["anchor", "--out", str(anchor_file), "--database", chain.url])
    assert again.exit_code == 1 and "truncated" in again.output
    assert anchor_file.read_text() == before


def test_cli_rejects_a_malformed_anchor_file(chain: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "hakobu-audit-anchor/1", "seq": 3, "hash": "xyz", "taken_at": "x"}))
    result = CliRunner().invoke(audit, ["verify", "--anchor", str(bad), "--database", chain.url])
    assert result.exit_code == 2
    assert "anchor hash 'xyz' is not 64 lowercase hex digits" in result.output
