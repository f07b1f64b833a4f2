"""Progress reports as the pages and the API write them: one code path for filling,
attaching evidence, saving or submitting, and for the one-pending-report-per-department
rule (checked first, and held by a unique index against a parallel request)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import audit, uploads
from app.extensions import db
from app.models import ProgressReport
from app.models.report import PENDING_STATES
from workflows import review


class PendingReport(Exception):
    """The department already has a report on this milestone awaiting work or review."""

    def __init__(self, report: ProgressReport):
        super().__init__(report.id)
        self.report = report


def create_report(user, milestone, kind: str, **fields) -> tuple[ProgressReport, str | None]:
    """A new report of the user's department, saved as a draft or submitted (fields as
    save_report takes them). Returns (report, Chinese error or None); raises PendingReport
    when the department has one already, found first or at the unique index."""
    pending = pending_report(milestone.id, user.department_id)
    if pending is not None:
        raise PendingReport(pending)
    report = ProgressReport(
        milestone=milestone, department_id=user.department_id, author_id=user.id, kind=kind, state="draft"
    )
    db.session.add(report)
    try:
        return report, save_report(user, report, is_new=True, **fields)
    except IntegrityError:
        pending = pending_report(milestone.id, user.department_id)
        if pending is None:
            raise
        raise PendingReport(pending) from None


def save_report(user, report: ProgressReport, *, percent, claimed_status, text, files, submit, is_new):
    """The one way a report is filled, given its files and saved or submitted (the pages and
    the API): all or nothing. Returns a Chinese error, or None; re-raises IntegrityError."""
    report.percent = percent
    report.claimed_status = claimed_status
    report.text = text.strip()
    written: list[str] = []
    try:
        review.validate_claim(report.percent, report.claimed_status)
        db.session.flush()  # the report needs its id and milestone before evidence joins it
        uploads.attach_evidence(user, files, written, milestone=report.milestone, report=report)
        if is_new:
            audit.record(user, "report.create", report, f"起草{report.kind_label}")
        if not submit:
            audit.record(user, "report.save", report, "保存汇报草稿")
        else:
            review.submit(report, user)
        db.session.commit()
    except (review.TransitionError, uploads.UploadError) as exc:
        db.session.rollback()
        uploads.discard(written)
        return str(exc)
    except StaleDataError:
        db.session.rollback()
        uploads.discard(written)
        return STALE_REPORT
    except IntegrityError:  # another request stored this department's pending report first
        db.session.rollback()
        uploads.discard(written)
        raise
    return None


STALE_REPORT = "该汇报已被他人修改，请刷新页面后重试。"


def pending_report(milestone_id: int, department_id: int) -> ProgressReport | None:
    return db.session.scalar(
        select(ProgressReport).where(
            ProgressReport.milestone_id == milestone_id,
            ProgressReport.department_id == department_id,
            ProgressReport.state.in_(PENDING_STATES),
        )
    )
