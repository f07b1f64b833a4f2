"""The plans list and a plan's tree (the milestone page: app/plans/milestone_page.py; 督办:
app/plans/notices.py)."""

import io
from collections import Counter, defaultdict

from flask import abort, render_template, request, send_file
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from app import access, clock, section_cache
from app.engines.schedule import is_overdue
from app.extensions import db
from app.listing import matching, paged, search_text
from app.models import (
    Milestone,
    Plan,
    PlanNode,
    Region,
)
from app.params import MAX_PAGE, int_arg
from app.planio.excel import plan_to_xlsx
from app.plans import bp
from app.plans.tree_data import PAGE_SIZE, ancestors, status_summary

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
