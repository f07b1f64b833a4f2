"""plan.data_version (bumped with every change that can move the forecast); the data
version and engine version a stored forecast was computed from; indexes for the latest
run of a plan and for the newest approval of a plan's reports

Existing plans start at version 0 and existing runs carry no version, so the first
refresh after the upgrade recomputes every plan once (and stamps its run).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_version", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("engine_version", sa.Integer(), nullable=True))
        batch_op.create_index("ix_forecast_run_latest", ["plan_id", "computed_at", "id"], unique=False)
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_progress_report_approval", ["milestone_id", "state", "reviewed_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_report_approval")
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        batch_op.drop_index("ix_forecast_run_latest")
        batch_op.drop_column("engine_version")
        batch_op.drop_column("data_version")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("data_version")
