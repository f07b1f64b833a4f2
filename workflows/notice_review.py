"""The 督办 loop: 交办 → 签收 → 办理/反馈 → 复核 → 办结 (or 退回 → 反馈 again).

issued --acknowledge--> acknowledged --answer--> answered --accept--> closed
issued --answer--> answered (签收 is recorded first)          answered --return--> returned
returned --answer--> answered

Who may: the notice's department (permission answer_notice) acknowledges and answers;
the issuer reviews — or, once the issuer's account is deactivated, any active user of
the milestone's region who may issue notices. Every step writes an audit row on the
milestone's history and tells the other side at once with an in-app Notification.
Functions add to the session and never commit: the request handler commits once.
"""

from __future__ import annotations

from sqlalchemy import select

from app import audit, clock
from app.dates import cn_date
from app.engines import limits
from app.extensions import db
from app.models import Department, Milestone, Notice, NoticeRound, Notification, Plan, User
from app.models.notice import NOTICE_STATES
from app.permissions import ROLE_PERMISSIONS, has_permission
from workflows import transitions
from workflows.transitions import TransitionError

TRANSITIONS = {
    ("issued", "acknowledge"): "acknowledged",
    ("issued", "answer"): "answered",
    ("acknowledged", "answer"): "answered",
    ("returned", "answer"): "answered",
    ("answered", "accept"): "closed",
    ("answered", "return"): "returned",
}
ACTION_LABELS = {"acknowledge": "签收", "answer": "反馈", "accept": "复核办结", "return": "退回"}
ISSUER_ROLES = tuple(role for role, perms in ROLE_PERMISSIONS.items() if "issue_notice" in perms)


class NotAllowed(TransitionError):
    """The user may not take this step on this notice (the route answers 403)."""


def next_state(state: str, action: str) -> str:
    return transitions.next_state(
        TRANSITIONS, state, action, noun="督办单", states=NOTICE_STATES, actions=ACTION_LABELS
    )


def allowed(state: str, action: str) -> bool:
    return (state, action) in TRANSITIONS


# --- who --------------------------------------------------------------------------


def is_department_user(user, notice: Notice) -> bool:
    return (
        has_permission(user, "answer_notice")
        and user.department_id is not None
        and user.department_id == notice.department_id
    )


def reviewers(notice: Notice) -> list[User]:
    """Who reviews the answers: the issuer while active, else the region's active issuers."""
    issuer = notice.issued_by or db.session.get(User, notice.issued_by_id)
    if issuer is not None and issuer.active:
        return [issuer]
    region_id = db.session.scalar(select(Plan.region_id).where(Plan.id == notice.milestone.plan_id))
    return list(
        db.session.scalars(
            select(User)
            .where(User.region_id == region_id, User.role.in_(ISSUER_ROLES), User.active.is_(True))
            .order_by(User.id)
        )
    )


def may_review(user, notice: Notice) -> bool:
    if not has_permission(user, "issue_notice"):
        return False
    return any(u.id == user.id for u in reviewers(notice))


def may(user, notice: Notice, action: str) -> bool:
    """Whether `user` may take `action` on the notice now (state and person)."""
    if not allowed(notice.state, action):
        return False
    if action in ("acknowledge", "answer"):
        return is_department_user(user, notice)
    return may_review(user, notice)


# --- steps ------------------------------------------------------------------------


def issue(milestone: Milestone, department: Department, user: User, text: str, reply_due) -> Notice:
    """交办: a notice to one of the milestone's departments, told to its users at once."""
    if not has_permission(user, "issue_notice"):
        raise NotAllowed("只有领导小组和统筹部门可以发出督办单。")
    allowed_ids = {milestone.lead_department_id, *(d.id for d in milestone.co_departments)}
    if department.id not in allowed_ids:
        raise TransitionError(f"“{department.name}”不是该里程碑的牵头或配合部门。")
    text = (text or "").strip()
    if not text:
        raise TransitionError("请填写督办事项。")
    problem = limits.reply_problem(reply_due, clock.today(), milestone.plan.period_end)
    if problem:
        raise TransitionError(problem)
    notice = Notice(
        milestone=milestone, department=department, issued_by_id=user.id, text=text, reply_due=reply_due
    )
    db.session.add(notice)
    audit.record(
        user,
        "notice.issue",
        notice,
        f"向{department.name}发出督办单，答复期限 {cn_date(reply_due)}",
        after={"state": "issued", "text": text, "reply_due": reply_due.isoformat()},
    )
    _tell(
        _department_users(notice),
        f"督办：{milestone.title}（请签收，并于{reply_due.month}月{reply_due.day}日前反馈）",
        notice,
    )
    return notice


