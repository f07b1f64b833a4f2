"""依赖关系图: a plan's milestone dependency graph with its critical path on today's date."""

from flask import jsonify, render_template, url_for
from flask_login import current_user, login_required

from app import access
from app.plans import bp
from app.plans.graph_data import critical_items, graph_payload, plan_graph, tightest_items


@bp.route("/plans/<code>/graph")
@login_required
def graph(code: str):
    plan = access.load_viewable_plan(current_user, code)
    pg = plan_graph(plan)
    return render_template(
        "plans/graph.html",
        plan=plan,
        pg=pg,
        path=critical_items(pg),
        tightest=tightest_items(pg),
    )


@bp.route("/plans/<code>/graph.json")
@login_required
def graph_json(code: str):
    plan = access.load_viewable_plan(current_user, code)
    return jsonify(graph_payload(plan, lambda mid: url_for("plans.milestone", milestone_id=mid)))
