"""星级测算: the stored score and forecast of a plan, the gap list and the what-if panel."""

from flask import Blueprint

bp = Blueprint("stars", __name__, template_folder="templates")

from app.stars import routes  # noqa: E402,F401
