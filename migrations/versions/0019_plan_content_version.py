"""plan.content_version: bumped with every change of a row the plan's pages show, so a
kept section is checked with one column instead of scanning every table (issue 12).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan") as batch:
        batch.add_column(sa.Column("content_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("content_version")
