"""sortie log: pre-flight checklist and the record of each drone sortie (issue 13, item 2)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 18:34:11.584597
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dispatch.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sortie_log',
    sa.Column('route_id', sa.String(length=32), nullable=False),
    sa.Column('drone_id', sa.String(length=32), nullable=False),
    sa.Column('payload_kg', sa.Float(), nullable=True),
    sa.Column('payload_limit_kg', sa.Float(), nullable=False),
    sa.Column('battery_checked', sa.Boolean(), nullable=False),
    sa.Column('weather_checked', sa.Boolean(), nullable=False),
    sa.Column('permit_ref', sa.String(length=200), nullable=False),
    sa.Column('permit_zones', dispatch.models.base.JSONText(), nullable=False),
    sa.Column('checked_by', sa.String(length=80), nullable=False),
    sa.Column('taken_off_at', dispatch.models.base.UTCDateTime(), nullable=True),
    sa.Column('landed_at', dispatch.models.base.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('aborted_at', dispatch.models.base.UTCDateTime(), nullable=True),
    sa.Column('abort_reason', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['drone_id'], ['drone.id'], name=op.f('fk_sortie_log_drone_id_drone')),
    sa.ForeignKeyConstraint(['route_id'], ['route.id'], name=op.f('fk_sortie_log_route_id_route'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sortie_log')),
    sa.UniqueConstraint('route_id', name=op.f('uq_sortie_log_route_id'))
    )
    with op.batch_alter_table('sortie_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sortie_log_drone_id'), ['drone_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sortie_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sortie_log_drone_id'))

    op.drop_table('sortie_log')
