from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates")

from app.admin import department_edit, holidays, queues, reminders, routes, user_settings  # noqa: E402,F401
