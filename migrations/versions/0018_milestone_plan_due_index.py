"""milestone (plan_id, due_date, id): a plan's milestones in due order without walking the
whole province's milestones by date (issue 12).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 14:20:00
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_milestone_plan_due", "milestone", ["plan_id", "due_date", "id"])


def downgrade():
    op.drop_index("ix_milestone_plan_due", table_name="milestone")
