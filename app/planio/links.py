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


CHUNK = 1000  # ids per IN (...): far below SQLite's and PostgreSQL's parameter limits


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def sync_links(table, owner_col: str, owner_id: int, other_col: str, wanted: list[int]):
    """Make the link rows of one owner equal `wanted` (in order where the table has
    a position). Returns (old ids, new ids) when something changed, else None."""
    return sync_links_many(table, owner_col, other_col, {owner_id: wanted}).get(owner_id)


def sync_links_many(table, owner_col: str, other_col: str, wanted: dict[int, list[int]]) -> dict:
    """sync_links for many owners at once: one read per chunk of owners, then one
    delete and one insert for the owners whose lists changed (a plan of thousands of
    milestones would otherwise cost three statements per milestone).

    Returns {owner id: (old ids, new ids)} for the owners that changed."""
    c = table.c
    ordered = "position" in c
    current: dict[int, list] = {owner: [] for owner in wanted}
    for chunk in _chunks(list(wanted)):
        order = c.position if ordered else c[other_col]
        query = select(c[owner_col], c[other_col], order).where(c[owner_col].in_(chunk))
        for owner, other, rank in db.session.execute(query):
            current[owner].append((rank, other))
    changed = {}
    for owner, want in wanted.items():
        now = [other for _, other in sorted(current[owner])]
        target = list(want) if ordered else sorted(want)
        if now != target:
            changed[owner] = (now, target)
    if not changed:
        return changed
    for chunk in _chunks(list(changed)):
        db.session.execute(delete(table).where(c[owner_col].in_(chunk)))
    rows = []
    for owner, (_, target) in changed.items():
        for position, other_id in enumerate(target):
            row = {owner_col: owner, other_col: other_id}
            if ordered:
                row["position"] = position
            rows.append(row)
    if rows:
        db.session.execute(insert(table), rows)
    return changed


def drop_links(table, owner_col: str, owner_id: int) -> None:
    db.session.execute(delete(table).where(table.c[owner_col] == owner_id))
