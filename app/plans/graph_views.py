"""依赖关系图: a plan's milestone dependency graph with the stored critical path."""

from flask import current_app, jsonify, render_template, url_for
from flask_login import login_required

from app.plans import bp
from app.plans.graph_data import critical_items, graph_payload, stored_graph, tightest_items
from app.plans.routes import _viewable_plan


@bp.app_template_global("has_endpoint")
def has_endpoint(name: str) -> bool:
    """Whether a view is registered (links to pages other blueprints may not have yet)."""
    return name in current_app.view_functions


@bp.route("/plans/<code>/graph")
@login_required
def graph(code: str):
    plan = _viewable_plan(code)
    stored = stored_graph(plan)
    return render_template(
        "plans/graph.html",
        plan=plan,
        stored=stored,
        path=critical_items(plan, stored),
        tightest=tightest_items(plan, stored),
    )


@bp.route("/plans/<code>/graph.json")
@login_required
def graph_json(code: str):
    plan = _viewable_plan(code)
    return jsonify(graph_payload(plan, lambda mid: url_for("plans.milestone", milestone_id=mid)))
