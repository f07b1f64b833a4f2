from flask import Blueprint

bp = Blueprint("plans", __name__, template_folder="templates")

from app.plans import (  # noqa: E402,F401
    gantt,
    graph_views,
    indicator_charts,
    milestone_page,
    notices,
    plan_import,
    routes,
)
