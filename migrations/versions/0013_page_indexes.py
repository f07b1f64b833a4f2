"""page indexes: the filters and sorts of the list pages (issue 12, speed at provincial scale)

notification (user, created_at, id) and (user, read_at): the message list and the unread
count shown on every page; forecast_run (plan, as_of): the
run known on a day, per plan (the latest run's index is 0012); indicator_value (indicator, state,
as_of): approved values known on a day and values awaiting review; reminder (slot, id)
and (kind, slot): the admin reminder log's sort and kind filter; outbox_message
(created_at, id): the outbox, newest first.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 06:00:00
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = [
    ("notification", "ix_notification_user_created", ["user_id", "created_at", "id"]),
    ("notification", "ix_notification_user_read", ["user_id", "read_at"]),
    ("forecast_run", "ix_forecast_run_plan_as_of", ["plan_id", "as_of"]),
    ("indicator_value", "ix_indicator_value_indicator_state", ["indicator_id", "state", "as_of"]),
    ("reminder", "ix_reminder_slot", ["slot", "id"]),
    ("reminder", "ix_reminder_kind_slot", ["kind", "slot"]),
    ("outbox_message", "ix_outbox_message_created", ["created_at", "id"]),
]


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
