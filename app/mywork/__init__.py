from flask import Blueprint

bp = Blueprint("mywork", __name__, template_folder="templates")

from app.mywork import notices, routes  # noqa: E402,F401
