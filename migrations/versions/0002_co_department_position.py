"""co-department order: milestone_co_department.position

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Plans name co-departments in an order (配合/责任); existing rows get 0.
    with op.batch_alter_table('milestone_co_department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('milestone_co_department', schema=None) as batch_op:
        batch_op.drop_column('position')
