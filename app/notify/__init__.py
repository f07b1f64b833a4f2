from flask import Blueprint

bp = Blueprint("notify", __name__, template_folder="templates")

from app.notify import routes  # noqa: E402,F401
