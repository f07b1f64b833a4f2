"""reminders: policy, holidays, user settings, deliveries, outbox, job state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 16:46:26.588915

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('holiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('workday', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday')),
    sa.UniqueConstraint('day', name=op.f('uq_holiday_day'))
    )
    op.create_table('job_state',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_state'))
    )
    op.create_table('reminder_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('before_days', sa.JSON(), nullable=False),
    sa.Column('overdue_every_days', sa.Integer(), nullable=False),
    sa.Column('escalate_overdue_days', sa.Integer(), nullable=False),
    sa.Column('escalate_returned_days', sa.Integer(), nullable=False),
    sa.Column('escalate_notices', sa.Boolean(), nullable=False),
    sa.Column('include_co_departments', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_reminder_policy_plan_id_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_policy')),
    sa.UniqueConstraint('plan_id', name=op.f('uq_reminder_policy_plan_id'))
    )
    op.create_table('notification_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.Column('webhook', sa.Boolean(), nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_setting_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_setting')),
    sa.UniqueConstraint('user_id', name=op.f('uq_notification_setting_user_id'))
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=256), nullable=False),
    sa.Column('subject', sa.String(length=256), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_outbox_message_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_user_id'), ['user_id'], unique=False)

    op.create_table('reminder_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reminder_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('target', sa.String(length=256), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['reminder_id'], ['reminder.id'], name=op.f('fk_reminder_delivery_reminder_id_reminder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_delivery')),
    sa.UniqueConstraint('reminder_id', 'channel', name=op.f('uq_reminder_delivery_reminder_id_channel'))
    )
    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_delivery_claim'), ['claim'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_delivery_reminder_id'), ['reminder_id'], unique=False)
        batch_op.create_index('ix_reminder_delivery_status_next', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('webhook_kind', sa.String(length=16), nullable=True))

    with op.batch_alter_table('plan_node', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_plan_node_leader_id_user'), 'user', ['leader_id'], ['id'])

    # Nothing wrote reminders before this revision, so the new NOT NULL columns meet an empty table.
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_on', sa.Date(), nullable=False))
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=False))
        batch_op.add_column(sa.Column('days', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('report_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('cancelled_reason', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_reminder_status_send_on', ['status', 'send_on'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reminder_notice_id_notice'), 'notice', ['notice_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_reminder_report_id_progress_report'), 'progress_report', ['report_id'], ['id'])
        batch_op.drop_column('sent_at')
        batch_op.drop_column('channel')



def downgrade():
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.VARCHAR(length=16), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DATETIME(), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_reminder_report_id_progress_report'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_reminder_notice_id_notice'), type_='foreignkey')
        batch_op.drop_index('ix_reminder_status_send_on')
        batch_op.drop_column('cancelled_reason')
        batch_op.drop_column('status')
        batch_op.drop_column('notice_id')
        batch_op.drop_column('report_id')
        batch_op.drop_column('days')
        batch_op.drop_column('due_date')
        batch_op.drop_column('send_on')

    with op.batch_alter_table('plan_node', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plan_node_leader_id_user'), type_='foreignkey')
        batch_op.drop_column('leader_id')

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('webhook_kind')
        batch_op.drop_column('webhook_url')

    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_delivery_status_next')
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_reminder_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_claim'))

    op.drop_table('reminder_delivery')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_user_id'))

    op.drop_table('outbox_message')
    op.drop_table('notification_setting')
    op.drop_table('reminder_policy')
    op.drop_table('job_state')
    op.drop_table('holiday')
