"""智慧社区: communities by 街道 / 镇, their assessment against the community standard,
the matrix, and the coverage rate they give the star standards."""

from flask import Blueprint

bp = Blueprint(
    "communities",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/communities/static",
)

from app.communities import assessment, import_pages, item_review, office, routes  # noqa: E402,F401
