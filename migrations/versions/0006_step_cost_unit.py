"""step cost unit: the unit (人天 / 万元) the plan office prices level steps in

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

The unit the plan office prices level steps in.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_cost_unit", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("step_cost_unit")
