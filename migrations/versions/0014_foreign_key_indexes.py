"""foreign key indexes: the second column of the link tables and the foreign keys the pages
filter by (issue 12). PostgreSQL does not index a foreign key by itself; at 1,000 areas a
lookup by department in milestone_co_department scanned 52,000 rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 06:45:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = [
    ("milestone_co_department", "department_id"),
    ("node_department", "department_id"),
    ("indicator_department", "department_id"),
    ("milestone_indicator", "indicator_id"),
    ("indicator_value", "entered_by_id"),
    ("notice", "issued_by_id"),
    ("region", "parent_id"),
    ("plan_node", "leader_id"),
    ("reminder", "report_id"),
    ("reminder", "notice_id"),
    ("progress_report", "author_id"),
]


def upgrade():
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade():
    for table, column in reversed(INDEXES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
