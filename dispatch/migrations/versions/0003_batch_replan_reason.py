"""batch.replan_reason: why a re-plan was asked, apart from the failure reason

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 18:40:00.000000

Until now a re-plan request was written into ``batch.reason`` as ``"re-plan: <why>"`` and parsed
back by whoever needed it; ``reason`` now keeps only why a batch failed. Existing requests move to
the new column (``substr(reason, 10)`` drops the 9 characters of ``"re-plan: "`` on SQLite and
PostgreSQL alike); the downgrade writes them back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dispatch.models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replan_reason', sa.Text(), nullable=True))
    op.execute("UPDATE batch SET replan_reason = substr(reason, 10), reason = '' "
               "WHERE reason LIKE 're-plan: %'")


def downgrade() -> None:
    op.execute("UPDATE batch SET reason = 're-plan: ' || replan_reason WHERE replan_reason IS NOT NULL")
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not batch mode: that copies the table,
    # and dropping the old copy fails on the foreign keys of the orders and plans pointing at it.
    op.drop_column('batch', 'replan_reason')