def acknowledge(notice: Notice, user: User) -> None:
    """签收: the department has seen the notice and takes it on."""
    _require_department(notice, user)
    _acknowledge(notice, user)
    _tell(
        [u.id for u in reviewers(notice)],
        f"{_department_name(notice)}已签收督办单：{notice.milestone.title}",
        notice,
    )


def answer(notice: Notice, user: User, text: str) -> NoticeRound:
    """反馈: the department's answer (a new round); from 已交办 the 签收 is recorded first."""
    _require_department(notice, user)
    text = (text or "").strip()
    if not text:
        raise TransitionError("请填写反馈内容（办理情况）。")
    before = notice.state
    target = next_state(notice.state, "answer")
    if before == "issued":
        _acknowledge(notice, user)
    now = clock.event_time()
    number = len(notice.rounds) + 1
    round_ = NoticeRound(number=number, reply_text=text, replied_by_id=user.id, replied_at=now)
    notice.rounds.append(round_)
    notice.state = target
    notice.reply_text = text
    notice.replied_by_id = user.id
    notice.replied_at = now
    audit.record(
        user,
        "notice.answer",
        notice,
        f"{_department_name(notice)}反馈督办单（第 {number} 次）",
        before={"state": "acknowledged" if before == "issued" else before},
        after={"state": target, "round": number, "reply": text},
    )
    _tell(
        [u.id for u in reviewers(notice)],
        f"{_department_name(notice)}已反馈督办单，请复核：{notice.milestone.title}",
        notice,
    )
    return round_


def accept(notice: Notice, user: User, note: str = "") -> None:
    """复核通过 → 办结."""
    _require_reviewer(notice, user)
    target = next_state(notice.state, "accept")
    now = clock.event_time()
    note = (note or "").strip() or None
    notice.state = target
    notice.reviewed_at = now
    notice.reviewed_by_id = user.id
    notice.closed_at = now
    _close_round(notice, "accepted", note, user, now)
    audit.record(
        user,
        "notice.accept",
        notice,
        f"复核通过{_department_name(notice)}的督办反馈，督办单办结" + (f"：{note}" if note else ""),
        before={"state": "answered"},
        after={"state": target, "note": note},
    )
    _tell(
        _department_users(notice),
        f"督办单已办结（复核通过）：{notice.milestone.title}",
        notice,
    )


def send_back(notice: Notice, user: User, reason: str) -> None:
    """复核退回 → 已退回，需重新办理; the reason is required."""
    _require_reviewer(notice, user)
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError("退回时必须填写退回原因。")
    target = next_state(notice.state, "return")
    now = clock.event_time()
    notice.state = target
    notice.reviewed_at = now
    notice.reviewed_by_id = user.id
    notice.review_note = reason
    _close_round(notice, "returned", reason, user, now)
    audit.record(
        user,
        "notice.return",
        notice,
        f"退回{_department_name(notice)}的督办反馈：{reason}",
        before={"state": "answered"},
        after={"state": target, "reason": reason},
    )
    _tell(
        _department_users(notice),
        f"督办单反馈被退回，需重新办理：{notice.milestone.title}。退回原因：{reason}",
        notice,
    )


# --- helpers ----------------------------------------------------------------------


def _acknowledge(notice: Notice, user: User) -> None:
    before = notice.state
    notice.state = next_state(notice.state, "acknowledge")
    notice.acknowledged_at = clock.event_time()
    notice.acknowledged_by_id = user.id
    audit.record(
        user,
        "notice.acknowledge",
        notice,
        f"{_department_name(notice)}签收督办单",
        before={"state": before},
        after={"state": notice.state},
    )


def _close_round(notice: Notice, outcome: str, note, user: User, now) -> None:
    latest = notice.rounds[-1] if notice.rounds else None
    if latest is not None and latest.outcome is None:
        latest.outcome = outcome
        latest.review_note = note
        latest.reviewed_by_id = user.id
        latest.reviewed_at = now


def _require_department(notice: Notice, user) -> None:
    if not is_department_user(user, notice):
        raise NotAllowed("只有被督办部门可以签收或反馈该督办单。")


def _require_reviewer(notice: Notice, user) -> None:
    if not may_review(user, notice):
        raise NotAllowed("只有督办人（督办人已停用时为本地区可发督办的用户）可以复核该督办单。")


def _department_users(notice: Notice) -> list[int]:
    return list(
        db.session.scalars(
            select(User.id)
            .where(User.department_id == notice.department_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _tell(user_ids, text: str, notice: Notice) -> None:
    link = link_of(notice)
    for uid in dict.fromkeys(user_ids):
        db.session.add(Notification(user_id=uid, text=text, link=link))


def link_of(notice: Notice) -> str:
    return f"/milestones/{notice.milestone_id}#notice-{notice.id}"


def _department_name(notice: Notice) -> str:
    # The relationship may be unset on a notice built from ids in this request.
    return (notice.department or db.session.get(Department, notice.department_id)).name
