"""Plan tree and milestone pages (督办 routes: app/plans/notices.py)."""

import io
from collections import Counter, defaultdict

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app import access, audit, clock, section_cache
from app.engines.schedule import is_overdue
from app.extensions import db
from app.listing import matching, paged, search_text
from app.models import (
    AuditEvent,
    Dependency,
    Milestone,
    Plan,
    PlanNode,
    ProgressReport,
    Region,
)
from app.params import MAX_PAGE, int_arg
from app.permissions import ensure, has_permission
from app.planio.excel import plan_to_xlsx
from app.plans import bp
from app.plans.content_version import plan_key
from app.plans.dependencies import DependencyRefused, add_dependency, remove_dependency
from app.plans.forms import NoticeForm
from app.plans.graph_data import milestone_neighbourhood
from app.plans.notices import milestone_notices
from app.plans.predecessors import PredecessorForm
from app.plans.predecessors import resolve as resolve_predecessor
from app.plans.tree_data import PAGE_SIZE, ancestors, status_row, status_summary
from workflows.forecast_recompute import request_recompute

PLANS_PER_PAGE = 50  # a province of a thousand areas pages its list of plans


@bp.route("/plans")
@login_required
def index():
    if not access.can_view_plans(current_user):
        abort(403)
    q = search_text(request.args.get("q"))
    stmt = (
        select(Plan)
        .join(Plan.region)
        .where(access.plan_filter(current_user))
        .options(contains_eager(Plan.region))
        .order_by(Plan.code)
    )
    # a province of many areas finds one by plan title, code or region
    page = paged(matching(stmt, q, Plan.title, Plan.code, Region.name), PLANS_PER_PAGE)
    return render_template("plans/index.html", page=page, plans=page.items, q=q)


def status_counts(milestones, today) -> dict:
    # A plain dict: templates read .total, which on a Counter is a method.
    counts = dict(Counter(m.status for m in milestones))
    counts["overdue"] = sum(1 for m in milestones if is_overdue(m.due_date, today, m.status == "done"))
    counts["total"] = len(milestones)
    return counts


def _page_arg() -> int:
    return int_arg("page", high=MAX_PAGE, default=1, strict=False)


def _node_view(plan, summary, node_id: int, page: int) -> dict:
    """What a node shows when opened: its text, one page of its own milestones, its children (closed)."""
    node = db.session.scalar(select(PlanNode).where(PlanNode.id == node_id, PlanNode.plan_id == plan.id))
    if node is None:
        abort(404)
    total = summary.own.get(node.id, 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    milestones = db.session.scalars(
        select(Milestone)
        .where(Milestone.node_id == node.id)
        .options(selectinload(Milestone.lead_department))
        .order_by(Milestone.due_date, Milestone.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return {
        "node": node,
        "milestones": milestones,
        "page": page,
        "pages": pages,
        "own_total": total,
        "kids": _nodes(summary.children.get(node.id, [])),
    }


def _nodes(ids) -> list[PlanNode]:
    if not ids:
        return []
    by_id = {
        n.id: n
        for n in db.session.scalars(
            select(PlanNode).where(PlanNode.id.in_(ids)).options(selectinload(PlanNode.departments))
        )
    }
    return [by_id[i] for i in ids]


OPEN_ALL_MAX = 100  # a plan of at most this many milestones shows its whole tree at once


def _all_open(plan, summary) -> dict:
    """Every node opened (a small plan): three queries, whatever the number of nodes."""
    nodes = {n.id: n for n in _nodes(list(summary.nodes))}
    milestones = defaultdict(list)
    for m in db.session.scalars(
        select(Milestone)
        .where(Milestone.plan_id == plan.id)
        .options(selectinload(Milestone.lead_department))
        .order_by(Milestone.due_date, Milestone.id)
    ):
        milestones[m.node_id].append(m)
    return {
        nid: {
            "node": node,
            "milestones": milestones.get(nid, []),
            "page": 1,
            "pages": 1,
            "own_total": len(milestones.get(nid, [])),
            "kids": [nodes[k] for k in summary.children.get(nid, [])],
        }
        for nid, node in nodes.items()
    }


@bp.route("/plans/<code>")
@login_required
def plan(code: str):
    """The plan tree, closed: top-level nodes with their counts; a node opens on demand
    (plan_tree.js loads node_children), or without JavaScript through ?node=<id>."""
    plan = access.load_viewable_plan(current_user, code)
    today = clock.today()
    summary = status_summary(plan, today)
    focus = int_arg("node", default=None, strict=False)  # ASCII digits only ("²" is not a node)
    open_all = summary.totals.get("total", 0) <= OPEN_ALL_MAX and not request.args.get("node")
    focus = focus if not open_all and focus in summary.nodes else None
    page = _page_arg() if focus is not None else 1

    def render() -> str:
        path, opened = [], {}
        if open_all:
            opened = _all_open(plan, summary)
        elif focus is not None:
            path = [*ancestors(summary, focus), focus]
            for nid in path:
                opened[nid] = _node_view(plan, summary, nid, page if nid == focus else 1)
        roots = summary.children.get(None, [])
        return render_template(
            "plans/_tree_section.html",
            plan=plan,
            summary=summary,
            roots=[opened[r]["node"] for r in roots]
            if opened and len(opened) == len(summary.nodes)
            else _nodes(roots),
            opened=opened,
            focus=path[-1] if path else None,
        )

    key = (*summary.key, "all" if open_all else focus, page)
    return render_template(
        "plans/plan.html", plan=plan, summary=summary, tree_section=section_cache.section(key, render)
    )


@bp.route("/plans/<code>/nodes/<int:node_id>/children")
@login_required
def node_children(code: str, node_id: int):
    """The inside of one node of the tree (an HTML fragment plan_tree.js inserts)."""
    plan = access.load_viewable_plan(current_user, code)
    summary = status_summary(plan, clock.today())
    if node_id not in summary.nodes:
        abort(404)
    view = _node_view(plan, summary, node_id, _page_arg())
    return render_template("plans/_node_body.html", plan=plan, summary=summary, view=view, opened={})


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
        *plan_key(m.plan_id, clock.today()),
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
