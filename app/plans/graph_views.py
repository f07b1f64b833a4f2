"""依赖关系图: a plan's milestone dependency graph with its critical path on today's date."""

from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app import access, section_cache
from app.extensions import db
from app.models import PlanNode
from app.params import parse_int
from app.plans import bp
from app.plans.graph_data import (
    at_risk_count,
    critical_items,
    graph_key,
    graph_payload,
    plan_graph,
    tightest_items,
)


def _node_arg(plan) -> PlanNode | None:
    """?node=<id>: a node of this plan (404 for any other value)."""
    raw = request.args.get("node")
    if raw is None or raw == "":
        return None
    node, node_id = None, parse_int(raw)  # ASCII digits within the id range, else 404
    if node_id is not None:
        node = db.session.scalar(select(PlanNode).where(PlanNode.id == node_id, PlanNode.plan_id == plan.id))
    if node is None:
        abort(404)
    return node


@bp.route("/plans/<code>/graph")
@login_required
def graph(code: str):
    plan = access.load_viewable_plan(current_user, code)
    node = _node_arg(plan)

    def render() -> str:
        pg = plan_graph(plan)
        return render_template(
            "plans/_graph_body.html",
            plan=plan,
            pg=pg,
            node=node,
            path=critical_items(pg),
            tightest=tightest_items(pg),
            at_risk=at_risk_count(pg),
        )

    # The same for every viewer: kept under what the graph is drawn from, the plan row and
    # the focused node.
    body = section_cache.section(
        ("graph-page", *graph_key(plan), plan.updated_at, node.id if node else None), render
    )
    return render_template("plans/graph.html", plan=plan, body=body)


@bp.route("/plans/<code>/graph.json")
@login_required
def graph_json(code: str):
    plan = access.load_viewable_plan(current_user, code)
    node_id = node.id if (node := _node_arg(plan)) else None
    return section_cache.json_response(
        ("graph.json", *graph_key(plan), plan.updated_at, node_id),
        lambda: graph_payload(
            plan,
            lambda mid: url_for("plans.milestone", milestone_id=mid),
            node_id,
            lambda nid: url_for("plans.graph", code=plan.code, node=nid),
        ),
    )
