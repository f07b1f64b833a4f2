"""quantity-true links: indicator parts, part conditions of the target cells, and the
standard link's quantity, unit and part

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00

Reviewed by hand: only new nullable columns on `indicator`; `standard_indicator`
stays. Direct entries of the standard (key std-N, table 标准直填) were created with
the standard indicator's name and unit, so those are their link's quantity and unit.
Plan indicators keep a bare number until the plan files are loaded again (the
loader fills quantity and unit, and refuses links that do not match).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = [
    ('parts', sa.JSON()),
    ('four_star_part', sa.String(length=32)),
    ('four_star_and', sa.JSON()),
    ('five_star_part', sa.String(length=32)),
    ('five_star_and', sa.JSON()),
    ('standard_quantity', sa.String(length=256)),
    ('standard_unit', sa.String(length=32)),
    ('standard_part', sa.String(length=32)),
]


def upgrade():
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.execute(
        "UPDATE indicator SET standard_quantity = name, standard_unit = unit "
        "WHERE table_name = '标准直填' AND key LIKE 'std-%' AND standard_indicator IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
