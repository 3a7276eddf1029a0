"""Console accounts: creation, password check, session rotation."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import ROLES, Hub, Region, User

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


def authenticate(db: Database, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, with a fresh session nonce; else None."""
    with db.write() as s:
        user = s.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
        if user is None or not user.active:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(user.password_hash, password):
            return None
        user.session_nonce = secrets.token_hex(16)  # rotating it ends every older session
        s.flush()
        _ = user.hubs  # load before the session closes
        return user


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
