"""Admin: the reminder log (one row per reminder and channel), retries, and the mail outbox."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from app import audit
from app.admin import bp
from app.admin.forms import DeliveryRetryForm
from app.errors import render_error
from app.extensions import db
from app.listing import like_escape, search_text
from app.models import Department, Milestone, OutboxMessage, Plan, Reminder, ReminderDelivery, User
from app.models.reminder import CHANNELS, DELIVERY_STATES
from app.params import MAX_ID, MAX_PAGE, form_id, int_arg
from app.permissions import require
from workflows import reminders_send, reminders_upkeep
from workflows.reminder_policy import KIND_LABELS

PER_PAGE = 50


def kind_label(reminder: Reminder) -> str:
    label = KIND_LABELS.get(reminder.kind, reminder.kind)
    if reminder.kind == "before" and reminder.days:
        return f"{label}（提前 {reminder.days} 天）"
    if reminder.kind.endswith("overdue") and reminder.days:
        return f"{label}（逾期 {-reminder.days} 天）"
    return label


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _filters() -> dict:
    """The log's filters. 计划 and 部门 are typed text (a plan's code or part of its title, part
    of a department's name; digits alone name an id, as older links do); an unknown kind,
    channel or status and an unreadable date are ignored, as if the field were empty."""
    return {
        "plan": search_text(request.args.get("plan")) or None,
        "department": search_text(request.args.get("department")) or None,
        "kind": request.args.get("kind") if request.args.get("kind") in KIND_LABELS else None,
        "channel": request.args.get("channel") if request.args.get("channel") in CHANNELS else None,
        "status": request.args.get("status") if request.args.get("status") in DELIVERY_STATES else None,
        "slot_from": _date_arg("slot_from"),
        "slot_to": _date_arg("slot_to"),
    }


def delivery_query(f: dict):
    """Deliveries with their reminder, milestone, plan and recipient, filtered and newest slot first."""
    stmt = (
        select(ReminderDelivery)
        .join(ReminderDelivery.reminder)
        .join(Reminder.milestone)
        .join(Milestone.plan)
        .join(Reminder.recipient)
        .outerjoin(Department, User.department_id == Department.id)
        .options(
            contains_eager(ReminderDelivery.reminder).options(
                contains_eager(Reminder.milestone).contains_eager(Milestone.plan),
                contains_eager(Reminder.recipient).contains_eager(User.department),
            )
        )
    )
    if f["plan"]:
        stmt = stmt.where(_matches(f["plan"], Plan.id, Plan.code, Plan.title))
    if f["department"]:
        stmt = stmt.where(_matches(f["department"], Department.id, Department.name))
    if f["kind"]:
        stmt = stmt.where(Reminder.kind == f["kind"])
    if f["channel"]:
        stmt = stmt.where(ReminderDelivery.channel == f["channel"])
    if f["status"]:
        stmt = stmt.where(ReminderDelivery.status == f["status"])
    if f["slot_from"]:
        stmt = stmt.where(Reminder.slot >= f["slot_from"])
    if f["slot_to"]:
        stmt = stmt.where(Reminder.slot <= f["slot_to"])
    return stmt.order_by(Reminder.slot.desc(), Reminder.id.desc(), ReminderDelivery.channel)


def _matches(text: str, id_column, *text_columns):
    """Digits alone: that id. Else any of the text columns containing the text."""
    if text.isascii() and text.isdigit():
        return id_column == int(text) if int(text) <= MAX_ID else id_column.is_(None)
    pattern = f"%{like_escape(text)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in text_columns))


@bp.route("/reminders")
@require("admin")
def reminders():
    f = _filters()
    page = db.paginate(
        delivery_query(f),
        page=int_arg("page", high=MAX_PAGE, default=1, strict=False),
        per_page=PER_PAGE,
        error_out=False,
    )
    # Query-string of the current filters, for the pager links.
    args = {k: v.isoformat() if isinstance(v, date) else v for k, v in f.items() if v}
    return render_template(
        "admin/reminders.html",
        page=page,
        f=f,
        args=args,
        kinds=KIND_LABELS,
        channels=CHANNELS,
        states=DELIVERY_STATES,
        kind_label=kind_label,
        form=DeliveryRetryForm(),
    )


@bp.route("/reminders/retry", methods=["POST"])
@require("admin")
def retry_reminder():
    form = DeliveryRetryForm()
    if not form.validate_on_submit():
        return render_error(400)
    delivery_id = form_id(form.delivery_id.data)
    delivery = db.session.get(ReminderDelivery, delivery_id) if delivery_id else None
    if delivery is None:
        return render_error(404)
    before = audit.snapshot(delivery, ["status", "attempts", "error"])
    try:
        reset = reminders_upkeep.retry_delivery(delivery.id)
    except reminders_upkeep.RetryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(_back_to_log())
    if not reset:
        db.session.rollback()
        flash("该发送记录已不是“发送失败”状态（可能已被他人重新发送），未做修改。", "error")
    else:
        db.session.refresh(delivery)
        reminder = delivery.reminder
        channel = CHANNELS.get(delivery.channel, delivery.channel)
        audit.record(
            current_user,
            "reminder.retry",
            delivery,
            f"重新发送提醒：{reminder.milestone.title} → {reminder.recipient.display_name}（{channel}）",
            before=before,
            after=audit.snapshot(delivery, ["status", "attempts", "error"]),
            milestone=delivery.reminder.milestone,
        )
        db.session.commit()
        reminders_send.enqueue_send()  # after the commit, so the run sees the reset row
        flash("已重新排入发送队列。", "success")
    return redirect(_back_to_log())


def _back_to_log() -> str:
    """The filtered log page the form was posted from (only ever a path inside the log)."""
    target = request.form.get("next", "")
    if target.startswith("/admin/reminders") and "//" not in target and "\\" not in target:
        return target
    return url_for("admin.reminders")


@bp.route("/outbox")
@require("admin")
def outbox():
    """The outbox, newest first, PER_PAGE a page; ?q= finds part of an address or a subject."""
    q = search_text(request.args.get("q"))
    stmt = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if q:
        pattern = f"%{like_escape(q)}%"
        stmt = stmt.where(
            or_(
                OutboxMessage.to_address.ilike(pattern, escape="\\"),
                OutboxMessage.subject.ilike(pattern, escape="\\"),
            )
        )
    page = db.paginate(
        stmt,
        page=int_arg("page", high=MAX_PAGE, default=1, strict=False),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("admin/outbox.html", page=page, q=q)


@bp.route("/outbox/<int:message_id>")
@require("admin")
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return render_error(404, "邮件不存在。")
    user = db.session.get(User, message.user_id) if message.user_id else None
    return render_template("admin/outbox_message.html", m=message, user=user)
