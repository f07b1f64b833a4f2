"""督办 for issuers: issue a notice from the milestone page, the 督办 list (/notices), and
复核 (accept → 办结, or send back with a reason). The loop's rules: workflows/notice_review.py."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import access, clock
from app.engines import status as rules
from app.errors import render_error
from app.extensions import db
from app.locking import is_stale
from app.models import Department, Milestone, Notice, NoticeRound
from app.models.notice import AWAITING_DEPARTMENT, NOTICE_STATES
from app.permissions import ensure
from app.plans import bp
from app.plans.forms import NoticeForm, NoticeReviewForm
from app.status import notice_colour, thresholds_for
from workflows import notice_review
from workflows.notice_review import NotAllowed, TransitionError

STALE_NOTICE = "该督办单已被他人处理或在其他窗口中操作过，本次操作未执行。请刷新页面查看最新状态。"
FILTERS = {"open": "待部门办理", **NOTICE_STATES}


@dataclass
class NoticeView:
    """One notice as a page shows it: its 三色 and what the viewer may do."""

    notice: Notice
    colour: rules.Status
    can_acknowledge: bool = False
    can_answer: bool = False
    can_review: bool = False

    @property
    def label(self) -> str:
        return rules.LABELS[self.colour.colour]


def views(notices, user, today=None) -> list[NoticeView]:
    today = today or clock.today()
    thresholds: dict[int, rules.Thresholds] = {}
    out = []
    for n in notices:
        plan_id = n.milestone.plan_id
        if plan_id not in thresholds:
            thresholds[plan_id] = thresholds_for(plan_id)
        out.append(
            NoticeView(
                n,
                notice_colour(n, today, thresholds[plan_id]),
                can_acknowledge=notice_review.may(user, n, "acknowledge"),
                can_answer=notice_review.may(user, n, "answer"),
                can_review=notice_review.may(user, n, "accept"),
            )
        )
    return out


def by_colour(items: list[NoticeView]) -> list[NoticeView]:
    """Most urgent first (红, 黄, 蓝, 完成), then by reply date."""
    return sorted(items, key=lambda v: (rules.ORDER.index(v.colour.colour), v.notice.reply_due, v.notice.id))


def _loaded():
    return (
        selectinload(Notice.rounds).selectinload(NoticeRound.replied_by),
        selectinload(Notice.rounds).selectinload(NoticeRound.reviewed_by),
        selectinload(Notice.evidence),
        selectinload(Notice.department),
        selectinload(Notice.issued_by),
        selectinload(Notice.milestone).selectinload(Milestone.plan),
    )


def milestone_notices(m: Milestone, user) -> list[NoticeView]:
    """The milestone page's 督办 section, newest first."""
    notices = db.session.scalars(
        select(Notice)
        .where(Notice.milestone_id == m.id)
        .options(*_loaded())
        .order_by(Notice.issued_at.desc())
    ).all()
    return views(notices, user)


@bp.route("/milestones/<int:milestone_id>/notices", methods=["POST"])
@login_required
def issue_notice(milestone_id: int):
    m = access.load_milestone(current_user, milestone_id)
    ensure(current_user, "issue_notice")
    form = NoticeForm()
    allowed = [m.lead_department, *m.co_departments]
    form.department_id.choices = [(d.id, d.name) for d in allowed]
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("plans.milestone", milestone_id=m.id))
    department = db.session.get(Department, form.department_id.data)
    try:
        notice_review.issue(m, department, current_user, form.text.data, form.reply_due.data)
    except TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("plans.milestone", milestone_id=m.id))
    db.session.commit()
    flash("督办单已发出，已通知被督办部门。", "success")
    return redirect(url_for("plans.milestone", milestone_id=m.id))


@bp.route("/notices")
@login_required
def notices():
    """督办 the viewer (or the viewer's region) issued, filterable by state, 红 first."""
    ensure(current_user, "issue_notice")
    state = request.args.get("state", "")
    mine = request.args.get("mine") == "1"
    stmt = (
        select(Notice)
        .join(Milestone, Notice.milestone_id == Milestone.id)
        .where(access.milestone_filter(current_user))
        .options(*_loaded())
    )
    if state == "open":
        stmt = stmt.where(Notice.state.in_(AWAITING_DEPARTMENT))
    elif state in NOTICE_STATES:
        stmt = stmt.where(Notice.state == state)
    elif state:
        abort(404)
    if mine:
        stmt = stmt.where(Notice.issued_by_id == current_user.id)
    colour = request.args.get("colour", "")
    if colour and colour not in rules.ORDER:
        abort(404)
    review = request.args.get("review") == "1"
    everything = by_colour(views(db.session.scalars(stmt).all(), current_user))
    counts = {c: sum(1 for v in everything if v.colour.colour == c) for c in rules.ORDER}
    # Each count links to its own rows: the same list narrowed by colour (or to review).
    items = [
        v for v in everything if (not colour or v.colour.colour == colour) and (not review or v.can_review)
    ]
    return render_template(
        "plans/notices.html",
        items=items,
        total=len(everything),
        counts=counts,
        labels=rules.LABELS,
        filters=FILTERS,
        state=state,
        mine=mine,
        colour=colour,
        review=review,
        to_review=sum(1 for v in everything if v.can_review),
    )


def _review(notice_id: int, action: str):
    notice = access.load_notice(current_user, notice_id)
    ensure(current_user, "issue_notice")
    if not notice_review.may_review(current_user, notice):
        abort(403)
    form = NoticeReviewForm()
    if not form.validate_on_submit():
        abort(400)
    back = request.form.get("next") or ""
    if is_stale(form.version, notice):
        db.session.rollback()
        return render_error(409, STALE_NOTICE)
    try:
        if action == "accept":
            notice_review.accept(notice, current_user, form.note.data)
        else:
            notice_review.send_back(notice, current_user, form.note.data)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except TransitionError as exc:
        db.session.rollback()
        if action == "return" and not (form.note.data or "").strip():
            flash(str(exc), "error")
            return redirect(_back(back, notice))
        return render_error(409, f"{exc}{STALE_NOTICE[STALE_NOTICE.index('请刷新') :]}")
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_NOTICE)
    flash("督办单已办结。" if action == "accept" else "已退回，已通知被督办部门重新办理。", "success")
    return redirect(_back(back, notice))


def _back(target: str, notice: Notice) -> str:
    if target == "list":
        return url_for("plans.notices")
    return url_for("plans.milestone", milestone_id=notice.milestone_id) + f"#notice-{notice.id}"


@bp.route("/notices/<int:notice_id>/accept", methods=["POST"])
@login_required
def accept_notice(notice_id: int):
    return _review(notice_id, "accept")


@bp.route("/notices/<int:notice_id>/return", methods=["POST"])
@login_required
def return_notice(notice_id: int):
    return _review(notice_id, "return")
