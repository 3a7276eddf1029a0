"""community-bus trips that carry parcels; a route may be a bus leg

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dispatch.models.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bus_trip',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('region_id', sa.String(length=32), nullable=False),
        sa.Column('code', sa.String(length=128), nullable=False),
        sa.Column('route_code', sa.String(length=128), nullable=False),
        sa.Column('route_name', sa.String(length=200), nullable=False),
        sa.Column('max_parcels', sa.Integer(), nullable=False),
        sa.Column('max_kg', sa.Float(), nullable=False),
        sa.Column('agreement', sa.Text(), nullable=False),
        sa.Column('service', dispatch.models.base.JSONText(), nullable=False),
        sa.Column('calls', dispatch.models.base.JSONText(), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_bus_trip_region_id_region'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bus_trip')),
        sa.UniqueConstraint('region_id', 'code', name=op.f('uq_bus_trip_region_id_code')),
    )
    op.create_index(op.f('ix_bus_trip_region_id'), 'bus_trip', ['region_id'], unique=False)
    with op.batch_alter_table('route') as batch:
        batch.add_column(sa.Column('bus_trip_id', sa.String(length=32), nullable=True))
        batch.create_foreign_key(batch.f('fk_route_bus_trip_id_bus_trip'), 'bus_trip', ['bus_trip_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('route') as batch:
        batch.drop_constraint(batch.f('fk_route_bus_trip_id_bus_trip'), type_='foreignkey')
        batch.drop_column('bus_trip_id')
    op.drop_index(op.f('ix_bus_trip_region_id'), table_name='bus_trip')
    op.drop_table('bus_trip')
