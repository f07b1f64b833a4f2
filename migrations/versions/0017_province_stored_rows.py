"""forecast_run headline columns (score, stars, P(target), median, …) filled from each stored
result, and plan_status_count (a plan's 三色 counts for a data version and a day): the
province view sorts and pages on them in SQL instead of reading every result (issue 12).

Existing runs are backfilled from their stored result; plan_status_count starts empty (the
hourly refresh and the pages fill it).

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-01 10:40:00
"""

import json
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = [
    ("score", sa.Float()),
    ("stars", sa.Integer()),
    ("p_target", sa.Float()),
    ("p50", sa.Float()),
    ("median_stars", sa.Integer()),
    ("target_stars", sa.Integer()),
    ("headline_as_of", sa.Date()),
    ("headline_target_date", sa.Date()),
]
BATCH = 500


def _median_stars(probabilities):
    below = 0.0
    for stars in range(len(probabilities) - 1, -1, -1):
        below += probabilities[stars]
        if below >= 0.5 - 1e-9:
            return stars
    return 0


def _day(value, fallback):
    return date.fromisoformat(str(value or fallback)[:10])


def _headline(result, as_of, target_date):
    """The same values as app.models.forecast.headline_columns (kept here: a migration must
    not change when the app does)."""
    if isinstance(result, str):
        result = json.loads(result)
    result = result or {}
    fc = result.get("forecast") or {}
    if not (all(k in fc for k in ("p_target", "p50", "probabilities")) and "current" in result):
        return None
    return {
        "score": result["current"]["total"],
        "stars": result["current"]["stars"],
        "p_target": fc["p_target"],
        "p50": fc["p50"],
        "median_stars": _median_stars(fc["probabilities"]),
        "target_stars": int(result.get("target_stars") or 0),
        "headline_as_of": _day(result.get("as_of"), as_of),
        "headline_target_date": _day(result.get("target_date"), target_date),
    }


def upgrade():
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "plan_status_count",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("data_version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("yellow", sa.Integer(), nullable=False),
        sa.Column("blue", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    bind = op.get_bind()
    run = sa.table(
        "forecast_run",
        sa.column("id", sa.Integer),
        sa.column("as_of", sa.Date),
        sa.column("target_date", sa.Date),
        sa.column("result", sa.JSON),
        *(sa.column(name, type_) for name, type_ in COLUMNS),
    )
    last = 0
    while True:  # in id batches: a province has thousands of runs with large results
        rows = bind.execute(
            sa.select(run.c.id, run.c.as_of, run.c.target_date, run.c.result)
            .where(run.c.id > last)
            .order_by(run.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        updates = []
        for row in rows:
            values = _headline(row.result, row.as_of, row.target_date)
            if values is not None:
                updates.append({"run_id": row.id, **{f"v_{k}": v for k, v in values.items()}})
        if updates:
            bind.execute(
                run.update()
                .where(run.c.id == sa.bindparam("run_id"))
                .values({name: sa.bindparam(f"v_{name}") for name, _ in COLUMNS}),
                updates,
            )


def downgrade():
    op.drop_table("plan_status_count")
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
