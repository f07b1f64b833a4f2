from flask import Blueprint

bp = Blueprint("plans", __name__, template_folder="templates")

from app.plans import gantt, graph_views, indicator_charts, notices, plan_import, routes  # noqa: E402,F401
