"""Admin: edit one department, including its group-chat robot (DingTalk / WeCom webhook)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app import audit
from app.admin import bp
from app.admin.forms import DepartmentEditForm, WebhookTestForm
from app.clock import utcnow
from app.errors import render_error
from app.extensions import db
from app.models import Department
from app.permissions import require
from workflows import channels

FIELDS = ["name", "kind", "webhook_url", "webhook_kind"]
STALE = "该部门已被他人修改，您的修改未保存。请刷新页面后重试。"


def _masked(url: str | None) -> str | None:
    """A webhook URL carries its access token: the audit trail keeps only scheme and host."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


def _snapshot(dept_or_values) -> dict:
    get = dept_or_values.get if isinstance(dept_or_values, dict) else lambda k: getattr(dept_or_values, k)
    snap = {k: get(k) for k in FIELDS}
    snap["webhook_url"] = _masked(snap["webhook_url"])
    return snap


@bp.route("/departments/<int:dept_id>", methods=["GET", "POST"])
@require("admin")
def edit_department(dept_id: int):
    dept = db.session.get(Department, dept_id)
    if dept is None:
        return render_error(404, "部门不存在。")
    form = DepartmentEditForm(obj=dept if not DepartmentEditForm().is_submitted() else None)
    if not form.is_submitted():
        form.token.data = dept.updated_at.isoformat()
        form.webhook_kind.data = dept.webhook_kind or ""
    if form.validate_on_submit():
        url = (form.webhook_url.data or "").strip() or None
        kind = form.webhook_kind.data or None
        if url and not kind:
            form.webhook_kind.errors.append("填写了 Webhook 地址时必须选择机器人类型。")
        else:
            return _save(dept, form, url, kind)
    return render_template("admin/department_form.html", form=form, dept=dept), (400 if form.errors else 200)


def _save(dept: Department, form: DepartmentEditForm, url: str | None, kind: str | None):
    try:
        token = datetime.fromisoformat(form.token.data or "")
    except ValueError:
        return render_error(409, STALE)
    values = {
        "name": form.name.data.strip(),
        "kind": form.kind.data,
        "webhook_url": url,
        "webhook_kind": kind,
    }
    before = _snapshot(dept)
    # Compare-and-set on updated_at: a second editor working from the same page gets 409.
    try:
        result = db.session.execute(
            update(Department)
            .where(Department.id == dept.id, Department.updated_at == token)
            .values(**values, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    except IntegrityError:
        db.session.rollback()
        form.name.errors.append(f"该区域已有名为“{values['name']}”的部门。")
        return render_template("admin/department_form.html", form=form, dept=dept), 400
    if result.rowcount != 1:
        db.session.rollback()
        return render_error(409, STALE)
    audit.record(
        current_user, "department.edit", dept, f"修改部门 {values['name']}", before, _snapshot(values)
    )
    db.session.commit()
    flash("部门已保存。", "success")
    return redirect(url_for("admin.departments"))


@bp.route("/departments/<int:dept_id>/webhook-test", methods=["POST"])
@require("admin")
def test_webhook(dept_id: int):
    """Post one test message to the department's saved robot and say how it went."""
    dept = db.session.get(Department, dept_id)
    if dept is None:
        return render_error(404, "部门不存在。")
    form = WebhookTestForm()
    if not form.validate_on_submit():
        return render_error(400)
    if not dept.webhook_url:
        flash("请先保存群机器人地址和类型。", "error")
        return redirect(url_for("admin.edit_department", dept_id=dept.id))
    title = "星途测试消息"
    markdown = f"### {title}\n\n这是一条来自星途的测试消息：收到即表示「{dept.name}」的群机器人配置正确。"
    try:
        target = channels.post_webhook(dept.webhook_kind, dept.webhook_url, title, markdown, timeout=5)
        outcome, ok = f"测试消息已发送到 {target}。", True
    except channels.SendError as exc:
        outcome, ok = f"测试消息发送失败：{exc}", False
    audit.record(
        current_user,
        "department.webhook_test",
        dept,
        f"向 {dept.name} 的群机器人发送测试消息：{'成功' if ok else '失败'}",
        after={
            "target": channels.webhook_target(dept.webhook_kind, dept.webhook_url),
            "ok": ok,
            "result": outcome,
        },
    )
    db.session.commit()
    flash(outcome, "success" if ok else "error")
    return redirect(url_for("admin.edit_department", dept_id=dept.id))
