"""The progress report review state machine.

draft → submitted → approved | returned; a returned report can be edited and
submitted again. Approving a lead report moves the milestone (percent, status,
actual finish); a co-department's part is recorded but does not. Functions add
to the session and never commit: the request handler commits once.
"""

from app import audit, clock
from app.extensions import db
from app.models import Department, Milestone, ProgressReport, User
from app.models.report import REPORT_STATES
from workflows import reviewing, transitions
from workflows.transitions import TransitionError  # noqa: F401  (raised to callers)

TRANSITIONS = {
    ("draft", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("submitted", "approve"): "approved",
    ("submitted", "return"): "returned",
}
ACTION_LABELS = {"submit": "提交", "approve": "通过", "return": "退回"}
MILESTONE_FIELDS = ["status", "percent", "actual_finish", "version"]


def next_state(state: str, action: str) -> str:
    return transitions.next_state(
        TRANSITIONS, state, action, noun="汇报", states=REPORT_STATES, actions=ACTION_LABELS
    )


def validate_claim(percent: int, claimed_status: str) -> None:
    if not 0 <= percent <= 100:
        raise TransitionError("完成百分比应在 0 到 100 之间。")
    if claimed_status == "done" and percent != 100:
        raise TransitionError("声明“已完成”时完成百分比必须为 100。")
    if claimed_status != "done" and percent == 100:
        raise TransitionError("完成百分比为 100 时，状态应为“已完成”。")


def submit(report: ProgressReport, user: User) -> None:
    validate_claim(report.percent, report.claimed_status)
    before = report.state
    report.state = next_state(report.state, "submit")
    report.submitted_at = clock.event_time()
    report.return_reason = None if before == "returned" else report.return_reason
    audit.record(
        user,
        "report.submit",
        report,
        f"{_department_name(report)}提交{report.kind_label}：{report.percent}%",
        before={"state": before},
        after={"state": report.state, "percent": report.percent, "status": report.claimed_status},
    )


SELF_REVIEW = "不能审核本人撰写的汇报：请由统筹部门的其他人员通过或退回（四眼原则）。"


def _set_reviewer(report: ProgressReport, reviewer: User) -> None:
    report.reviewed_by = reviewer


# Someone other than the author approves or returns a report, the plan office's own included.
REPORTS = reviewing.Reviewed("report", next_state, SELF_REVIEW, _set_reviewer)


def approve(report: ProgressReport, reviewer: User) -> None:
    reviewing.approve(
        REPORTS,
        report,
        reviewer,
        lambda: f"通过{_department_name(report)}的{report.kind_label}",
        after={"state": "approved"},
    )
    if report.kind == "lead":
        _apply_to_milestone(report.milestone, report, reviewer)
    _notify_department(report, f"您提交的“{report.milestone.title}”进展已审核通过。")


def return_(report: ProgressReport, reviewer: User, reason: str) -> None:
    reason = reviewing.required_reason(reason)
    reviewing.return_(
        REPORTS,
        report,
        reviewer,
        reason,
        lambda: f"退回{_department_name(report)}的{report.kind_label}：{reason}",
    )
    _notify_department(report, f"您提交的“{report.milestone.title}”进展被退回：{reason}")


def _apply_to_milestone(milestone: Milestone, report: ProgressReport, reviewer: User) -> None:
    before = audit.snapshot(milestone, MILESTONE_FIELDS)
    milestone.percent = report.percent
    milestone.status = report.claimed_status
    milestone.actual_finish = clock.today() if report.claimed_status == "done" else None
    db.session.flush()  # bumps the version, and fails if another writer got there first
    audit.record(
        reviewer,
        "milestone.progress",
        milestone,
        f"进度更新为 {milestone.percent}%（{milestone.status_label}）",
        before=before,
        after=audit.snapshot(milestone, MILESTONE_FIELDS),
    )


def _notify_department(report: ProgressReport, text: str) -> None:
    reviewing.notify_department(report.department_id, text, f"/milestones/{report.milestone_id}")


def _department_name(report: ProgressReport) -> str:
    # The relationship may be unset on a report built from ids in this request.
    return (report.department or db.session.get(Department, report.department_id)).name
