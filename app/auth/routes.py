import logging
import math
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit, clock, sessions
from app.auth import bp, throttle
from app.auth.forms import LoginForm, PasswordChangeForm
from app.extensions import db
from app.models import User

log = logging.getLogger("starpath.auth")
REFUSED = "用户名或密码错误，或账号已停用。"


def _dummy_hash() -> str:
    """A hash of the configured method, checked when the user name is unknown, so refusing
    an unknown name costs the same as refusing a wrong password."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    cache = current_app.extensions.setdefault("starpath_dummy_hash", {})
    if method not in cache:
        cache[method] = generate_password_hash("starpath-no-such-user", method=method)
    return cache[method]


def _password_ok(user: User | None, password: str) -> bool:
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    # Checked for inactive accounts too: same cost, same answer as a wrong password.
    return user.check_password(password) and user.active


def home_for(user) -> str:
    """The first page after log-in: the leading group and the plan office their plan's
    驾驶舱 (a choice when the region has several plans), the province every area side by
    side, a department its own work."""
    if user.role == "admin":
        return url_for("admin.users")
    if user.role == "province":
        return url_for("dashboard.province_view")
    if user.role in ("leading_group", "plan_office"):
        return url_for("dashboard.home")
    if user.role == "street":  # a 街道 / 镇 office: its communities' assessments
        return url_for("communities.index")
    return url_for("mywork.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        username, address = form.username.data.strip(), request.remote_addr
        wait = throttle.retry_after(username, address)
        if wait is not None:
            log.warning(
                "event=login outcome=throttled username=%r address=%s retry_after=%s", username, address, wait
            )
            minutes = math.ceil(wait / 60)
            flash(f"登录失败次数过多，已暂时锁定。请在 {minutes} 分钟后再试。", "error")
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(wait)}
        user = db.session.scalar(select(User).where(User.username == username))
        if not _password_ok(user, form.password.data):
            throttle.record_failure(username, address)
            log.warning(
                "event=login outcome=failure username=%r address=%s known=%s",
                username,
                address,
                user is not None,
            )
            flash(REFUSED, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        sessions.start(user)
        throttle.clear_name(username)
        log.info("event=login outcome=success username=%r user=%s address=%s", username, user.id, address)
        user.last_login_at = clock.utcnow()
        audit.record(user, "user.login", user, f"{user.display_name}登录")
        db.session.commit()
        target = request.args.get("next", "")
        # Only same-site relative paths, never an open redirect.
        if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
            target = home_for(user)
        return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = current_user._get_current_object()
    user.end_sessions()  # every other copy of this session ends too
    db.session.commit()
    log.info("event=logout user=%s address=%s", user.id, request.remote_addr)
    sessions.end()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not user.check_password(form.current.data):
            form.current.errors.append("当前密码不正确。")
            log.warning("event=password_change outcome=failure user=%s", user.id)
            return render_template("auth/password.html", form=form), 400
        user.set_password(form.new.data)
        user.end_sessions()
        audit.record(user, "user.password", user, f"{user.display_name}修改了自己的密码")
        db.session.commit()
        login_user(user)  # this browser goes on with the new version; the others end
        sessions.start(user)
        log.info("event=password_change outcome=success user=%s", user.id)
        flash("密码已修改，其他设备上的登录已全部退出。", "success")
        return redirect(home_for(user))
    return render_template("auth/password.html", form=form), (400 if form.errors else 200)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))
