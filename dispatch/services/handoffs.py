"""Recording custody changes: appending to the hash chain, reading an order's chain, verifying.

Appends are serialised so the chain never forks: the next ``seq`` and ``prev_hash`` are read from
the head while holding the chain's write lock, until the transaction ends.

- SQLite: :meth:`Database.write` starts with ``BEGIN IMMEDIATE``; the whole database is the lock.
  A session from :meth:`Database.read` must not be used to append (its deferred transaction
  would fail with "database is locked" on a race rather than wait).
- PostgreSQL: ``pg_advisory_xact_lock`` on :data:`CHAIN_LOCK_KEY`, released at commit or rollback.
  ``SELECT ... FOR UPDATE`` on the head row would not do: a waiter would get the old head back
  once the lock is released and try to fork. Under READ COMMITTED (the default) the head query
  after the lock sees the event the previous holder committed.

Either way a concurrent appender waits; it never fails. The primary key on ``seq`` and the
unique ``hash`` remain as a last line of defence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import ScalarResult, select, text
from sqlalchemy.orm import Session

from dispatch.custody import (
    GENESIS,
    Anchor,
    VerifyResult,
    canonical_content,
    chain_hash,
    check_handoff,
    verify_chain,
)
from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.ids import new_id
from dispatch.models import HandoffEvent, Order

#: Advisory lock key of the custody chain on PostgreSQL (an arbitrary constant, "hakobu-chain").
CHAIN_LOCK_KEY = 0x68616B6F62750001


def lock_chain(session: Session) -> None:
    """Hold the chain's append lock until ``session``'s transaction ends (no-op on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def head(session: Session) -> tuple[int, str]:
    """``(seq, hash)`` of the newest event, or ``(0, GENESIS)`` for an empty chain."""
    row = session.execute(
        select(HandoffEvent.seq, HandoffEvent.hash).order_by(HandoffEvent.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (row.seq, row.hash)


def append_event(
    session: Session, order_id: str, kind: str, from_party: str, to_party: str, actor: str,
    proof: str, at: dt.datetime, lon: float | None = None, lat: float | None = None, note: str = "",
) -> HandoffEvent:
    """Append one event inside the caller's write transaction and return it (flushed).

    For services that record a handoff as part of a larger change (e.g. delivery by PIN). The
    chain lock is held until that transaction commits, so keep it short after this call.
    Raises :class:`~dispatch.custody.InvalidHandoff` if kind, parties, actor or proof do not fit.
    """
    check_handoff(kind, from_party, to_party, actor, proof)
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()} given where an aware one is needed")
    occurred_at = at.astimezone(dt.UTC)
    lock_chain(session)
    last_seq, last_hash = head(session)
    event = HandoffEvent(
        seq=last_seq + 1, id=new_id(), order_id=order_id, kind=kind, from_party=from_party,
        to_party=to_party, actor=actor, proof=proof, lon=lon, lat=lat, occurred_at=occurred_at,
        note=note, prev_hash=last_hash,
    )
    event.hash = chain_hash(last_hash, canonical_content(
        event.seq, event.id, order_id, kind, from_party, to_party, actor, proof, occurred_at,
    ))
    session.add(event)
    session.flush()
    return event


def record_handoff(
    db: Database, order_id: str, kind: str, from_party: str, to_party: str, actor: str, proof: str,
    at: dt.datetime, lon: float | None = None, lat: float | None = None, note: str = "",
) -> str:
    """Record one custody change of an order in its own transaction; return the event id.

    Only the custody record: moving the order's state is the business of the service that
    knows why the parcel moved (it can call :func:`append_event` in its own transaction).
    """
    with db.write() as session:
        if session.get(Order, order_id) is None:
            raise NotFound(f"order {order_id!r} does not exist")
        event = append_event(session, order_id, kind, from_party, to_party, actor, proof, at,
                             lon=lon, lat=lat, note=note)
        return event.id


def chain_of(db: Database, order_id: str) -> list[HandoffEvent]:
    """The custody events of one order, oldest first (detached, fully loaded)."""
    with db.read() as session:
        return list(session.scalars(
            select(HandoffEvent).where(HandoffEvent.order_id == order_id).order_by(HandoffEvent.seq)
        ))


def _streamed(result: ScalarResult[HandoffEvent], session: Session) -> Iterator[HandoffEvent]:
    """Yield events one by one, forgetting each once seen, so a long chain is not held in memory."""
    for event in result:
        yield event
        session.expunge(event)


def verify_custody(db: Database, anchor: Anchor | None = None) -> VerifyResult:
    """Verify the whole stored chain (and, given one, against an anchor kept outside the database).

    Events are streamed in chunks (a server-side cursor on PostgreSQL), closed explicitly since
    verification stops early at a broken link.
    """
    with db.read() as session:
        result = session.scalars(
            select(HandoffEvent).order_by(HandoffEvent.seq).execution_options(yield_per=1000)
        )
        try:
            return verify_chain(_streamed(result, session), anchor)
        finally:
            result.close()


def take_anchor(db: Database, previous: Anchor | None = None, *,
                now: dt.datetime) -> tuple[VerifyResult, Anchor | None]:
    """Verify the chain (against ``previous`` if given) and return its head as a new anchor taken
    at ``now``.

    The anchor is ``None`` when verification fails: a broken chain must never be anchored, or
    the anchor would vouch for the tampering.
    """
    result = verify_custody(db, previous)
    if not result.ok:
        return result, None
    return result, Anchor(seq=result.head_seq, hash=result.head_hash, taken_at=now)
