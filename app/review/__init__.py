from flask import Blueprint

bp = Blueprint("review", __name__, template_folder="templates")

from app.review import routes  # noqa: E402,F401
