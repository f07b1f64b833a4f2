"""部门考评 and 周报通报: the 考评 table of a plan, issued bulletins (list, printable page, Excel)."""

from flask import Blueprint

bp = Blueprint(
    "bulletins",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/bulletins/static",
)

from app.bulletins import routes  # noqa: E402,F401
