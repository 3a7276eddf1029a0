"""Password-less sign-in for residents (one-time SMS codes) and couriers (single-use links).

Only a hash of each secret is stored. Codes are short (6 digits), so they expire quickly, allow
few attempts and are rate-limited per number; links carry 128 random bits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.models import AccessToken, Proxy, Resident
from dispatch.services import notify

CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3


def _digest(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Someone a signed-in phone may order for: the resident themself or a proxy's resident."""

    resident_id: str
    resident_code: str
    resident_name: str
    proxy_id: str | None


def principals_for_phone(session: Session, phone: str) -> list[Principal]:
    own = session.scalars(select(Resident).where(Resident.phone == phone, Resident.active))
    result = [Principal(r.id, r.code, r.name, None) for r in own]
    for proxy in session.scalars(select(Proxy).where(Proxy.phone == phone, Proxy.active,
                                                       Proxy.covers_ordering)):
        resident = proxy.resident
        if resident.active:
            result.append(Principal(resident.id, resident.code, resident.name, proxy.id))
    return result


def issue_login_code(db: Database, phone: str, pepper: str, ttl_s: int, *, now: dt.datetime) -> bool:
    """Text a sign-in code to ``phone`` if it belongs to a resident or proxy.

    Returns whether a code was sent; callers must not reveal it (no account enumeration).
    """
    with db.write() as session:
        people = principals_for_phone(session, phone)
        if not people:
            return False
        recent = session.scalar(select(func.count()).select_from(AccessToken).where(
            AccessToken.purpose == "login_code", AccessToken.phone == phone,
            AccessToken.created_at > now - dt.timedelta(hours=1))) or 0
        if recent >= CODES_PER_HOUR:
            return False
        code = f"{secrets.randbelow(10**6):06d}"
        session.add(AccessToken(purpose="login_code", phone=phone, secret_hash=_digest(
            f"{phone}:{code}:{now.timestamp()}", pepper), expires_at=now + dt.timedelta(seconds=ttl_s),
            created_at=now))
        language = session.scalars(select(Resident.language).where(Resident.phone == phone)).first()
        # Queued for the (first) resident behind the number, so the console's simulator lists it
        # only to that resident's hub, never to every operator as a text to an unknown number.
        queued = notify.text_phone(session, phone, language or "ja", "login_code",
                                   {"code": code, "minutes": max(1, ttl_s // 60)}, now=now,
                                   resident_id=people[0].resident_id)
        # The hash covers the issue time so equal codes for one number never collide.
        return queued is not None


def verify_login_code(db: Database, phone: str, code: str, pepper: str, *, now: dt.datetime) -> bool:
    """True once for the newest valid code of ``phone``; wrong tries count towards a lock."""
    with db.write() as session:
        token = session.scalars(select(AccessToken).where(
            AccessToken.purpose == "login_code", AccessToken.phone == phone,
            AccessToken.used_at.is_(None), AccessToken.expires_at > now,
        ).order_by(AccessToken.created_at.desc()).limit(1)).first()
        if token is None or token.attempts >= CODE_ATTEMPTS:
            return False
        expected = _digest(f"{phone}:{code.strip()}:{token.created_at.timestamp()}", pepper)
        if not hmac.compare_digest(expected, token.secret_hash):
            token.attempts += 1
            return False
        token.used_at = now
        return True


def issue_courier_link(session: Session, volunteer_id: str, pepper: str, ttl_s: int,
                       now: dt.datetime) -> str:
    """A single-use sign-in secret for a courier's route link (returned once, stored hashed)."""
    secret = secrets.token_urlsafe(24)
    session.add(AccessToken(purpose="courier_link", volunteer_id=volunteer_id,
                            secret_hash=_digest(secret, pepper),
                            expires_at=now + dt.timedelta(seconds=ttl_s), created_at=now))
    return secret


def courier_link_url(session: Session, volunteer_id: str, settings: Settings, now: dt.datetime) -> str:
    """A fresh single-use sign-in link to the courier's route page, for their SMS (inside the
    caller's transaction; the link's secret is stored hashed)."""
    secret = issue_courier_link(session, volunteer_id, settings.secret_key, settings.courier_link_ttl_s, now)
    return f"{settings.public_url.rstrip('/')}/courier/login/{secret}"


def redeem_courier_link(db: Database, secret: str, pepper: str, *, now: dt.datetime) -> str | None:
    """The volunteer id behind an unused, unexpired link, marking it used; else None."""
    with db.write() as session:
        token = session.scalars(select(AccessToken).where(
            AccessToken.purpose == "courier_link",
            AccessToken.secret_hash == _digest(secret, pepper))).first()
        if token is None or token.used_at is not None or token.expires_at <= now:
            return None
        token.used_at = now
        return token.volunteer_id
