"""驾驶舱: the plan dashboard (exceptions first), the lists behind its counts, and the
province view of every area. Read-only pages; they read the stored forecast run and
the 三色 status (app.status), never compute either."""

from flask import Blueprint

bp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard/static",
)

from app.dashboard import routes  # noqa: E402,F401
