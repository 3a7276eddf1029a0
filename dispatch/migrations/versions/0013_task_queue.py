"""task queue: procrastinate's tables and functions (PostgreSQL only; SQLite has the in-process executor)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 01:00:00

The schema is procrastinate's own (``procrastinate.schema.SchemaManager.get_schema()`` of the
version pinned in pyproject.toml), applied in the application's schema so that the task queue
lives and is backed up with the data it works on. A later procrastinate version that changes its
schema gets its own revision with procrastinate's migration script for that version.
"""

from __future__ import annotations

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ("procrastinate_periodic_defers", "procrastinate_events", "procrastinate_jobs",
          "procrastinate_workers")
TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # The raw driver connection: the script has many statements and PL/pgSQL ``%`` placeholders.
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    functions = bind.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND starts_with(p.proname, 'procrastinate_')").scalars().all()
    for function in functions:
        op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    for type_ in TYPES:
        op.execute(f"DROP TYPE IF EXISTS {type_} CASCADE")
