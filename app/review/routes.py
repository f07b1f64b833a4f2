"""Plan office: the review queue, approve / return, extensions, milestone edits."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit
from app.errors import render_error
from app.extensions import db
from app.indicators.values import describe, entry_spec, plan_standard
from app.locking import is_stale
from app.models import Extension, Indicator, IndicatorValue, Milestone, Plan, ProgressReport, User
from app.permissions import ensure, require
from app.review import bp
from app.review.forms import ApproveForm, ExtensionForm, MilestoneEditForm, ReturnForm
from workflows import review
from workflows.forecast_recompute import request_recompute

STALE_REPORT = "该汇报已被他人处理或修改，您的操作未生效。请刷新页面查看最新状态。"
STALE_MILESTONE = "该里程碑已在其他窗口或被他人修改，您的修改未保存，当前内容保持不变。请刷新页面后重试。"


@bp.route("/review")
@require("review")
def queue():
    reports = db.session.scalars(
        select(ProgressReport)
        .join(Milestone, ProgressReport.milestone_id == Milestone.id)
        .where(ProgressReport.state == "submitted", access.milestone_filter(current_user))
        .options(selectinload(ProgressReport.milestone), selectinload(ProgressReport.department))
        .order_by(ProgressReport.submitted_at)
    ).all()
    return render_template("review/queue.html", reports=reports, values=_pending_values())


def _pending_values() -> list[dict]:
    """Submitted indicator values the reviewer may see, oldest first, as people read them."""
    rows = db.session.scalars(
        select(IndicatorValue)
        .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(IndicatorValue.state == "submitted", access.indicator_filter(current_user))
        .options(
            selectinload(IndicatorValue.indicator).selectinload(Indicator.plan),
            selectinload(IndicatorValue.entered_by).selectinload(User.department),
        )
        .order_by(IndicatorValue.created_at, IndicatorValue.id)
    ).all()
    standards: dict[int, dict | None] = {}
    out = []
    for row in rows:
        plan: Plan = row.indicator.plan
        if plan.id not in standards:
            standards[plan.id] = plan_standard(plan)
        spec = entry_spec(row.indicator, standards[plan.id])
        value = row.value_json if row.value_json is not None else row.value_number
        out.append({"row": row, "shown": describe(spec, value)})
    return out


@bp.route("/review/reports/<int:report_id>")
@login_required
def report(report_id: int):
    r = access.load_report(current_user, report_id)
    ensure(current_user, "review")
    approve_form = ApproveForm(version=r.version, milestone_version=r.milestone.version)
    return_form = ReturnForm(version=r.version)
    return render_template("review/report.html", r=r, approve_form=approve_form, return_form=return_form)


@bp.route("/review/reports/<int:report_id>/approve", methods=["POST"])
@login_required
def approve(report_id: int):
    r = access.load_report(current_user, report_id)
    ensure(current_user, "review")
    form = ApproveForm()
    if not form.validate_on_submit():
        return render_error(400)
    if is_stale(form.version, r) or is_stale(form.milestone_version, r.milestone):
        return render_error(409, STALE_REPORT)
    try:
        review.approve(r, current_user)
        db.session.commit()
        request_recompute(r.milestone.plan_id)
    except review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("review.report", report_id=report_id))
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_REPORT)
    flash("已通过，里程碑进度已更新。", "success")
    return redirect(url_for("review.queue"))


@bp.route("/review/reports/<int:report_id>/return", methods=["POST"])
@login_required
def return_report(report_id: int):
    r = access.load_report(current_user, report_id)
    ensure(current_user, "review")
    form = ReturnForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("review.report", report_id=report_id))
    if is_stale(form.version, r):
        return render_error(409, STALE_REPORT)
    try:
        review.return_(r, current_user, form.reason.data)
        db.session.commit()
    except review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("review.report", report_id=report_id))
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_REPORT)
    flash("已退回，责任部门将看到退回原因。", "success")
    return redirect(url_for("review.queue"))


@bp.route("/milestones/<int:milestone_id>/extend", methods=["GET", "POST"])
@login_required
def extend(milestone_id: int):
    m = access.load_milestone(current_user, milestone_id)
    ensure(current_user, "extend")
    form = ExtensionForm()
    if not form.is_submitted():
        form.version.data = m.version
    if form.validate_on_submit():
        if is_stale(form.version, m):
            return render_error(409, STALE_MILESTONE)
        if form.new_due.data <= m.due_date:
            flash("新的完成期限应晚于当前期限。", "error")
        else:
            try:
                before = audit.snapshot(m, ["due_date", "baseline_due_date", "version"])
                ext = Extension(
                    milestone=m,
                    old_due=m.due_date,
                    new_due=form.new_due.data,
                    reason=form.reason.data.strip(),
                    granted_by_id=current_user.id,
                )
                db.session.add(ext)
                m.due_date = form.new_due.data  # baseline_due_date is kept as loaded
                db.session.flush()
                audit.record(
                    current_user,
                    "milestone.extend",
                    m,
                    f"延期至 {m.due_date.isoformat()}：{ext.reason}",
                    before=before,
                    after=audit.snapshot(m, ["due_date", "baseline_due_date", "version"]),
                )
                db.session.commit()
                request_recompute(m.plan_id)
            except StaleDataError:
                db.session.rollback()
                return render_error(409, STALE_MILESTONE)
            flash("已批准延期。", "success")
            return redirect(url_for("plans.milestone", milestone_id=m.id))
    return render_template("review/extend.html", form=form, m=m)


@bp.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@login_required
def edit_milestone(milestone_id: int):
    m = access.load_milestone(current_user, milestone_id)
    ensure(current_user, "edit_plan")
    form = MilestoneEditForm(obj=m if not MilestoneEditForm().is_submitted() else None)
    if form.validate_on_submit():
        if is_stale(form.version, m):
            return render_error(409, STALE_MILESTONE)
        try:
            before = audit.snapshot(m, ["title", "text", "version"])
            m.title = form.title.data.strip()
            m.text = (form.text.data or "").strip()
            db.session.flush()
            audit.record(
                current_user,
                "milestone.edit",
                m,
                "修改里程碑名称或工作要求",
                before=before,
                after=audit.snapshot(m, ["title", "text", "version"]),
            )
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return render_error(409, STALE_MILESTONE)
        flash("里程碑已保存。", "success")
        return redirect(url_for("plans.milestone", milestone_id=m.id))
    return render_template("review/edit_milestone.html", form=form, m=m)
