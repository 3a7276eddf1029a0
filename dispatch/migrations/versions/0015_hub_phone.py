"""hubs: the phone number residents call or text (hubs.geojson ``phone``)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('hub') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=20), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('hub') as batch:
        batch.drop_column('phone')
