"""The audit table is append-only in the database itself: a row can be added and
read, never changed or removed (triggers from migration 0011, on SQLite and
PostgreSQL); the suite's own cleanup still empties it between tests."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app import audit
from app.extensions import db
from app.models import AuditEvent, User
from tests.factories import build_world


@pytest.fixture
def event_id(ctx):
    world = build_world()
    user = db.session.get(User, world["admin"])
    event = audit.record(user, "user.edit", user, "修改用户 admin")
    db.session.commit()
    return event.id


def _refused(statement: str, **params) -> str:
    db.session.remove()  # its open transaction would hold a lock TRUNCATE waits for
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        conn.execute(text(statement), params)
    return str(caught.value)


def test_insert_and_select_work(event_id):
    assert db.session.get(AuditEvent, event_id).summary == "修改用户 admin"


def test_update_is_refused(event_id):
    message = _refused("UPDATE audit_event SET summary = '改写' WHERE id = :id", id=event_id)
    assert "append-only" in message
    db.session.expire_all()
    assert db.session.get(AuditEvent, event_id).summary == "修改用户 admin"


def test_update_through_the_orm_is_refused(event_id):
    event = db.session.get(AuditEvent, event_id)
    event.summary = "改写"
    with pytest.raises(DBAPIError):
        db.session.commit()
    db.session.rollback()


def test_delete_is_refused(event_id):
    assert "append-only" in _refused("DELETE FROM audit_event WHERE id = :id", id=event_id)
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 1


def test_truncate_is_refused_on_postgresql(event_id):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (DELETE is refused, see above)")
    assert "append-only" in _refused("TRUNCATE audit_event CASCADE")
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 1


def test_nothing_in_the_application_changes_or_removes_audit_rows():
    """The triggers make any such code fail at once; this keeps it from being written."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    pattern = re.compile(
        r"(update|delete)\(\s*AuditEvent|AuditEvent\)\.(update|delete)|audit_event\s+(set|where)", re.I
    )
    offenders = [
        str(path.relative_to(root))
        for folder in ("app", "workflows", "scripts")
        for path in (root / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_cleanup_between_tests_empties_the_table(app, event_id):
    from tests.conftest import empty_tables

    empty_tables()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0
    # ... and the triggers are back afterwards.
    db.session.add(AuditEvent(action="x", object_type="x", summary="x"))
    db.session.commit()
    assert "append-only" in _refused("DELETE FROM audit_event")
