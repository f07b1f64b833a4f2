"""The milestone page and its dependencies (added and removed there)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app import access, audit, clock, section_cache
from app.extensions import db
from app.models import AuditEvent, Dependency, Milestone, ProgressReport
from app.permissions import ensure, has_permission
from app.plans import bp
from app.plans.content_version import plan_key
from app.plans.dependencies import DependencyRefused, add_dependency, remove_dependency
from app.plans.forms import NoticeForm
from app.plans.graph_data import milestone_neighbourhood
from app.plans.notices import milestone_notices
from app.plans.predecessors import PredecessorForm
from app.plans.predecessors import resolve as resolve_predecessor
from app.plans.tree_data import status_row, status_summary
from workflows.forecast_recompute import request_recompute


@bp.route("/milestones/<int:milestone_id>")
@login_required
def milestone(milestone_id: int):
    # Its plan, node and lead department come with it (one statement, not four).
    m = access.load_milestone(
        current_user,
        milestone_id,
        joinedload(Milestone.plan),
        joinedload(Milestone.node),
        joinedload(Milestone.lead_department),
    )
    # The body shows the plan's rows (its content_version, with the date), the milestone's
    # history (its newest audit row) and what this viewer may see and do: kept under those.
    newest_event = db.session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.milestone_id == m.id))
    key = (
        "milestone",
        m.id,
        *plan_key(m.plan, clock.today()),
        newest_event,
        current_user.id,
        current_user.role,
        current_user.department_id,
        current_user.region_id,
    )
    body = section_cache.section_with_forms(key, lambda: _milestone_body(m))
    return render_template(
        "plans/milestone.html", m=m, body=body, picker=has_permission(current_user, "edit_plan")
    )


def _milestone_body(m: Milestone) -> str:
    links_of_m = db.session.scalars(
        select(Dependency)
        .where(or_(Dependency.successor_id == m.id, Dependency.predecessor_id == m.id))
        .options(selectinload(Dependency.predecessor), selectinload(Dependency.successor))
        .order_by(Dependency.id)
    ).all()
    predecessors = [d for d in links_of_m if d.successor_id == m.id]
    successors = [d for d in links_of_m if d.predecessor_id == m.id]
    # Dependencies may point at milestones this user cannot open: show titles only then.
    neighbours = [d.predecessor_id for d in predecessors] + [d.successor_id for d in successors]
    visible_ids = (
        set(
            db.session.scalars(
                select(Milestone.id).where(
                    access.milestone_filter(current_user), Milestone.id.in_(neighbours)
                )
            )
        )
        if neighbours
        else set()
    )
    reports = db.session.scalars(
        select(ProgressReport)
        .where(ProgressReport.milestone_id == m.id)
        .options(selectinload(ProgressReport.evidence), joinedload(ProgressReport.department))
        .order_by(ProgressReport.created_at.desc())
    ).all()
    reports = [r for r in reports if r.state != "draft" or r.department_id == current_user.department_id]
    notices = milestone_notices(m, current_user)
    history = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.milestone_id == m.id)
        .options(selectinload(AuditEvent.user))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    history = audit.hide_others_drafts(history, current_user)
    notice_form = None
    if has_permission(current_user, "issue_notice"):
        notice_form = NoticeForm()
        notice_form.department_id.choices = [(d.id, d.name) for d in [m.lead_department, *m.co_departments]]
    dependency_form = None
    if has_permission(current_user, "edit_plan"):
        dependency_form = _dependency_form(m)
    return render_template(
        "plans/_milestone_body.html",
        dependency_form=dependency_form,
        m=m,
        predecessors=predecessors,
        successors=successors,
        visible_ids=visible_ids,
        reports=reports,
        notices=notices,
        history=history,
        report_kind=access.report_kind_for(current_user, m),
        notice_form=notice_form,
        links=milestone_neighbourhood(current_user, m),
        row=status_row(status_summary(m.plan, clock.today()), m),
    )


def _dependency_form(m: Milestone) -> PredecessorForm:
    return PredecessorForm()


@bp.route("/milestones/<int:milestone_id>/dependencies", methods=["POST"])
@login_required
def add_predecessor(milestone_id: int):
    m = access.load_milestone(current_user, milestone_id)
    ensure(current_user, "edit_plan")
    form = _dependency_form(m)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("plans.milestone", milestone_id=m.id))
    predecessor = resolve_predecessor(m, form.predecessor_id.data)
    if predecessor is None:
        flash("找不到该前置里程碑：请填写同一计划中里程碑的编号（如 #123）或代码，或从提示中选择。", "error")
        return redirect(url_for("plans.milestone", milestone_id=m.id))
    try:
        add_dependency(current_user, m, predecessor.id, form.lag_days.data, (form.reason.data or "").strip())
        db.session.commit()
        request_recompute(m.plan_id)
    except DependencyRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("plans.milestone", milestone_id=m.id))
    flash("已添加前置里程碑。", "success")
    return redirect(url_for("plans.milestone", milestone_id=m.id))


@bp.route("/dependencies/<int:dependency_id>/delete", methods=["POST"])
@login_required
def delete_dependency(dependency_id: int):
    dep = db.session.scalar(
        select(Dependency)
        .join(Milestone, Dependency.successor_id == Milestone.id)
        .where(Dependency.id == dependency_id, access.milestone_filter(current_user))
    )
    if dep is None:
        abort(404)
    ensure(current_user, "edit_plan")
    successor_id = dep.successor_id
    plan_id = dep.plan_id
    remove_dependency(current_user, dep)
    db.session.commit()
    request_recompute(plan_id)
    flash("已删除依赖。", "success")
    return redirect(url_for("plans.milestone", milestone_id=successor_id))
