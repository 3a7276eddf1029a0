"""Database schema management through Alembic (``hakobu db upgrade``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from dispatch.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"

#: Tables in the application database that are not ours to migrate: APScheduler's job store
#: creates its own, and procrastinate's schema (migration 0013) is the task engine's.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})
FOREIGN_PREFIXES = ("procrastinate_",)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's filter: compare and autogenerate only Hakobu's own tables (and their indexes)."""
    table = getattr(getattr(obj, "table", None), "name", None) if type_ != "table" else name
    return not (table and (table in FOREIGN_TABLES or table.startswith(FOREIGN_PREFIXES)))


def alembic_config(database: Database) -> Config:
    """An Alembic config pointing at our migrations and ``database`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return cfg


@contextmanager
def _migration_connection(database: Database) -> Iterator[Connection]:
    """A connection in one transaction for a migration, with SQLite's foreign keys checked at the end.

    Batch mode rebuilds a SQLite table (copy, drop, rename) to alter it; with ``foreign_keys=ON``
    dropping a table that other rows point at (``route`` under ``stop``) fails on any database
    with data. SQLite's own procedure for such changes: foreign keys off outside the transaction,
    ``foreign_key_check`` before commit (so a migration that broke a reference rolls back), on again.
    """
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # autocommit here: a pragma inside BEGIN is ignored
        try:
            with connection.begin():
                yield connection
                if raw is not None:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def migrate(database: Database, revision: str = "head", *, down: bool = False) -> None:
    """Bring the schema up (default) or ``down`` to ``revision``."""
    with _migration_connection(database) as connection:
        cfg = alembic_config(database)
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    migrate(database, revision)


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
