"""/api/v1/docs: Swagger UI over the document, with its assets served by the app (no CDN)
and its start-up script a static file (the Content-Security-Policy allows no inline script)."""

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__, template_folder="templates")


@bp.route("/api/v1/docs")
def docs():
    return render_template("api/docs.html")
