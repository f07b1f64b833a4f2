"""Sessions that end.

- The session carries the user's session_version (User.get_id gives "id:version"); log-out,
  a password change and deactivation bump it, so every session opened before — another
  browser, a copied cookie — loads no user any more.
- Idle (SESSION_IDLE_SECONDS, 30 min) and absolute (SESSION_ABSOLUTE_SECONDS, 12 h) limits,
  from the log-in and last-seen times kept in the session.
- Cache-Control: no-store on every response to a signed-in user; HSTS under HTTPS.
- Behind a reverse proxy (TRUSTED_PROXY_COUNT > 0) the client address and scheme come from
  X-Forwarded-For / -Proto (ProxyFix); otherwise those headers are ignored.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, current_user, logout_user

log = logging.getLogger("starpath.auth")

LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"


def now() -> float:
    """Seconds since the epoch; tests monkeypatch this to move session time."""
    return time.time()


def start(user) -> None:
    """Call right after login_user: the session's log-in and last-seen times."""
    session[LOGIN_AT] = session[SEEN_AT] = now()


def end() -> None:
    """Log out this browser (the caller bumps the version to end the others)."""
    logout_user()
    session.pop(LOGIN_AT, None)
    session.pop(SEEN_AT, None)


def load_user(user_id: str):
    from sqlalchemy import func, select
    from sqlalchemy.orm import joinedload

    from app.extensions import db
    from app.models import Notification, User

    raw_id, _, raw_version = (user_id or "").partition(":")
    if not raw_id.isdigit() or not raw_version.isdigit() or len(raw_id) > 18:
        return None
    # The department and the unread count come along: every signed-in page shows both (one
    # query, not three). The count is what the page's header shows (app/formatting.py).
    unread = (
        select(func.count(Notification.id))
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    row = db.session.execute(
        select(User, unread.label("unread"))
        .where(User.id == int(raw_id))
        .options(joinedload(User.department))
    ).one_or_none()
    if row is None:
        return None
    user, g.unread_count = row
    if not user.active:
        return None
    if user.session_version != int(raw_version):
        log.info("event=session_revoked user=%s path=%s", user.id, request.path if request else "-")
        return None
    return user


def init_app(app: Flask) -> None:
    from app.extensions import login_manager

    login_manager.user_loader(load_user)
    if app.config.get("TRUSTED_PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    @app.before_request
    def enforce_time_limits():
        if "_user_id" not in session or request.path.startswith("/api/v1"):
            return None  # the API ignores the session: a Bearer token is its only credential
        moment = now()
        login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
        message = None
        if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
            message = "登录状态已失效，请重新登录。"
        elif moment - login_at > app.config["SESSION_ABSOLUTE_SECONDS"]:
            hours = app.config["SESSION_ABSOLUTE_SECONDS"] // 3600
            message = f"登录已超过 {hours} 小时，为安全起见已自动退出，请重新登录。"
        elif moment - seen_at > app.config["SESSION_IDLE_SECONDS"]:
            minutes = app.config["SESSION_IDLE_SECONDS"] // 60
            message = f"您已超过 {minutes} 分钟未操作，为安全起见已自动退出，请重新登录。"
        if message is None:
            session[SEEN_AT] = moment
            return None
        log.info("event=session_expired user=%s path=%s", session.get("_user_id"), request.path)
        end()
        flash(message, "info")
        if request.endpoint in ("auth.login", "static"):
            return None
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))

    @app.after_request
    def session_headers(response):
        # Not is_authenticated: after a commit it would read the (expired) user row again.
        if not isinstance(current_user._get_current_object(), AnonymousUserMixin):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
