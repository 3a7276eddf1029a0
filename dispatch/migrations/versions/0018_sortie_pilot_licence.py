"""the pilot's skill certificate number (技能証明書番号) on the sortie log, for the flight log

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 02:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sortie_log") as batch:
        batch.add_column(sa.Column("pilot_licence", sa.String(length=40), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sortie_log") as batch:
        batch.drop_column("pilot_licence")
