"""Console accounts: creation, password check, session rotation."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import ROLES, Hub, OperatorAlert, Region, User
from dispatch.phrases import Phrase

log = logging.getLogger(__name__)

# A hash to compare against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")


def hash_password(password: str) -> str:
    """scrypt (werkzeug's default parameters), salted; never store or log the password itself."""
    if len(password) < 8:
        raise DomainError("a password needs at least 8 characters")
    return generate_password_hash(password, method="scrypt")


def upsert_user(
    db: Database, email: str, name: str, role: str, password: str,
    hub_codes: Iterable[str] = (), language: str = "ja",
) -> str:
    """Create the account or reset it (role, password, hubs). Returns the user id."""
    if role not in ROLES:
        raise DomainError("unknown role '%(role)s'; expected one of %(expected)s",
                          role=role, expected=', '.join(ROLES))
    email = email.strip().lower()
    with db.write() as s:
        user = s.scalars(select(User).where(User.email == email)).one_or_none()
        if user is None:
            user = User(email=email)
            s.add(user)
        user.name = name
        user.role = role
        user.language = language
        user.password_hash = hash_password(password)
        user.active = True
        user.hubs = [resolve_hub(s, code) for code in hub_codes]
        s.flush()
        return user.id


def resolve_hub(session: Session, code: str) -> Hub:
    """The hub named ``region/HUB`` (or just ``HUB`` when one region alone has that code).

    Several municipalities share one deployment and hub codes are unique only inside a region, so
    a bare code that two regions use is refused rather than giving the account both hubs."""
    region_code, _sep, hub_code = code.strip().rpartition("/")
    query = select(Hub, Region.code).join(Region, Region.id == Hub.region_id).where(Hub.code == hub_code)
    if region_code:
        query = query.where(Region.code == region_code)
    found = session.execute(query.order_by(Region.code)).all()
    if not found:
        raise DomainError("no hub %(code)s", code=code)
    if len(found) > 1:
        raise DomainError("hub %(code)s is in several regions (%(regions)s): "
                          "write region/hub, e.g. %(example)s", code=code,
                          regions=", ".join(r for _h, r in found), example=f"{found[0][1]}/{hub_code}")
    return found[0][0]


def authenticate(db: Database, email: str, password: str, *, now: dt.datetime | None = None,
                 lock_after: int = 10, lock_for: dt.timedelta = dt.timedelta(minutes=15)) -> User | None:
    """The active user with this e-mail and password, with a fresh session nonce; else None.

    Per-account lockout: ``lock_after`` wrong passwords in a row lock the account for ``lock_for``
    (even the right password is refused meanwhile), and each of the account's hubs gets an alert on
    its handoff board, so an operator learns that someone is guessing. The request rate limits
    count per client address; this counts per account, whichever addresses the guesses come from.
    """
    now = now or dt.datetime.now(dt.UTC)
    with db.write() as s:
        user = s.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
        if user is None or not user.active:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if user.locked_until is not None and user.locked_until > now:
            check_password_hash(_DUMMY_HASH, password)  # the same time as any other refusal
            return None
        if not check_password_hash(user.password_hash, password):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= lock_after:
                _lock(s, user, now, lock_for)
            return None
        user.failed_logins, user.locked_until = 0, None
        user.session_nonce = secrets.token_hex(16)  # rotating it ends every older session
        s.flush()
        _ = user.hubs  # load before the session closes
        return user


def _lock(s: Session, user: User, now: dt.datetime, lock_for: dt.timedelta) -> None:
    """Lock the account, end its sessions, and alert each of its hubs (ids and counts only)."""
    user.locked_until = now + lock_for
    user.session_nonce = secrets.token_hex(16)
    text = Phrase("console account %(email)s locked for %(minutes)s minutes after %(count)s wrong passwords",
                  {"email": user.email, "minutes": int(lock_for.total_seconds() // 60),
                   "count": user.failed_logins}).stored()
    for hub in user.hubs:
        s.add(OperatorAlert(hub_id=hub.id, kind="account_locked", text=text, created_at=now))
    user.failed_logins = 0
    log.warning("console account %s locked after too many wrong passwords", user.id)


def end_sessions(db: Database, user_id: str) -> None:
    """Invalidate every session of the user (logout)."""
    with db.write() as s:
        user = s.get(User, user_id)
        if user is not None:
            user.session_nonce = secrets.token_hex(16)


def load_session_user(db: Database, user_id: str, nonce: str) -> User | None:
    """The user behind a session cookie, if the cookie's nonce is still the current one."""
    with db.read() as s:
        user = s.get(User, user_id)
        if user is None or not user.active or not nonce or user.session_nonce != nonce:
            return None
        _ = user.hubs
        return user
