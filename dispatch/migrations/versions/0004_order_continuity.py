"""order continuity: days carried over, the day the resident was told, why parked

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order') as batch:
        batch.add_column(sa.Column('carried_over', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('told_day', sa.Date(), nullable=True))
        batch.add_column(sa.Column('parked_reason', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('order') as batch:
        batch.drop_column('parked_reason')
        batch.drop_column('told_day')
        batch.drop_column('carried_over')
