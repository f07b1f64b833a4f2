"""status thresholds: a plan's 三色 rules (days before due that turn 黄, points behind 序时进度)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reminder_policy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_soon_days", sa.Integer(), nullable=False, server_default="7"))
        batch_op.add_column(sa.Column("status_behind_points", sa.Integer(), nullable=False, server_default="20"))


def downgrade():
    with op.batch_alter_table("reminder_policy", schema=None) as batch_op:
        batch_op.drop_column("status_behind_points")
        batch_op.drop_column("status_soon_days")
