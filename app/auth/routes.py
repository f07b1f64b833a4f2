from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app import audit, clock
from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import db
from app.models import User


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
    return url_for("mywork.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is None or not user.check_password(form.password.data) or not user.active:
            flash("用户名或密码错误，或账号已停用。", "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
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
    logout_user()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))
