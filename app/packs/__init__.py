"""自评材料: the self-assessment pack of a plan for 中期考核 / 终期验收 (page and .zip)."""

from flask import Blueprint

bp = Blueprint(
    "packs", __name__, template_folder="templates", static_folder="static", static_url_path="/static/packs"
)

from app.packs import routes  # noqa: E402,F401
