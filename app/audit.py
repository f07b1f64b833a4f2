"""Audit helper: adds an AuditEvent to the current transaction (no commit)."""

from datetime import date, datetime

from app.extensions import db
from app.models import AuditEvent


def _plain(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def snapshot(obj, fields: list[str]) -> dict:
    return {f: _plain(getattr(obj, f)) for f in fields}


def record(user, action: str, obj, summary: str, before=None, after=None, milestone=None):
    milestone = milestone if milestone is not None else getattr(obj, "milestone", None)
    if milestone is None and type(obj).__name__ == "Milestone":
        milestone = obj
    region_id = milestone.plan.region_id if milestone is not None else getattr(obj, "region_id", None)
    db.session.flush()  # so a new object has its id
    event = AuditEvent(
        user_id=getattr(user, "id", None),
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        milestone_id=milestone.id if milestone is not None else None,
        region_id=region_id,
        summary=summary,
        before=before,
        after=after,
    )
    db.session.add(event)
    return event
