"""Plan office: the review queue, approve / return, extensions, milestone edits."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import access, clock, section_cache
from app.errors import render_error
from app.extensions import db
from app.indicators.values import describe, entry_spec, plan_standard
from app.locking import is_stale
from app.models import Indicator, IndicatorValue, Milestone, Plan, ProgressReport, User
from app.permissions import ensure, require
from app.plans.content_version import region_key
from app.review import bp
from app.review import milestone_edit as edits
from app.review.forms import SPARE_CO_ROWS, ApproveForm, ExtensionForm, MilestoneEditForm, ReturnForm
from workflows import review
from workflows.forecast_recompute import request_recompute

STALE_REPORT = "该汇报已被他人处理或修改，您的操作未生效。请刷新页面查看最新状态。"
STALE_MILESTONE = "该里程碑已在其他窗口或被他人修改，您的修改未保存，当前内容保持不变。请刷新页面后重试。"


@bp.route("/review")
@require("review")
def queue():
    # The region's plans hold every row the queue shows (reports, values, communities and
    # their streets, the people who entered them): kept under their content versions. A
    # viewer of every region, or a region without plans, is answered afresh.
    region = region_key(current_user.region_id, clock.today())
    region_id, _today, *plans = region
    if region_id is None or not plans:
        return render_template("review/queue.html", body=_queue_body())
    key = ("review", current_user.role, current_user.department_id, *region)
    return render_template("review/queue.html", body=section_cache.section(key, _queue_body))


def _queue_body() -> str:
    reports = db.session.scalars(
        select(ProgressReport)
        .join(Milestone, ProgressReport.milestone_id == Milestone.id)
        .where(ProgressReport.state == "submitted", access.milestone_filter(current_user))
        .options(joinedload(ProgressReport.milestone), joinedload(ProgressReport.department))
        .order_by(ProgressReport.submitted_at)
    ).all()
    return render_template(
        "review/_queue_body.html",
        reports=reports,
        values=_pending_values(),
        communities=_pending_communities(),
    )


def _pending_communities() -> list[dict]:
    """Communities with items awaiting review, the oldest submission first."""
    from app.models import Community, CommunityItem

    rows = db.session.execute(
        select(Community, func.count(CommunityItem.id), func.min(CommunityItem.submitted_at))
        .join(CommunityItem, CommunityItem.community_id == Community.id)
        .where(CommunityItem.state == "submitted", access.community_filter(current_user))
        .group_by(Community.id)
        .order_by(func.min(CommunityItem.submitted_at), Community.id)
        .options(selectinload(Community.street))  # the queue names each one's 街道
    ).all()
    return [{"community": c, "items": n, "since": since} for c, n, since in rows]


def _pending_values() -> list[dict]:
    """Submitted indicator values the reviewer may see, oldest first, as people read them."""
    rows = db.session.scalars(
        select(IndicatorValue)
        .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(IndicatorValue.state == "submitted", access.indicator_filter(current_user))
        .options(  # many-to-one all the way: joined, one statement for the queue
            joinedload(IndicatorValue.indicator).joinedload(Indicator.plan),
            joinedload(IndicatorValue.entered_by).joinedload(User.department),
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
        problem = edits.check_due(m.plan, form.new_due.data)
        if form.new_due.data <= m.due_date:
            flash("新的完成期限应晚于当前期限。", "error")
        elif problem:
            flash(problem.replace("完成期限", "新的完成期限", 1), "error")
        else:
            try:
                edits.grant_extension(m, form.new_due.data, form.reason.data.strip(), current_user)
                db.session.commit()
                request_recompute(m.plan_id)
            except StaleDataError:
                db.session.rollback()
                return render_error(409, STALE_MILESTONE)
            flash("已批准延期。", "success")
            return redirect(url_for("plans.milestone", milestone_id=m.id))
    return render_template("review/extend.html", form=form, m=m)


def _edit_form(m: Milestone) -> tuple[MilestoneEditForm, dict[int, str]]:
    """The edit form, its department choices being the plan region's departments."""
    departments = {d.id: d.name for d in edits.region_departments(m)}
    submitted = MilestoneEditForm().is_submitted()
    if submitted:
        form = MilestoneEditForm()
    else:
        co = [d.id for d in m.co_departments]
        form = MilestoneEditForm(
            version=m.version,
            title=m.title,
            text=m.text,
            lead_department_id=m.lead_department_id,
            co_departments=co + [None] * SPARE_CO_ROWS,
            due_date=m.due_date,
        )
    form.lead_department_id.choices = list(departments.items())
    for entry in form.co_departments:
        entry.choices = [(None, "（无）"), *departments.items()]
    return form, departments


def _submitted(m: Milestone, form: MilestoneEditForm) -> tuple:
    """Lead, co-departments and due date as posted; a field the post leaves out keeps its value."""
    posted = request.form
    lead_id = form.lead_department_id.data if "lead_department_id" in posted else m.lead_department_id
    if any(key.startswith("co_departments-") for key in posted):
        co_ids = [e.data for e in form.co_departments if e.data is not None]
    else:
        co_ids = [d.id for d in m.co_departments]
    due = form.due_date.data if "due_date" in posted else m.due_date
    return lead_id, co_ids, due


def _edit_errors(m: Milestone, form: MilestoneEditForm, departments: dict[int, str]) -> list[str]:
    lead_id, co_ids, due = _submitted(m, form)
    errors = edits.validate_departments(m, lead_id, co_ids, departments)
    if due is None:
        errors.append("请填写完成期限（YYYY-MM-DD）。")
    elif due != m.due_date:
        problem = edits.check_due(m.plan, due)
        if problem:
            errors.append(problem)
        if not (form.reason.data or "").strip():
            word = "提前" if due < m.due_date else "延期"
            errors.append(f"修改完成期限（{word}）须填写理由。")
    if not errors:
        errors += edits.pending_blockers(m, lead_id, co_ids)
    return errors


@bp.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@login_required
def edit_milestone(milestone_id: int):
    m = access.load_milestone(current_user, milestone_id)
    ensure(current_user, "edit_plan")
    form, departments = _edit_form(m)
    if form.validate_on_submit():
        if is_stale(form.version, m):
            return render_error(409, STALE_MILESTONE)
        errors = _edit_errors(m, form, departments)
        if errors:
            for error in errors:
                flash(error, "error")
            return render_template(
                "review/edit_milestone.html", form=form, m=m, bounds=edits.due_bounds(m.plan)
            )
        lead_id, co_ids, due = _submitted(m, form)
        try:
            changed = edits.apply_edit(
                m,
                current_user,
                title=form.title.data.strip(),
                text=(form.text.data or "").strip(),
                lead_id=lead_id,
                co_ids=co_ids,
                due=due,
                reason=(form.reason.data or "").strip(),
            )
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return render_error(409, STALE_MILESTONE)
        if changed & {"departments", "due"}:
            request_recompute(m.plan_id)
        flash("里程碑已保存。" if changed else "没有修改任何内容。", "success")
        return redirect(url_for("plans.milestone", milestone_id=m.id))
    return render_template("review/edit_milestone.html", form=form, m=m, bounds=edits.due_bounds(m.plan))
