"""督办 for the department: its open notices on 我的工作, 签收 and 反馈 (with evidence).
The loop's rules: workflows/notice_review.py."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app import access, uploads
from app.errors import render_error
from app.extensions import db
from app.locking import is_stale
from app.models import Notice
from app.mywork import bp
from app.mywork.forms import NoticeReplyForm, NoticeStepForm
from app.permissions import ensure
from app.plans.notices import STALE_NOTICE, by_colour, views
from workflows import notice_review
from workflows.notice_review import NotAllowed, TransitionError


def department_notices(dept_id: int):
    """The department's notices not yet closed (those awaiting it first by colour)."""
    notices = db.session.scalars(
        select(Notice)
        .where(Notice.department_id == dept_id, Notice.state != "closed")
        .options(joinedload(Notice.milestone))  # its title and plan, one statement for all
        .order_by(Notice.reply_due)
    ).all()
    return by_colour(views(notices, current_user))


def _load(notice_id: int) -> Notice:
    notice = access.load_notice(current_user, notice_id)
    ensure(current_user, "answer_notice")
    if not notice_review.is_department_user(current_user, notice):
        abort(403)
    return notice


def _milestone_url(notice: Notice) -> str:
    return url_for("plans.milestone", milestone_id=notice.milestone_id) + f"#notice-{notice.id}"


@bp.route("/notices/<int:notice_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge_notice(notice_id: int):
    notice = _load(notice_id)
    form = NoticeStepForm()
    if not form.validate_on_submit():
        abort(400)
    if is_stale(form.version, notice):
        db.session.rollback()
        return render_error(409, STALE_NOTICE)
    try:
        notice_review.acknowledge(notice, current_user)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except TransitionError as exc:
        db.session.rollback()
        return render_error(409, f"{exc}请刷新页面查看最新状态。")
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_NOTICE)
    flash("已签收督办单，已通知督办人。请在答复期限前反馈办理情况。", "success")
    return redirect(url_for("mywork.index"))


@bp.route("/notices/<int:notice_id>/answer", methods=["GET", "POST"])
@login_required
def answer_notice(notice_id: int):
    notice = _load(notice_id)
    form = NoticeReplyForm()
    failed = False
    if form.validate_on_submit():
        if is_stale(form.version, notice):
            db.session.rollback()
            return render_error(409, STALE_NOTICE)
        error = _save_answer(notice, form)
        if error is None:
            flash("督办反馈已提交，已通知督办人复核。", "success")
            return redirect(url_for("mywork.index"))
        if error == "stale":
            return render_error(409, STALE_NOTICE)
        flash(error, "error")
        failed = True
    elif not notice_review.allowed(notice.state, "answer"):
        flash(f"该督办单当前为“{notice.state_label}”，无需反馈。", "info")
        return redirect(_milestone_url(notice))
    if not form.is_submitted():
        form.version.data = notice.version
    view = views([notice], current_user)[0]
    return render_template("mywork/notice_answer.html", form=form, notice=notice, view=view), (
        400 if form.errors or failed else 200
    )


def _save_answer(notice: Notice, form: NoticeReplyForm) -> str | None:
    return save_answer(current_user, notice, form.reply_text.data, form.files.data)


def save_answer(user, notice: Notice, text: str, files) -> str | None:
    """The answer, its files and the state change: all or nothing (the pages and the API).
    Returns a Chinese error, "stale" when another writer got there first, or None."""
    written: list[str] = []
    try:
        notice_review.answer(notice, user, text)
        uploads.attach_evidence(user, files, written, milestone=notice.milestone, notice=notice)
        db.session.commit()
    except (TransitionError, uploads.UploadError) as exc:
        db.session.rollback()
        uploads.discard(written)
        return str(exc)
    except StaleDataError:
        db.session.rollback()
        uploads.discard(written)
        return "stale"
    return None
