"""Reminder settings: each user's own channels, and a plan's reminder policy and node leaders."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit
from app.errors import render_error
from app.extensions import db
from app.models import Plan, ReminderPolicy, User
from app.models.reminder import DEFAULT_BEFORE_DAYS
from app.notify import bp, leaders, settings
from app.notify.forms import LeadersForm, NotificationSettingForm, ReminderPolicyForm
from app.params import form_id
from app.permissions import ensure, has_permission

POLICY_FIELDS = [
    "before_days",
    "overdue_every_days",
    "escalate_overdue_days",
    "escalate_returned_days",
    "include_co_departments",
    "escalate_notices",
    "status_soon_days",
    "status_behind_points",
]
STALE_SETTINGS = "提醒设置已在其他窗口或被管理员修改，您的修改未保存。请刷新页面后重试。"
STALE_POLICY = "该计划的提醒规则已被他人修改，您的修改未保存，当前规则保持不变。请刷新页面后重试。"
STALE_LEADERS = "负责领导已被他人修改，您的修改未保存。请刷新页面后重试。"


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def my_settings():
    form = NotificationSettingForm()
    outcome = settings.handle_form(form, current_user, current_user)
    if outcome == "stale":
        return render_error(409, STALE_SETTINGS)
    if outcome == "saved":
        flash("提醒设置已保存。", "success")
        return redirect(url_for("notify.my_settings"))
    plans = db.session.scalars(select(Plan).where(access.plan_filter(current_user)).order_by(Plan.code)).all()
    return render_template(
        "notify/settings.html",
        form=form,
        target=current_user,
        action=url_for("notify.my_settings"),
        plans=plans,
    ), (400 if form.errors else 200)


def policy_values(plan_id: int) -> tuple[ReminderPolicy | None, dict]:
    """The plan's policy row (None when it has none) and the values in force."""
    row = db.session.scalar(select(ReminderPolicy).where(ReminderPolicy.plan_id == plan_id))
    if row is not None:
        return row, {f: getattr(row, f) for f in POLICY_FIELDS}
    values = settings.column_defaults(ReminderPolicy, POLICY_FIELDS)
    values["before_days"] = list(values["before_days"] or DEFAULT_BEFORE_DAYS)
    return None, values


def _policy_page(plan, form=None, leaders_form=None, status: int = 200):
    row, values = policy_values(plan.id)
    can_edit = has_permission(current_user, "edit_plan")
    if form is None:
        form = ReminderPolicyForm(formdata=None)
        form.version.data = str(row.version) if row else "0"
        form.before_days.data = ",".join(str(d) for d in values["before_days"])
        for name in POLICY_FIELDS[1:]:
            getattr(form, name).data = values[name]
    roots, candidates, token = leaders.state(plan)
    leader_ids = {n.leader_id for n in roots if n.leader_id}
    leader_names = {
        u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(leader_ids)))
    }
    if leaders_form is None:
        leaders_form = LeadersForm(formdata=None)
        leaders_form.token.data = token
    return (
        render_template(
            "notify/policy.html",
            plan=plan,
            values=values,
            has_row=row is not None,
            form=form,
            can_edit=can_edit,
            roots=roots,
            candidates=candidates,
            candidate_ids={u.id for u in candidates},
            leader_names=leader_names,
            leaders_form=leaders_form,
        ),
        status,
    )


@bp.route("/plans/<code>/reminder-policy", methods=["GET", "POST"])
@login_required
def policy(code: str):
    plan = access.load_plan(current_user, code)
    if request.method == "GET":
        return _policy_page(plan)
    ensure(current_user, "edit_plan")
    form = ReminderPolicyForm()
    if not form.validate_on_submit():
        return _policy_page(plan, form=form, status=400)
    row, before = policy_values(plan.id)
    if (form.version.data or "") != (str(row.version) if row else "0"):
        return render_error(409, STALE_POLICY)
    if row is None:
        row = ReminderPolicy(plan_id=plan.id)
        db.session.add(row)
    row.before_days = form.parsed_before_days
    for name in POLICY_FIELDS[1:]:
        setattr(row, name, getattr(form, name).data)
    after = {f: getattr(row, f) for f in POLICY_FIELDS}
    try:
        db.session.flush()
        audit.record(
            current_user,
            "reminder_policy.edit",
            row,
            f"修改计划 {plan.code} 的提醒规则",
            before,
            after,
            region_id=plan.region_id,
        )
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        return render_error(409, STALE_POLICY)
    flash("提醒规则已保存：三色状态即时按新规则计算，提醒在下次扫描起生效。", "success")
    return redirect(url_for("notify.policy", code=plan.code))


@bp.route("/plans/<code>/reminder-policy/leaders", methods=["POST"])
@login_required
def policy_leaders(code: str):
    plan = access.load_plan(current_user, code)
    ensure(current_user, "edit_plan")
    form = LeadersForm()
    if not form.validate_on_submit():
        return render_error(400)
    roots, candidates, token = leaders.state(plan)
    allowed = {u.id for u in candidates}
    chosen: dict[int, int | None] = {}
    for node in roots:
        raw = request.form.get(f"leader_{node.id}", "")
        value = form_id(raw) if raw.strip() not in ("", "0") else None
        if raw.strip() not in ("", "0") and value is None or value not in allowed | {None, node.leader_id}:
            flash(f"“{node.title}”所选的负责领导不是本区域领导小组成员。", "error")
            return _policy_page(plan, leaders_form=form, status=400)
        chosen[node.id] = value
    if (form.token.data or "") != token:
        return render_error(409, STALE_LEADERS)
    try:
        changes = leaders.assign(roots, chosen)
    except leaders.StaleLeaders:
        db.session.rollback()
        return render_error(409, STALE_LEADERS)
    if changes:
        ids = {new for _, _, new in changes if new}
        names = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
        audit.record(
            current_user,
            "plan.leaders",
            plan,
            "指定负责领导：" + "；".join(f"{n.title} → {names.get(new, '未指定')}" for n, _, new in changes),
            before={n.key: old for n, old, _ in changes},
            after={n.key: new for n, _, new in changes},
            region_id=plan.region_id,
        )
    db.session.commit()
    flash("负责领导已保存。" if changes else "负责领导没有变化。", "success")
    return redirect(url_for("notify.policy", code=plan.code))
