"""Small write helpers shared by the loader: compare-then-set and link tables."""

from datetime import date, datetime

from sqlalchemy import delete, insert, select

from app.extensions import db


def plain(value):
    """A value as the audit trail's JSON stores it."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def apply(obj, values: dict) -> dict:
    """Set only the fields that differ (so an unchanged row is never written).

    Returns {field: (old, new)} for the fields that changed.
    """
    changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = (old, new)
            setattr(obj, name, new)
    return changes


def sync_links(table, owner_col: str, owner_id: int, other_col: str, wanted: list[int]):
    """Make the link rows of one owner equal `wanted` (in order where the table has
    a position). Returns (old ids, new ids) when something changed, else None."""
    c = table.c
    ordered = "position" in c
    query = select(c[other_col], c.position if ordered else c[other_col]).where(c[owner_col] == owner_id)
    rows = db.session.execute(query).all()
    current = [r[0] for r in sorted(rows, key=lambda r: (r[1], r[0]))]
    target = list(wanted) if ordered else sorted(wanted)
    if not ordered:
        current.sort()
    if current == target:
        return None
    db.session.execute(delete(table).where(c[owner_col] == owner_id))
    if target:
        rows = [{owner_col: owner_id, other_col: other_id} for other_id in target]
        if ordered:
            for position, row in enumerate(rows):
                row["position"] = position
        db.session.execute(insert(table), rows)
    return current, target


def drop_links(table, owner_col: str, owner_id: int) -> None:
    db.session.execute(delete(table).where(table.c[owner_col] == owner_id))
