from flask import Blueprint

bp = Blueprint("mywork", __name__, template_folder="templates")

from app.mywork import routes  # noqa: E402,F401
