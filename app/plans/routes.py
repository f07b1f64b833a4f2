"""Plan tree and milestone pages (督办 routes: app/plans/notices.py)."""

import io
from collections import Counter

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, audit, clock
from app.dates import cn_date
from app.engines.schedule import is_overdue
from app.extensions import db
from app.models import (
    AuditEvent,
    Dependency,
    Milestone,
    Plan,
    PlanNode,
    ProgressReport,
)
from app.permissions import ensure, has_permission
from app.planio.excel import plan_to_xlsx
from app.plans import bp
from app.plans.dependencies import DependencyRefused, add_dependency, remove_dependency
from app.plans.forms import DependencyForm, NoticeForm
from app.plans.graph_data import milestone_neighbourhood
from app.plans.notices import milestone_notices
from app.status import plan_status
from workflows.forecast_recompute import request_recompute


@bp.route("/plans")
@login_required
def index():
    if not access.can_view_plans(current_user):
        abort(403)
    plans = db.session.scalars(select(Plan).where(access.plan_filter(current_user)).order_by(Plan.code)).all()
    return render_template("plans/index.html", plans=plans)


def status_counts(milestones, today) -> dict:
    # A plain dict: templates read .total, which on a Counter is a method.
    counts = dict(Counter(m.status for m in milestones))
    counts["overdue"] = sum(1 for m in milestones if is_overdue(m.due_date, today, m.status == "done"))
    counts["total"] = len(milestones)
    return counts


@bp.route("/plans/<code>")
@login_required
def plan(code: str):
    plan = access.load_viewable_plan(current_user, code)
    nodes = db.session.scalars(
        select(PlanNode)
        .where(PlanNode.plan_id == plan.id)
        .options(
            selectinload(PlanNode.milestones).selectinload(Milestone.lead_department),
            selectinload(PlanNode.departments),
        )
        .order_by(PlanNode.position)
    ).all()
    children: dict[int | None, list[PlanNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    today = clock.today()
    subtree: dict[int, list[Milestone]] = {}

    def collect(node):
        ms = list(node.milestones)
        for child in children.get(node.id, []):
            ms.extend(collect(child))
        subtree[node.id] = ms
        return ms

    all_ms = [m for root in children.get(None, []) for m in collect(root)]
    counts = {node_id: status_counts(ms, today) for node_id, ms in subtree.items()}
    return render_template(
        "plans/plan.html",
        plan=plan,
        children=children,
        counts=counts,
        totals=status_counts(all_ms, today),
        ps=plan_status(plan, today),
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/plans/<code>/export.xlsx")
@login_required
def export_xlsx(code: str):
    """The plan as an Excel workbook (the layout `flask plans import-xlsx` reads back)."""
    plan = access.load_viewable_plan(current_user, code)
    data = plan_to_xlsx(plan.code)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"{plan.code}.xlsx")


@bp.route("/milestones/<int:milestone_id>")
@login_required
def milestone(milestone_id: int):
    m = access.load_milestone(current_user, milestone_id)
    predecessors = db.session.scalars(select(Dependency).where(Dependency.successor_id == m.id)).all()
    successors = db.session.scalars(select(Dependency).where(Dependency.predecessor_id == m.id)).all()
    # Dependencies may point at milestones this user cannot open: show titles only then.
    visible_ids = set(
        db.session.scalars(
            select(Milestone.id).where(
                access.milestone_filter(current_user),
                Milestone.id.in_(
                    [d.predecessor_id for d in predecessors] + [d.successor_id for d in successors]
                ),
            )
        )
    )
    reports = db.session.scalars(
        select(ProgressReport)
        .where(ProgressReport.milestone_id == m.id)
        .options(selectinload(ProgressReport.evidence), selectinload(ProgressReport.department))
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
        "plans/milestone.html",
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
        row=plan_status(m.plan).rows[m.id],
    )


def _dependency_form(m: Milestone) -> DependencyForm:
    form = DependencyForm()
    others = db.session.scalars(
        select(Milestone)
        .where(Milestone.plan_id == m.plan_id, Milestone.id != m.id)
        .order_by(Milestone.due_date, Milestone.title)
    )
    form.predecessor_id.choices = [(o.id, f"{o.title}（{cn_date(o.due_date)}）") for o in others]
    return form


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
    try:
        add_dependency(
            current_user, m, form.predecessor_id.data, form.lag_days.data, (form.reason.data or "").strip()
        )
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
