"""proxies: the consent record (who, how, what it covers, who recorded it, revocation);
standing orders with their occurrences; hub closures (issue 15)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dispatch.models.base


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hub_closure',
    sa.Column('hub_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_hub_closure_created_by_user')),
    sa.ForeignKeyConstraint(['hub_id'], ['hub.id'], name=op.f('fk_hub_closure_hub_id_hub'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hub_closure')),
    sa.UniqueConstraint('hub_id', 'day', name=op.f('uq_hub_closure_hub_id_day'))
    )
    with op.batch_alter_table('hub_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_closure_hub_id'), ['hub_id'], unique=False)

    op.create_table('standing_order',
    sa.Column('resident_id', sa.String(length=32), nullable=False),
    sa.Column('items', dispatch.models.base.JSONText(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('every_weeks', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('part', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('proxy_id', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['proxy_id'], ['proxy.id'], name=op.f('fk_standing_order_proxy_id_proxy')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_standing_order_resident_id_resident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_standing_order_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_order'))
    )
    with op.batch_alter_table('standing_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standing_order_resident_id'), ['resident_id'], unique=False)

    op.create_table('standing_occurrence',
    sa.Column('standing_order_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', dispatch.models.base.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_standing_occurrence_order_id_order')),
    sa.ForeignKeyConstraint(['standing_order_id'], ['standing_order.id'], name=op.f('fk_standing_occurrence_standing_order_id_standing_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_occurrence')),
    sa.UniqueConstraint('standing_order_id', 'day', name=op.f('uq_standing_occurrence_standing_order_id_day'))
    )
    with op.batch_alter_table('standing_occurrence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standing_occurrence_standing_order_id'), ['standing_order_id'], unique=False)

    with op.batch_alter_table('proxy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consented_by', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('consent_method', sa.String(length=16), server_default='in_person', nullable=False))
        batch_op.add_column(sa.Column('covers_ordering', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('covers_receiving', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('recorded_by_user_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', dispatch.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_user_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_proxy_revoked_by_user_id_user'), 'user', ['revoked_by_user_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_proxy_recorded_by_user_id_user'), 'user', ['recorded_by_user_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('proxy', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proxy_recorded_by_user_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_proxy_revoked_by_user_id_user'), type_='foreignkey')
        batch_op.drop_column('revoked_by_user_id')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('recorded_by_user_id')
        batch_op.drop_column('covers_receiving')
        batch_op.drop_column('covers_ordering')
        batch_op.drop_column('consent_method')
        batch_op.drop_column('consented_by')

    with op.batch_alter_table('standing_occurrence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standing_occurrence_standing_order_id'))

    op.drop_table('standing_occurrence')
    with op.batch_alter_table('standing_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standing_order_resident_id'))

    op.drop_table('standing_order')
    with op.batch_alter_table('hub_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hub_closure_hub_id'))

    op.drop_table('hub_closure')
