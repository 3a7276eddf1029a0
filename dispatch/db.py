"""Engine and transactions: one place that knows SQLite from PostgreSQL.

SQLite is the embedded default (WAL, foreign keys, busy timeout). Its writers take the write
lock up front with ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock upgrade; readers
use a deferred transaction and never block the writer. PostgreSQL needs none of this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_WRITE_OPTION = "hakobu_write"
_SIGNALS = "hakobu_signals"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with Hakobu's SQLite pragmas when it is a SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite's own
        # implicit BEGIN would be DEFERRED and would start too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writer = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """An engine plus the two ways of using it: :meth:`write` and :meth:`read`.

    Service functions own their transaction with ``with db.write() as session:``; nothing else
    commits. A callback registered with :meth:`after_commit` for a topic (e.g. waking the outbox
    sender for ``"outbox"``) runs once the data it depends on is durable, and only after a
    transaction that signalled that topic (:func:`signal`): a write that queued nothing wakes nothing, so
    a worker whose own bookkeeping is a write transaction does not wake itself forever.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._after_commit: list[tuple[str, Callable[[], None]]] = []
        event.listen(self._sessions, "before_flush", _record_events)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def after_commit(self, topic: str, callback: Callable[[], None]) -> None:
        """Run ``callback`` after each committed write transaction that signalled ``topic``."""
        self._after_commit.append((topic, callback))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction, committed on success and rolled back on error."""
        session = self._sessions()
        try:
            session.connection(execution_options={_WRITE_OPTION: True})
            yield session
            session.commit()
            signalled: set[str] = session.info.get(_SIGNALS, set())
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for topic, callback in self._after_commit:
            if topic in signalled:
                callback()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; anything it changes is discarded.

        ``close`` (not ``rollback``) ends the transaction, so the objects read stay loaded and
        usable after the block, detached.
        """
        session = self._sessions()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


class Rehearsal(Database):
    """The same database, but every write transaction is rolled back instead of committed.

    A service run against it does everything it would do now (the same checks, re-plans and
    queued texts) and leaves nothing behind: the console's confirmation step runs the action
    this way to say exactly what it will do ("15 residents and 2 couriers will be texted")
    without a second, drifting copy of the rules. ``texts`` lists the outbound messages the
    writes queued, as (template, resident id, volunteer id). After-commit callbacks never run.
    """

    def __init__(self, db: Database) -> None:  # the same engine and pool: no new connection
        self.url, self.engine, self._sessions = db.url, db.engine, db._sessions
        self._after_commit = []
        self.texts: list[tuple[str, str | None, str | None]] = []

    @contextmanager
    def write(self) -> Iterator[Session]:
        from dispatch.models import Message

        session = self._sessions()
        queued: list[Message] = []

        def _keep(_session: Session, obj: object) -> None:
            if isinstance(obj, Message) and obj.direction == "out":
                queued.append(obj)

        event.listen(session, "pending_to_persistent", _keep)
        try:
            session.connection(execution_options={_WRITE_OPTION: True})
            yield session
            session.flush()
            self.texts += [(m.template, m.resident_id, m.volunteer_id) for m in queued]
        finally:
            session.rollback()
            session.close()


#: The after-commit topic of a transaction that queued a webhook delivery.
WEBHOOKS_TOPIC = "webhooks"


def _record_events(session: Session, _context: Any, _instances: Any) -> None:
    """Every write records the order events it causes, whichever service made it (the webhook
    outbox, :mod:`dispatch.services.webhook_events`), and wakes the sender when one is queued."""
    from dispatch.services.webhook_events import record_order_events

    if record_order_events(session):
        signal(session, WEBHOOKS_TOPIC)


def signal(session: Session, topic: str) -> None:
    """Mark the write transaction of ``session`` as one that ``topic``'s listeners must hear of
    once it commits (see :meth:`Database.after_commit`); nothing happens if it rolls back."""
    session.info.setdefault(_SIGNALS, set()).add(topic)
