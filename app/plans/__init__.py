from flask import Blueprint

bp = Blueprint("plans", __name__, template_folder="templates")

from app.plans import graph_views, notices, routes  # noqa: E402,F401
