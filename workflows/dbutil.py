"""Dialect-aware bulk writes for SQLite and PostgreSQL (the two databases we run on)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db

BATCH = 1000


def chunks(items: Sequence, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported database {dialect!r}")


def insert_ignore(model, rows: list[dict], keys: list[str], returning=None) -> list:
    """INSERT … ON CONFLICT (keys) DO NOTHING; with `returning`, the rows actually inserted."""
    out = []
    for part in chunks(rows, BATCH):
        stmt = _insert(model).values(part).on_conflict_do_nothing(index_elements=keys)
        if returning is not None:
            out.extend(tuple(r) for r in db.session.execute(stmt.returning(*returning)))
        else:
            db.session.execute(stmt)
    return out


def upsert(model, row: dict, keys: list[str]) -> None:
    stmt = _insert(model).values(row)
    updates = {k: stmt.excluded[k] for k in row if k not in keys}
    db.session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))
