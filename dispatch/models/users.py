"""Console users (operators, planners, admins) scoped to hubs, and single-use sign-in tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, IdMixin, utcnow
from dispatch.models.region import Hub

user_hub = Table(
    "user_hub",
    Base.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("hub_id", ForeignKey("hub.id", ondelete="CASCADE"), primary_key=True),
)

ROLES = ("operator", "planner", "admin")


class User(IdMixin, Base):
    __tablename__ = "user"

    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # operator | planner | admin
    password_hash: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8), default="ja")
    active: Mapped[bool] = mapped_column(default=True)
    session_nonce: Mapped[str] = mapped_column(String(32), default="")  # rotated at login/logout
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # wrong passwords in a row
    locked_until: Mapped[dt.datetime | None] = mapped_column()  # per-account lockout (issue 17)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    hubs: Mapped[list[Hub]] = relationship(secondary=user_hub)


class RateLimitCounter(Base):
    """One fixed-window counter of the request rate limits (Flask-Limiter through
    :mod:`dispatch.ratelimits`): in the database, so every web process counts together and a
    restart resets nothing."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds


class AccessToken(IdMixin, Base):
    """A single-use, expiring secret: a courier's sign-in link or a resident's SMS login code.

    Only a hash of the secret is stored.
    """

    __tablename__ = "access_token"

    purpose: Mapped[str] = mapped_column(String(16))  # courier_link | login_code
    secret_hash: Mapped[str] = mapped_column(String(128), unique=True)
    volunteer_id: Mapped[str | None] = mapped_column(ForeignKey("volunteer.id"))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
