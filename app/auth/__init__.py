from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from app.auth import api_tokens, routes  # noqa: E402,F401
