"""communities of a region by 街道 / 镇, their assessment against the 25 items of the
community standard (one row per item, reviewed like a progress report), evidence per
item, and the region's rule for counting a 智慧社区 (issue 14)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"]),
        sa.ForeignKeyConstraint(["street_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region_id", "name"),
    )
    op.create_index("ix_community_region_id", "community", ["region_id"])
    op.create_index("ix_community_street_id", "community", ["street_id"])
    op.create_table(
        "community_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("numbers", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index("ix_community_item_community_id", "community_item", ["community_id"])
    op.create_index("ix_community_item_state", "community_item", ["state"])
    op.create_index("ix_community_item_author_id", "community_item", ["author_id"])
    op.create_index("ix_community_item_reviewed_by_id", "community_item", ["reviewed_by_id"])
    op.create_table(
        "community_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=256), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["community_item.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stored_name"),
    )
    op.create_index("ix_community_evidence_item_id", "community_evidence", ["item_id"])
    op.create_index("ix_community_evidence_uploaded_by_id", "community_evidence", ["uploaded_by_id"])
    op.create_table(
        "community_rule",
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("required_items", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"]),
        sa.PrimaryKeyConstraint("region_id"),
    )


def downgrade():
    op.drop_table("community_rule")
    op.drop_index("ix_community_evidence_uploaded_by_id", table_name="community_evidence")
    op.drop_index("ix_community_evidence_item_id", table_name="community_evidence")
    op.drop_table("community_evidence")
    for col in ("reviewed_by_id", "author_id", "state", "community_id"):
        op.drop_index(f"ix_community_item_{col}", table_name="community_item")
    op.drop_table("community_item")
    op.drop_index("ix_community_street_id", table_name="community")
    op.drop_index("ix_community_region_id", table_name="community")
    op.drop_table("community")
