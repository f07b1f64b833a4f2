"""Upkeep around sending reminders: cancel what is no longer valid, expire claims a
killed worker left behind, and an admin's retry of a failed delivery.

Cancelling and expiring run first in every send (workflows/reminders_send.py);
the rules are in that module's docstring (steps 1 and 2).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.models import (
    Notice,
    ProgressReport,
    Reminder,
    ReminderDelivery,
)
from app.models.notice import AWAITING_DEPARTMENT
from workflows import text

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
LEASE_EXPIRED = (
    "发送过程被中断（超过 {minutes} 分钟未完成），邮件或群消息可能已经送达；"
    "为避免重复发送，系统不会自动重发，请核实后由管理员手动重发。"
)


class RetryError(ValueError):
    """An admin's retry that cannot be done (message in Chinese)."""


# --- 1. cancel ----------------------------------------------------------------


def invalid_reason(reminder: Reminder, report: ProgressReport | None, notice: Notice | None) -> str | None:
    """Why a reminder should no longer be sent, or None while it is still valid."""
    milestone = reminder.milestone
    if milestone.status == "done":
        return "里程碑已完成"
    if milestone.due_date != reminder.due_date:
        return f"到期日已调整为 {text.cn_date(milestone.due_date)}"
    if reminder.kind == "escalate_returned" and (report is None or report.state != "returned"):
        return "退回的汇报已重新提交"
    if reminder.kind == "escalate_notice" and (notice is None or notice.state not in AWAITING_DEPARTMENT):
        return "督办单已反馈"
    if reminder.kind == "escalate_unacknowledged" and (notice is None or notice.state != "issued"):
        return "督办单已签收"
    return None


def cancel_invalid() -> int:
    """Cancel reminders with pending rows that are no longer valid; returns how many."""
    reminders = db.session.scalars(
        select(Reminder)
        .where(Reminder.status == "pending", Reminder.deliveries.any(ReminderDelivery.status == "pending"))
        .options(joinedload(Reminder.milestone))
        .order_by(Reminder.id)  # one lock order for concurrent runs
    ).all()
    reports = _by_id(ProgressReport, {r.report_id for r in reminders if r.report_id})
    notices = _by_id(Notice, {r.notice_id for r in reminders if r.notice_id})
    cancelled = 0
    for reminder in reminders:
        reason = invalid_reason(reminder, reports.get(reminder.report_id), notices.get(reminder.notice_id))
        if reason is None:
            continue
        reminder.status = "cancelled"
        reminder.cancelled_reason = reason[:128]
        db.session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.reminder_id == reminder.id, ReminderDelivery.status == "pending")
            .values(status="cancelled", error=f"提醒已取消：{reason}")
            .execution_options(synchronize_session=False)
        )
        cancelled += 1
    db.session.commit()
    return cancelled


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {obj.id: obj for obj in db.session.scalars(select(model).where(model.id.in_(ids)))}


# --- 2. expire ----------------------------------------------------------------


def expire_leases(now: datetime) -> int:
    """Rows stuck in "sending" past the lease become failed, never sent again by themselves."""
    result = db.session.execute(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.status == "sending",
            or_(ReminderDelivery.claimed_at.is_(None), ReminderDelivery.claimed_at < now - LEASE),
        )
        .values(status="failed", error=LEASE_EXPIRED.format(minutes=int(LEASE.total_seconds() // 60)))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


# --- admins -------------------------------------------------------------------


def retry_delivery(delivery_id: int, now: datetime | None = None) -> bool:
    """An admin's retry: a failed row goes back to pending with attempts 0 and no error.

    The next run sends it at once (next_attempt_at = now marks it a retry, so it is
    not held for a digest hour). A conditional UPDATE: two admins retrying at once
    reset it once. False when there is no such row or it is not (or no longer)
    failed; RetryError (Chinese message) when its reminder is cancelled or no longer
    valid. Does not commit: the caller does, then calls enqueue_send().
    """
    delivery = db.session.get(ReminderDelivery, delivery_id)
    if delivery is None or delivery.status != "failed":
        return False
    reminder = delivery.reminder
    reason = invalid_reason(
        reminder,
        db.session.get(ProgressReport, reminder.report_id) if reminder.report_id else None,
        db.session.get(Notice, reminder.notice_id) if reminder.notice_id else None,
    )
    if reminder.status != "pending" or reason:
        raise RetryError(f"提醒已失效，不再发送：{reason or reminder.cancelled_reason or '已取消'}。")
    result = db.session.execute(
        update(ReminderDelivery)
        .where(and_(ReminderDelivery.id == delivery_id, ReminderDelivery.status == "failed"))
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=now or clock.utcnow(),
            claim=None,
            claimed_at=None,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(delivery)
    return result.rowcount == 1
