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
    if not pepper:  # a hash under an empty key is one anybody can compute (issue 17)
        raise ValueError("an HMAC key is required: derive it with Settings.key_for")
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
    secret = issue_courier_link(session, volunteer_id, settings.key_for("courier_link"),
                                settings.courier_link_ttl_s, now)
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


#: How long a courier's or resident's sign-in lasts without signing out (a route day).
SESSION_TTL = dt.timedelta(hours=24)
#: ``AccessToken.purpose`` of the server-side record behind a courier's or a resident's session.
SESSION_PURPOSES = ("courier_session", "resident_session")


def open_session(db: Database, purpose: str, pepper: str, *, now: dt.datetime,
                 volunteer_id: str | None = None, phone: str | None = None) -> str:
    """Record a courier's (``volunteer_id``) or resident's (``phone``) sign-in; returns the secret
    the session cookie carries (stored hashed). Like console users' nonce, the record is what makes
    a cookie valid: :func:`end_session` at sign-out ends it, whatever copy of the cookie remains."""
    if purpose not in SESSION_PURPOSES:
        raise ValueError(f"unknown session purpose {purpose!r}; expected one of {SESSION_PURPOSES}")
    secret = secrets.token_urlsafe(24)
    with db.write() as session:
        session.add(AccessToken(purpose=purpose, volunteer_id=volunteer_id, phone=phone,
                                secret_hash=_digest(secret, pepper), expires_at=now + SESSION_TTL,
                                created_at=now))
    return secret


def session_holder(db: Database, purpose: str, secret: str, pepper: str, *,
                   now: dt.datetime) -> str | None:
    """The volunteer id (courier) or phone (resident) of an open, unexpired session; else None."""
    if not secret:
        return None
    with db.read() as session:
        token = session.scalars(select(AccessToken).where(
            AccessToken.purpose == purpose, AccessToken.secret_hash == _digest(secret, pepper))).first()
        if token is None or token.used_at is not None or token.expires_at <= now:
            return None
        return token.volunteer_id if purpose == "courier_session" else token.phone


def end_session(db: Database, purpose: str, secret: str, pepper: str, *, now: dt.datetime) -> None:
    """Sign-out: the session's record is closed, so the cookie no longer signs anyone in."""
    with db.write() as session:
        token = session.scalars(select(AccessToken).where(
            AccessToken.purpose == purpose, AccessToken.secret_hash == _digest(secret, pepper))).first()
        if token is not None and token.used_at is None:
            token.used_at = now
