"""training recorded by operators in the console (kept apart from volunteers.csv's column)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 02:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dispatch.models.base

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_record",
        sa.Column("volunteer_id", sa.String(length=32), nullable=False),
        sa.Column("course", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_user_id", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", dispatch.models.base.UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"], ["user.id"], name=op.f("fk_training_record_recorded_by_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteer.id"],
            name=op.f("fk_training_record_volunteer_id_volunteer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_record")),
    )
    with op.batch_alter_table("training_record") as batch:
        batch.create_index(batch.f("ix_training_record_volunteer_id"), ["volunteer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_record") as batch:
        batch.drop_index(batch.f("ix_training_record_volunteer_id"))
    op.drop_table("training_record")
