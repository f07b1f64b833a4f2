"""stored forecasts, step costs, indicator value review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 16:42:41.341489

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('forecast_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('data_time', sa.DateTime(), nullable=True),
    sa.Column('data_key', sa.String(length=64), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_forecast_run_plan_id_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_run')),
    sa.UniqueConstraint('plan_id', 'data_key', name=op.f('uq_forecast_run_plan_id_data_key'))
    )
    with op.batch_alter_table('forecast_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_run_plan_id'), ['plan_id'], unique=False)

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step_costs', sa.JSON(), nullable=True))

    # Indicator values are reviewed like reports: a return reason, optimistic locking.
    with op.batch_alter_table('indicator_value', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))



def downgrade():
    with op.batch_alter_table('indicator_value', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('review_note')

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('step_costs')

    with op.batch_alter_table('forecast_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forecast_run_plan_id'))

    op.drop_table('forecast_run')
