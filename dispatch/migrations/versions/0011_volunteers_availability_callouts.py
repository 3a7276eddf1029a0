"""volunteers: declared availability per day, call-outs to join a batch's plan, completed
training; orders that need a trained courier

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callout',
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('volunteer_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('shift_start', sa.DateTime(), nullable=False),
    sa.Column('shift_end', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_callout_batch_id_batch'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                            name=op.f('fk_callout_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callout')),
    sa.UniqueConstraint('batch_id', 'volunteer_id', name=op.f('uq_callout_batch_id_volunteer_id'))
    )
    with op.batch_alter_table('callout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callout_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callout_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callout_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_callout_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('availability',
    sa.Column('volunteer_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start', sa.Time(), nullable=True),
    sa.Column('end', sa.Time(), nullable=True),
    sa.Column('off', sa.Boolean(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_availability_message_id_message')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                            name=op.f('fk_availability_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability')),
    sa.UniqueConstraint('volunteer_id', 'day', name=op.f('uq_availability_volunteer_id_day'))
    )
    with op.batch_alter_table('availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_availability_volunteer_id'), ['volunteer_id'], unique=False)

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_training', sa.String(length=16), server_default='',
                                      nullable=False))

    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('training', sa.Text(), server_default='[]', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_column('training')

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('needs_training')

    with op.batch_alter_table('availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_availability_day'))

    op.drop_table('availability')
    with op.batch_alter_table('callout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callout_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_callout_state'))
        batch_op.drop_index(batch_op.f('ix_callout_expires_at'))
        batch_op.drop_index(batch_op.f('ix_callout_batch_id'))

    op.drop_table('callout')
