"""A storage backend of the ``limits`` library (Flask-Limiter's) in Hakobu's own database.

With several web processes (gunicorn or waitress workers) an in-memory limit counts per process and
forgets at every restart: "5 sign-in attempts a minute" becomes 5 per worker, and again after a
crash. Counters here are rows of ``rate_limit_counter``, updated atomically in the database every
process shares, so a limit holds across processes and restarts without another service to run.
Redis is the other choice (``HAKOBU_RATELIMIT_STORAGE_URI=redis://…``, Flask-Limiter's own backend).

The scheme is ``hakobu-db://``; the engine is passed as the storage option ``engine`` (the
fixed-window strategy, Flask-Limiter's default, needs only ``incr``, ``get`` and ``get_expiry``).
"""

from __future__ import annotations

import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import Engine, case, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dispatch.models import RateLimitCounter

SCHEME = "hakobu-db"


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_limit_counter`` table (see the module docstring)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - limits' registry reads this class attribute

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        engine = options.pop("engine", None)
        if not isinstance(engine, Engine):
            raise ValueError(f"{SCHEME}:// needs the option engine=<sqlalchemy Engine>")
        self.engine = engine
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` in the key's current window (a new window of ``expiry`` s once it ended)."""
        table = RateLimitCounter.__table__
        for _attempt in range(3):  # a concurrent first insert of the same key: update it instead
            now = time.time()
            with self.engine.begin() as conn:
                fresh = table.c.expires_at <= now
                counted = conn.execute(
                    update(table)
                    .where(table.c.key == key)
                    .values(
                        count=_case(fresh, amount, table.c.count + amount),
                        expires_at=_case(fresh, now + expiry, table.c.expires_at),
                    )
                    .returning(table.c.count)
                ).scalar()
                if counted is not None:
                    return int(counted)
                try:
                    conn.execute(insert(table).values(key=key, count=amount, expires_at=now + expiry))
                except IntegrityError:
                    continue
                return amount
        raise RuntimeError(f"rate limit counter {key!r}: could not count after three tries")

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(RateLimitCounter.count, RateLimitCounter.expires_at).where(RateLimitCounter.key == key)
            ).first()
        return int(row.count) if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            expires = conn.execute(
                select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key)
            ).scalar()
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


def _case(condition: Any, then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)
