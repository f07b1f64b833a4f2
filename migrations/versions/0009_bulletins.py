"""bulletins: each issued 周报通报 with its content as issued (one weekly per plan and week)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bulletin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name="fk_bulletin_plan_id_plan"),
        sa.ForeignKeyConstraint(["issued_by_id"], ["user.id"], name="fk_bulletin_issued_by_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_bulletin"),
        sa.UniqueConstraint("request_id", name="uq_bulletin_request_id"),
    )
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.create_index("ix_bulletin_plan_id", ["plan_id"], unique=False)
        batch_op.create_index(
            "uq_bulletin_weekly",
            ["plan_id", "kind", "week"],
            unique=True,
            sqlite_where=sa.text("kind = 'weekly'"),
            postgresql_where=sa.text("kind = 'weekly'"),
        )


def downgrade():
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.drop_index("uq_bulletin_weekly")
        batch_op.drop_index("ix_bulletin_plan_id")
    op.drop_table("bulletin")
