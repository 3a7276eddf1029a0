"""permits (許可・承認), weather readings and drone weather limits, the flight log's fields
(issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 00:56:18.610111
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dispatch.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('permit',
    sa.Column('region_id', sa.String(length=32), nullable=False),
    sa.Column('hub_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('categories', dispatch.models.base.JSONText(), nullable=False),
    sa.Column('drones', dispatch.models.base.JSONText(), nullable=False),
    sa.Column('pilots', dispatch.models.base.JSONText(), nullable=False),
    sa.Column('zones', dispatch.models.base.JSONText(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hub.id'], name=op.f('fk_permit_hub_id_hub')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_permit_region_id_region'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit')),
    sa.UniqueConstraint('region_id', 'number', name=op.f('uq_permit_region_id_number'))
    )
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_hub_id'), ['hub_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_region_id'), ['region_id'], unique=False)

    op.create_table('weather_reading',
    sa.Column('hub_id', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('starts_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('ends_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('wind_ms', sa.Float(), nullable=True),
    sa.Column('gust_ms', sa.Float(), nullable=True),
    sa.Column('precip_mmh', sa.Float(), nullable=True),
    sa.Column('temp_c', sa.Float(), nullable=True),
    sa.Column('visibility_m', sa.Float(), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hub.id'], name=op.f('fk_weather_reading_hub_id_hub'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weather_reading'))
    )
    with op.batch_alter_table('weather_reading', schema=None) as batch_op:
        batch_op.create_index('ix_weather_reading_hub_period', ['hub_id', 'starts_at'], unique=False)

    with op.batch_alter_table('drone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('max_wind_ms', sa.Float(), nullable=False, server_default='10'))
        batch_op.add_column(sa.Column('max_gust_ms', sa.Float(), nullable=False, server_default='15'))
        batch_op.add_column(sa.Column('max_precip_mmh', sa.Float(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('min_temp_c', sa.Float(), nullable=False, server_default='-10'))
        batch_op.add_column(sa.Column('min_visibility_m', sa.Float(), nullable=False, server_default='1000'))

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flight_notes', dispatch.models.base.JSONText(), nullable=False, server_default='[]'))

    with op.batch_alter_table('route', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permits', dispatch.models.base.JSONText(), nullable=False, server_default='[]'))

    with op.batch_alter_table('sortie_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pilot', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('safety_notes', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('defects', sa.Text(), nullable=False, server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('sortie_log', schema=None) as batch_op:
        batch_op.drop_column('defects')
        batch_op.drop_column('safety_notes')
        batch_op.drop_column('pilot')

    with op.batch_alter_table('route', schema=None) as batch_op:
        batch_op.drop_column('permits')

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('flight_notes')

    with op.batch_alter_table('drone', schema=None) as batch_op:
        batch_op.drop_column('min_visibility_m')
        batch_op.drop_column('min_temp_c')
        batch_op.drop_column('max_precip_mmh')
        batch_op.drop_column('max_gust_ms')
        batch_op.drop_column('max_wind_ms')
        batch_op.drop_column('registration')

    with op.batch_alter_table('weather_reading', schema=None) as batch_op:
        batch_op.drop_index('ix_weather_reading_hub_period')

    op.drop_table('weather_reading')
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_region_id'))
        batch_op.drop_index(batch_op.f('ix_permit_hub_id'))

    op.drop_table('permit')
