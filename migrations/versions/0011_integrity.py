"""integrity: one pending report per milestone and department; an append-only audit table

Before the partial unique index is built, duplicates left by racing requests are
resolved: per (milestone, department) the newest pending report (latest
created_at, then highest id) is kept; every older pending one becomes
"superseded" (已作废（重复提交）), keeps its text, evidence and history, and gets an
audit row saying why. Nothing is deleted. A downgrade drops the index and the
triggers but leaves superseded reports as they are.

The audit table refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) through
triggers, whoever the database user is; the README adds the role grants.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PENDING = "state IN ('draft', 'submitted', 'returned')"
APPEND_ONLY = "audit_event is append-only: rows cannot be changed or removed"

report = sa.table(
    "progress_report",
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("version", sa.Integer),
)
audit_event = sa.table(
    "audit_event",
    sa.column("at", sa.DateTime),
    sa.column("user_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.Integer),
    sa.column("milestone_id", sa.Integer),
    sa.column("region_id", sa.Integer),
    sa.column("summary", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""
PG_TRIGGERS = [
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
]
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_event_no_{op_name.lower()} BEFORE {op_name} ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    for op_name in ("UPDATE", "DELETE")
]


def _supersede_duplicates(conn) -> None:
    rows = conn.execute(
        sa.text(
            "SELECT r.id, r.milestone_id, r.department_id, r.state, p.region_id "
            "FROM progress_report r JOIN milestone m ON m.id = r.milestone_id "
            "JOIN plan p ON p.id = m.plan_id "
            f"WHERE r.{PENDING} "
            "ORDER BY r.milestone_id, r.department_id, r.created_at DESC, r.id DESC"
        )
    ).all()
    now = datetime.now(UTC).replace(tzinfo=None)
    kept: dict[tuple[int, int], int] = {}
    for id_, milestone_id, department_id, state, region_id in rows:
        pair = (milestone_id, department_id)
        if pair not in kept:
            kept[pair] = id_
            continue
        conn.execute(
            report.update()
            .where(report.c.id == id_)
            # updated_at stays: the kept report remains the latest one in every listing
            .values(state="superseded", version=report.c.version + 1)
        )
        conn.execute(
            audit_event.insert().values(
                at=now,
                user_id=None,
                action="report.supersede",
                object_type="ProgressReport",
                object_id=id_,
                milestone_id=milestone_id,
                region_id=region_id,
                summary=(
                    "数据库升级：本部门对该里程碑有多份待处理汇报，"
                    f"保留最新一份（编号 {kept[pair]}），此份作废"
                ),
                before={"state": state},
                after={"state": "superseded", "kept_report_id": kept[pair]},
            )
        )


def upgrade():
    conn = op.get_bind()
    _supersede_duplicates(conn)
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.create_index(
            "uq_progress_report_pending",
            ["milestone_id", "department_id"],
            unique=True,
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
    if conn.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    elif conn.dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    elif conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.drop_index("uq_progress_report_pending")
