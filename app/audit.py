"""Audit helper: adds an AuditEvent to the current transaction (no commit)."""

from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Evidence, ProgressReport


def _plain(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def snapshot(obj, fields: list[str]) -> dict:
    return {f: _plain(getattr(obj, f)) for f in fields}


def record(user, action: str, obj, summary: str, before=None, after=None, milestone=None, region_id=None):
    """region_id: the region when neither the milestone nor the object names one. Pass it
    here rather than setting it on the returned event: the table is append-only, and a
    lazy load in between would flush the row first and make the assignment an UPDATE."""
    milestone = milestone if milestone is not None else getattr(obj, "milestone", None)
    if milestone is None and type(obj).__name__ == "Milestone":
        milestone = obj
    derived = milestone.plan.region_id if milestone is not None else getattr(obj, "region_id", None)
    region_id = derived if derived is not None else region_id
    if getattr(obj, "id", 0) is None or (milestone is not None and milestone.id is None):
        db.session.flush()  # so a new object has its id (not once per row of a bulk load)
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


def hide_others_drafts(events: list, viewer) -> list:
    """Events a viewer may read in a history: those about a draft report (its creation,
    saves, evidence uploaded to it or taken off it) belong to the draft's department
    alone until it is submitted, like the draft itself."""
    files = [e for e in events if e.object_type == "Evidence" and e.object_id is not None]
    # A removed file's row is gone: its removal event kept the report id.
    report_of_evidence = {
        e.object_id: e.before["report_id"] for e in files if (e.before or {}).get("report_id") is not None
    }
    if files:
        report_of_evidence.update(
            db.session.execute(
                select(Evidence.id, Evidence.report_id).where(
                    Evidence.id.in_({e.object_id for e in files} - set(report_of_evidence)),
                    Evidence.report_id.is_not(None),
                )
            ).all()
        )

    def report_id(event):
        if event.object_type == "ProgressReport":
            return event.object_id
        if event.object_type == "Evidence":
            return report_of_evidence.get(event.object_id)
        return None

    wanted = {rid for rid in map(report_id, events) if rid is not None}
    drafts = (
        {
            rid: dept
            for rid, dept in db.session.execute(
                select(ProgressReport.id, ProgressReport.department_id).where(
                    ProgressReport.id.in_(wanted), ProgressReport.state == "draft"
                )
            )
        }
        if wanted
        else {}
    )
    viewer_dept = getattr(viewer, "department_id", None)
    return [e for e in events if (rid := report_id(e)) not in drafts or drafts[rid] == viewer_dept]
