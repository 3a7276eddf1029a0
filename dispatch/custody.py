"""Chain of custody, the pure part: which handoffs exist, what of an event is hashed, and how a
chain is verified. No database here; :mod:`dispatch.services.handoffs` stores the events.

Each event's hash is ``SHA-256(prev_hash + "\\n" + content)``, where ``content`` is a canonical JSON
of the event's non-personal fields (:func:`canonical_content`). The first event links to
:data:`GENESIS`. Editing a hashed field breaks that event's hash; deleting an event leaves a gap in
``seq`` and a ``prev_hash`` that no longer matches; cutting off the tail is only visible against an
:class:`Anchor` (a head ``(seq, hash)`` recorded earlier and kept outside the database).

What is deliberately *not* hashed, and why (see ``docs/custody.md``):

- ``lon`` / ``lat``: at the door they are the resident's home, i.e. personal data. Keeping them out
  of the hash lets them be coarsened or erased (retention, a resident's request) without breaking
  the chain. The tamper-evident "where" is the party (``hub:<id>``, ``resident:<id>``), whose place
  is known from the region data.
- ``note``: free text may name people; it is commentary, not evidence.

Parties and actors are ``type:<opaque id>`` references (random ids, never names or phone numbers),
so the hashed content is pseudonymous and stays meaningful after the person record is erased.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dispatch.errors import DomainError

#: ``prev_hash`` of the first event of the chain.
GENESIS = "0" * 64
#: Version of :func:`canonical_content`; bump it (and keep the old one) if the content ever changes.
CONTENT_VERSION = 1

#: Which party types may hand over to which, per event kind.
KIND_PARTIES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "supply_to_drone": (frozenset({"supply"}), frozenset({"drone"})),
    "supply_to_courier": (frozenset({"supply"}), frozenset({"volunteer"})),
    "supply_to_hub": (frozenset({"supply"}), frozenset({"hub"})),
    "drone_to_hub": (frozenset({"drone"}), frozenset({"hub"})),
    "courier_to_hub": (frozenset({"volunteer"}), frozenset({"hub"})),
    "hub_to_courier": (frozenset({"hub"}), frozenset({"volunteer"})),
    "hub_to_drone": (frozenset({"hub"}), frozenset({"drone"})),
    "courier_to_resident": (frozenset({"volunteer"}), frozenset({"resident"})),
    "drone_to_resident": (frozenset({"drone"}), frozenset({"resident"})),  # at the drop point
    "courier_to_neighbour": (frozenset({"volunteer"}), frozenset({"neighbour"})),  # with consent
    "courier_to_hall": (frozenset({"volunteer"}), frozenset({"hall"})),  # community hall, with consent
    "returned": (frozenset({"volunteer", "drone", "hub"}), frozenset({"hub", "supply"})),
    # community bus (貨客混載): "bus:<trip id>" is the driver of that trip
    "hub_to_bus": (frozenset({"hub"}), frozenset({"bus"})),
    "bus_to_resident": (frozenset({"bus"}), frozenset({"resident"})),  # at the stop, with the PIN
    "bus_to_courier": (frozenset({"bus"}), frozenset({"volunteer"})),
}
#: How a handoff was proven.
PROOFS = frozenset({"operator_confirm", "courier_scan", "resident_pin", "resident_consent", "drone_log"})
#: Who may record an event: a console user, a volunteer courier, or a named system job.
ACTOR_TYPES = frozenset({"user", "volunteer", "system"})

_REF = re.compile(r"^([a-z]+):([A-Za-z0-9_-]{1,64})$")


class InvalidHandoff(DomainError):
    """A handoff names an unknown kind or proof, or a party that does not fit the kind."""


class ChainEvent(Protocol):
    """The fields of a stored event that the chain reads (``HandoffEvent`` has them all)."""

    seq: int
    id: str
    order_id: str
    kind: str
    from_party: str
    to_party: str
    actor: str
    proof: str
    occurred_at: dt.datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Anchor:
    """The head of the chain at some moment, kept outside the database to detect truncation."""

    seq: int
    hash: str
    taken_at: dt.datetime


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_chain`: ``checked`` events were intact before the first broken one."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS


def _ref_type(ref: str, what: str, allowed: frozenset[str]) -> str:
    match = _REF.match(ref)
    if match is None:
        raise InvalidHandoff(f"{what} {ref!r} is not a 'type:id' reference")
    if match.group(1) not in allowed:
        raise InvalidHandoff(f"{what} {ref!r}: type must be one of {', '.join(sorted(allowed))}")
    return match.group(1)


def check_handoff(kind: str, from_party: str, to_party: str, actor: str, proof: str) -> None:
    """Raise :class:`InvalidHandoff` unless kind, parties, actor and proof fit together."""
    if kind not in KIND_PARTIES:
        raise InvalidHandoff(f"unknown handoff kind {kind!r}; expected one of {', '.join(KIND_PARTIES)}")
    if proof not in PROOFS:
        raise InvalidHandoff(f"unknown proof {proof!r}; expected one of {', '.join(sorted(PROOFS))}")
    senders, receivers = KIND_PARTIES[kind]
    _ref_type(from_party, f"{kind}: from_party", senders)
    _ref_type(to_party, f"{kind}: to_party", receivers)
    _ref_type(actor, "actor", ACTOR_TYPES)


def iso_utc(moment: dt.datetime) -> str:
    """``moment`` in UTC with microseconds and a ``Z``: the one spelling of a time in the hash."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} given where an aware one is needed")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_content(
    seq: int, event_id: str, order_id: str, kind: str, from_party: str, to_party: str,
    actor: str, proof: str, occurred_at: dt.datetime,
) -> str:
    """The hashed content of an event: sorted-key, whitespace-free ASCII JSON of non-personal fields."""
    return json.dumps(
        {
            "v": CONTENT_VERSION, "seq": seq, "id": event_id, "order_id": order_id, "kind": kind,
            "from": from_party, "to": to_party, "actor": actor, "proof": proof,
            "at": iso_utc(occurred_at),
        },
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )


