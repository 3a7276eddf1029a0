"""The delivery PIN: four digits the resident gets by SMS and tells the courier at the door.

Only a hash is stored. The PIN is returned once by :func:`issue_pin` (for the resident's SMS) and
never shown to the courier; :func:`check_pin` delivers the order when the courier types it in.

Why scrypt with a random salt, and why that is enough for four digits: 10,000 candidates are
brute-forced offline in minutes whatever the KDF, so the hash is not what protects the PIN. It
keeps the PIN out of backups, exports and logs in clear, and costs a database thief ~10 minutes of
CPU per order (scrypt N=2^14 ≈ 50 ms) for a value that lives one day and only lets someone mark a
parcel delivered — which anyone who can read the database could write directly anyway. The real
protection is online: :data:`MAX_ATTEMPTS` wrong tries lock the PIN (a 5 in 10,000 chance for a
guesser) and the operator is alerted. The order id is part of the hashed input, so a hash copied
onto another order never validates. A server-side secret (pepper) would add protection against
a leak of the database alone; it needs a key that services do not yet receive (see docs/custody.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.custody import InvalidHandoff
from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import OrderState, transition
from dispatch.models import Order
from dispatch.services.handoffs import append_event

#: Wrong tries before the PIN locks (``Settings.pin_max_attempts`` has the same default).
MAX_ATTEMPTS = 5
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class PinStatus(StrEnum):
    OK = "ok"  # right PIN: the order is delivered
    WRONG = "wrong"  # wrong PIN: ``tries_left`` more before the lock
    LOCKED = "locked"  # no PIN is accepted until an operator re-issues one


@dataclass(frozen=True)
class PinResult:
    """What a PIN check did. ``alert_operator`` is True exactly once: on the try that locked it."""

    status: PinStatus
    tries_left: int
    alert_operator: bool = False
    event_id: str | None = None  # the courier_to_resident handoff recorded on success

    @property
    def ok(self) -> bool:
        return self.status is PinStatus.OK


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _derive(order_id: str, pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(f"{order_id}:{pin}".encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def hash_pin(order_id: str, pin: str) -> str:
    """``scrypt$N$r$p$salt$digest`` (base64url) of the PIN bound to ``order_id``, freshly salted."""
    salt = secrets.token_bytes(16)
    digest = _derive(order_id, pin, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def pin_matches(order_id: str, pin: str, stored: str) -> bool:
    """True when ``pin`` is the PIN hashed into ``stored`` for this very order."""
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(f"unknown PIN hash scheme {scheme!r}")
    pad = "=" * (-len(salt) % 4)
    computed = _derive(order_id, pin, base64.urlsafe_b64decode(salt + pad), int(n), int(r), int(p))
    return hmac.compare_digest(_b64(computed), digest)


def normalise_pin(raw: str) -> str:
    """The PIN as four ASCII digits (full-width digits from a Japanese keyboard are accepted).

    Raises :class:`DomainError` for anything else; such a typo is not counted as a try.
    """
    pin = unicodedata.normalize("NFKC", raw).strip()
    if len(pin) != 4 or not (pin.isascii() and pin.isdigit()):
        raise DomainError("a delivery PIN is exactly 4 digits")
    return pin


def issue_pin(session: Session, order: Order) -> str:
    """Give ``order`` a fresh PIN, store only its hash, and return the PIN (for the resident's SMS).

    Re-issuing is also how an operator unlocks a locked PIN: the tries are reset and the old PIN
    stops working. Call it inside the caller's write transaction.
    """
    pin = f"{secrets.randbelow(10_000):04d}"
    order.pin_hash = hash_pin(order.id, pin)
    order.pin_attempts = 0
    order.pin_locked = False
    return pin


def check_pin(
    session: Session, order_id: str, pin: str, actor: str, *, at: dt.datetime,
    lon: float | None = None, lat: float | None = None, max_attempts: int = MAX_ATTEMPTS,
) -> PinResult:
    """Check the PIN the courier (``actor``, ``volunteer:<id>``) typed in for this order, inside the
    caller's write transaction (a session from ``Database.write()``).

    Right: the order becomes ``delivered`` and a ``courier_to_resident`` handoff proven by
    ``resident_pin`` is appended at ``at``. Wrong: the try is counted (and kept: the result is
    returned, not raised, so the caller commits the count); the ``max_attempts``-th wrong try locks
    the PIN and asks for an operator alert. Locked: refused, even the right PIN, without counting.
    The order row is locked for the check, so concurrent guesses cannot exceed ``max_attempts``.
    The use case is :func:`dispatch.services.delivery.deliver`, which commits the courier's
    deduplicated action and the resident's receipt SMS with it.
    """
    typed = normalise_pin(pin)
    if not actor.startswith("volunteer:"):
        raise InvalidHandoff(f"actor {actor!r}: the PIN is entered by the courier, 'volunteer:<id>'")
    order = session.scalars(select(Order).where(Order.id == order_id).with_for_update()).one_or_none()
    if order is None:
        raise NotFound(f"order {order_id!r} does not exist")
    if order.pin_hash is None:
        raise DomainError("order #%(number)s has no delivery PIN", number=order.number)
    if order.pin_locked:
        return PinResult(PinStatus.LOCKED, tries_left=0)
    if order.state != OrderState.IN_TRANSIT:
        raise DomainError("order #%(number)s is %(state)s, not in transit: no PIN expected",
                          number=order.number, state=order.state)
    if not pin_matches(order.id, typed, order.pin_hash):
        order.pin_attempts += 1
        tries_left = max(max_attempts - order.pin_attempts, 0)
        if tries_left == 0:
            order.pin_locked = True
            return PinResult(PinStatus.LOCKED, tries_left=0, alert_operator=True)
        return PinResult(PinStatus.WRONG, tries_left=tries_left)
    transition(order, OrderState.DELIVERED)
    event = append_event(
        session, order.id, "courier_to_resident", actor, f"resident:{order.resident_id}", actor,
        "resident_pin", at, lon=lon, lat=lat,
    )
    return PinResult(PinStatus.OK, tries_left=max_attempts - order.pin_attempts, event_id=event.id)


def orders_with_locked_pin(db: Database, hub_id: str | None = None) -> list[Order]:
    """Orders whose PIN is locked: the durable form of the operator alert, for the console."""
    query = select(Order).where(Order.pin_locked.is_(True)).order_by(Order.number)
    if hub_id is not None:
        query = query.where(Order.hub_id == hub_id)
    with db.read() as session:
        return list(session.scalars(query))
