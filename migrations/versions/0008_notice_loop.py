"""notice loop: 督办 states (交办 → 签收 → 反馈 → 复核 → 办结), answer rounds, evidence on answers

Existing notices: answered ones become "answered" (the issuer has not reviewed them
yet) with their answer as round 1; the rest "issued".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="issued"))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_foreign_key(
            batch_op.f("fk_notice_acknowledged_by_id_user"), "user", ["acknowledged_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_notice_reviewed_by_id_user"), "user", ["reviewed_by_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_notice_state"), ["state"], unique=False)

    op.create_table(
        "notice_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=False),
        sa.Column("replied_by_id", sa.Integer(), nullable=False),
        sa.Column("replied_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], name=op.f("fk_notice_round_notice_id_notice")),
        sa.ForeignKeyConstraint(
            ["replied_by_id"], ["user.id"], name=op.f("fk_notice_round_replied_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["user.id"], name=op.f("fk_notice_round_reviewed_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_round")),
        sa.UniqueConstraint("notice_id", "number", name=op.f("uq_notice_round_notice_id_number")),
    )
    with op.batch_alter_table("notice_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_round_notice_id"), ["notice_id"], unique=False)

    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_evidence_notice_id_notice"), "notice", ["notice_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_evidence_notice_id"), ["notice_id"], unique=False)

    op.execute("UPDATE notice SET state = 'answered' WHERE replied_at IS NOT NULL")
    op.execute(
        "INSERT INTO notice_round (notice_id, number, reply_text, replied_by_id, replied_at) "
        "SELECT id, 1, COALESCE(reply_text, ''), COALESCE(replied_by_id, issued_by_id), replied_at "
        "FROM notice WHERE replied_at IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_notice_id"))
        batch_op.drop_constraint(batch_op.f("fk_evidence_notice_id_notice"), type_="foreignkey")
        batch_op.drop_column("notice_id")
    with op.batch_alter_table("notice_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_round_notice_id"))
    op.drop_table("notice_round")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_state"))
        batch_op.drop_constraint(batch_op.f("fk_notice_reviewed_by_id_user"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_notice_acknowledged_by_id_user"), type_="foreignkey")
        for column in (
            "version",
            "closed_at",
            "review_note",
            "reviewed_by_id",
            "reviewed_at",
            "acknowledged_by_id",
            "acknowledged_at",
            "state",
        ):
            batch_op.drop_column(column)
