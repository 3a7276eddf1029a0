"""integrations: API tokens, webhook endpoints, order events and their deliveries; orders placed
through the API name their integration and its reference

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'integration',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_integration_created_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_integration')),
        sa.UniqueConstraint('name', name=op.f('uq_integration_name')),
    )
    op.create_table(
        'integration_hub',
        sa.Column('integration_id', sa.String(length=32), nullable=False),
        sa.Column('hub_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['hub_id'], ['hub.id'], name=op.f('fk_integration_hub_hub_id_hub'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['integration_id'], ['integration.id'],
                                name=op.f('fk_integration_hub_integration_id_integration'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('integration_id', 'hub_id', name=op.f('pk_integration_hub')),
    )
    op.create_table(
        'api_token',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('integration_id', sa.String(length=32), nullable=False),
        sa.Column('secret_hash', sa.String(length=128), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['integration_id'], ['integration.id'],
                                name=op.f('fk_api_token_integration_id_integration'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_api_token_secret_hash')),
    )
    op.create_index(op.f('ix_api_token_integration_id'), 'api_token', ['integration_id'])
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('integration_id', sa.String(length=32), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['integration_id'], ['integration.id'],
                                name=op.f('fk_webhook_endpoint_integration_id_integration'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint')),
    )
    op.create_index(op.f('ix_webhook_endpoint_integration_id'), 'webhook_endpoint', ['integration_id'])
    op.create_table(
        'order_event',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('order_id', sa.String(length=32), nullable=False),
        sa.Column('hub_id', sa.String(length=32), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['hub_id'], ['hub.id'], name=op.f('fk_order_event_hub_id_hub')),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_order_event_order_id_order'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_event')),
    )
    op.create_index('ix_order_event_hub_id_recorded_at', 'order_event', ['hub_id', 'recorded_at'])
    op.create_index(op.f('ix_order_event_order_id'), 'order_event', ['order_id'])
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('event_id', sa.String(length=32), nullable=False),
        sa.Column('endpoint_id', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'],
                                name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['order_event.id'],
                                name=op.f('fk_webhook_delivery_event_id_order_event'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
        sa.UniqueConstraint('event_id', 'endpoint_id', name=op.f('uq_webhook_delivery_event_id_endpoint_id')),
    )
    op.create_index(op.f('ix_webhook_delivery_endpoint_id'), 'webhook_delivery', ['endpoint_id'])
    op.create_index('ix_webhook_delivery_state_next_attempt_at', 'webhook_delivery',
                    ['state', 'next_attempt_at'])
    with op.batch_alter_table('order') as batch:
        batch.add_column(sa.Column('integration_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('external_ref', sa.String(length=100), nullable=True))
        batch.create_foreign_key(op.f('fk_order_integration_id_integration'), 'integration',
                                 ['integration_id'], ['id'])
        batch.create_unique_constraint(op.f('uq_order_integration_id_external_ref'),
                                       ['integration_id', 'external_ref'])


def downgrade() -> None:
    with op.batch_alter_table('order') as batch:
        batch.drop_constraint(op.f('uq_order_integration_id_external_ref'), type_='unique')
        batch.drop_constraint(op.f('fk_order_integration_id_integration'), type_='foreignkey')
        batch.drop_column('external_ref')
        batch.drop_column('integration_id')
    op.drop_table('webhook_delivery')
    op.drop_table('order_event')
    op.drop_table('webhook_endpoint')
    op.drop_table('api_token')
    op.drop_table('integration_hub')
    op.drop_table('integration')