def chain_hash(prev_hash: str, content: str) -> str:
    """SHA-256 (hex) of the previous hash and this event's content, separated by a newline."""
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def event_hash(event: ChainEvent) -> str:
    """Recompute the hash an event should carry from its own fields and its ``prev_hash``."""
    content = canonical_content(
        event.seq, event.id, event.order_id, event.kind, event.from_party, event.to_party,
        event.actor, event.proof, event.occurred_at,
    )
    return chain_hash(event.prev_hash, content)


def verify_chain(events: Iterable[ChainEvent], anchor: Anchor | None = None) -> VerifyResult:
    """Check ``events`` (in ``seq`` order, the whole chain) and stop at the first broken link.

    Detects an edited hashed field (the event's hash no longer matches), a deleted event (a gap in
    ``seq``, or a ``prev_hash`` that is not the previous hash) and, given an ``anchor``, a cut-off
    tail or a chain rewritten before the anchor (the anchored ``seq`` is missing or carries another
    hash). ``first_broken_seq`` is the first ``seq`` that cannot be trusted.
    """
    checked, prev_seq, prev_hash = 0, 0, GENESIS
    for event in events:
        expected_seq = prev_seq + 1
        if event.seq != expected_seq:
            what = "missing" if event.seq > expected_seq else "out of order"
            reason = (f"seq {expected_seq} is {what} (next stored is {event.seq}):"
                      " an event was deleted or reordered")
            return _broken(checked, expected_seq, reason, prev_seq, prev_hash)
        if event.prev_hash != prev_hash:
            return _broken(checked, event.seq, f"seq {event.seq}: prev_hash does not match the hash of seq"
                           f" {prev_seq}: an event was deleted, inserted or re-linked", prev_seq, prev_hash)
        if event_hash(event) != event.hash:
            return _broken(checked, event.seq, f"seq {event.seq}: content does not match its hash: the event"
                           " was edited", prev_seq, prev_hash)
        if anchor is not None and event.seq == anchor.seq and event.hash != anchor.hash:
            return _broken(checked, event.seq, f"seq {event.seq}: hash differs from the anchor taken"
                           f" {iso_utc(anchor.taken_at)}: the chain was rewritten", prev_seq, prev_hash)
        checked, prev_seq, prev_hash = checked + 1, event.seq, event.hash
    if anchor is not None and prev_seq < anchor.seq:
        return _broken(checked, prev_seq + 1, f"chain ends at seq {prev_seq} but the anchor taken"
                       f" {iso_utc(anchor.taken_at)} records seq {anchor.seq}: events {prev_seq + 1}"
                       f"..{anchor.seq} are missing (truncated)", prev_seq, prev_hash)
    return VerifyResult(ok=True, checked=checked, head_seq=prev_seq, head_hash=prev_hash)


def _broken(checked: int, seq: int, reason: str, head_seq: int, head_hash: str) -> VerifyResult:
    return VerifyResult(ok=False, checked=checked, first_broken_seq=seq, reason=reason,
                        head_seq=head_seq, head_hash=head_hash)


def anchor_to_json(anchor: Anchor) -> str:
    """The anchor file's text (a small JSON object; no database URL or personal data in it)."""
    return json.dumps({"format": "hakobu-audit-anchor/1", "seq": anchor.seq, "hash": anchor.hash,
                       "taken_at": iso_utc(anchor.taken_at)}, indent=2) + "\n"


def anchor_from_json(text: str) -> Anchor:
    """Parse an anchor file; raise :class:`ValueError` naming what is wrong with it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"anchor is not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") != "hakobu-audit-anchor/1":
        raise ValueError("anchor lacks format 'hakobu-audit-anchor/1'")
    seq, digest, taken = data.get("seq"), data.get("hash"), data.get("taken_at")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError(f"anchor seq {seq!r} is not a non-negative integer")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"anchor hash {digest!r} is not 64 lowercase hex digits")
    try:
        taken_at = dt.datetime.fromisoformat(str(taken).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"anchor taken_at {taken!r} is not an ISO time") from None
    if taken_at.tzinfo is None:
        raise ValueError(f"anchor taken_at {taken!r} has no time zone")
    return Anchor(seq=seq, hash=digest, taken_at=taken_at)
