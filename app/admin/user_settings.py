"""Admin: view and edit any user's reminder settings (the same form the user has)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.errors import render_error
from app.extensions import db
from app.models import User
from app.notify import settings
from app.notify.forms import NotificationSettingForm
from app.permissions import require

STALE = "该用户的提醒设置已被本人或其他管理员修改，您的修改未保存。请刷新页面后重试。"


@bp.route("/users/<int:user_id>/notifications", methods=["GET", "POST"])
@require("admin")
def user_notifications(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        return render_error(404, "用户不存在。")
    form = NotificationSettingForm()
    outcome = settings.handle_form(form, user, current_user)
    if outcome == "stale":
        return render_error(409, STALE)
    if outcome == "saved":
        flash(f"已保存 {user.display_name} 的提醒设置。", "success")
        return redirect(url_for("admin.user_notifications", user_id=user.id))
    page = render_template(
        "notify/settings.html",
        form=form,
        target=user,
        action=url_for("admin.user_notifications", user_id=user.id),
        plans=[],
    )
    return page, (400 if form.errors else 200)
