"""Template filters and globals: Chinese dates (from app.dates), labels, the clock."""

from datetime import date

from flask import g
from flask_login import current_user
from markupsafe import Markup

from app import clock
from app.dates import cn_date, cn_datetime, cn_system_datetime
from app.engines.schedule import due_state
from app.permissions import has_permission


def soon_days(plan_id: int) -> int:
    """The plan's 即将到期 window: the 三色 rule's (reminder-policy page), read once per request."""
    from app.status import thresholds_for

    cache = g.setdefault("soon_days", {})
    if plan_id not in cache:
        cache[plan_id] = thresholds_for(plan_id).soon_days
    return cache[plan_id]


def due_flags(milestone, today: date | None = None) -> dict:
    """逾期 / 即将到期 of a milestone on the clock's date (app.engines.schedule.due_state),
    with the same window that turns it 黄."""
    state = due_state(
        milestone.due_date,
        today or clock.today(),
        done=milestone.status == "done",
        soon_days=soon_days(milestone.plan_id),
    )
    return state.as_dict()


def system_time(value) -> Markup:
    """A real-clock timestamp (audit rows, sending), labelled 系统时间 so that it is not
    read against the pinned date of a demo (README, "Time")."""
    if value is None:
        return Markup('<span class="muted">—</span>')
    html = '<span class="systime" title="{}">{}</span>'
    return Markup(html).format(SYSTEM_TIME_HINT, cn_system_datetime(value))


SYSTEM_TIME_HINT = "系统实际记录的时间（北京时间），不随系统设定日期变化"


def init_app(app) -> None:
    app.add_template_filter(cn_date)
    app.add_template_filter(cn_datetime)
    app.add_template_filter(system_time)
    # Globals, not context variables, so imported macros can call them too.
    app.add_template_global(due_flags)
    app.add_template_global(lambda perm: has_permission(current_user, perm), "can")

    @app.context_processor
    def inject():
        return {
            "today": clock.today(),
            "as_of": app.config.get("STARPATH_AS_OF"),
            "demo_data": _demo_database(app),
            "unread_count": _unread_count(),
        }


def _unread_count() -> int:
    if not getattr(current_user, "is_authenticated", False):
        return 0
    from flask import g

    if "unread_count" in g:  # read with the user (app/sessions.py load_user)
        return g.unread_count
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Notification

    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)
        )
    )


def _demo_database(app) -> bool:
    """Whether this database holds demo data; checked once per process."""
    if "starpath_demo" not in app.extensions:
        from app.demo import is_demo_database

        app.extensions["starpath_demo"] = is_demo_database()
    return app.extensions["starpath_demo"]
