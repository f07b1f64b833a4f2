"""Dialect-aware bulk writes for SQLite and PostgreSQL (the two databases we run on)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


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
    """INSERT … ON CONFLICT (keys) DO NOTHING; with `returning`, the rows actually inserted.

    Executed as an executemany: SQLAlchemy batches it into multi-row statements
    ("insertmanyvalues") with one cached compilation.
    """
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        return _pg_insert_ignore(model, rows, keys, returning)
    stmt = _insert(model).on_conflict_do_nothing(index_elements=keys)
    if returning is None:
        db.session.execute(stmt, rows)
        return []
    result = db.session.execute(stmt.returning(*returning, sort_by_parameter_order=True), rows)
    return [tuple(r) for r in result]


def _pg_insert_ignore(model, rows, keys, returning):
    """PostgreSQL: one INSERT … SELECT FROM unnest(arrays) — a handful of parameters
    however many rows, instead of thousands of placeholders to convert and bind."""
    table = model.__table__
    columns = list(rows[0])
    casts = ", ".join(
        f"CAST(:c{i} AS {table.c[name].type.compile(dialect=postgresql.dialect())}[])"
        for i, name in enumerate(columns)
    )
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts}) "
        f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    )
    if returning is not None:
        sql += " RETURNING " + ", ".join(c.name for c in returning)
    out = []
    for part in chunks(rows, 20000):
        params = {f"c{i}": [r[name] for r in part] for i, name in enumerate(columns)}
        result = db.session.execute(text(sql), params)
        if returning is not None:
            out.extend(tuple(r) for r in result)
    return out


def upsert(model, row: dict, keys: list[str]) -> None:
    stmt = _insert(model).values(row)
    updates = {k: stmt.excluded[k] for k in row if k not in keys}
    db.session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))
