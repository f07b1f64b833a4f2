"""Send the reminders the scan wrote: one ReminderDelivery row per reminder and channel.

send_pending() runs in four steps, each committed on its own:
  1. cancel  — reminders no longer valid (milestone done, a new due date, the
     returned report resubmitted, the notice answered) and their pending rows;
  2. expire  — rows left "sending" longer than LEASE (a worker killed while
     sending) become "failed": the message may have gone out, so it is never
     sent again by itself (at most once); an admin may retry it;
  3. plan    — pending rows due by the clock are grouped into messages: a digest
     user gets one message per channel listing all items (from their digest hour
     on, local time UTC+8, at most one a day), an immediate user one per reminder;
     a department's chat robot gets each item once, however many of its users
     it is for;
  4. send    — each message first claims its rows with one conditional UPDATE
     (status pending → sending, a fresh claim id), so two concurrent sends never
     take the same row on SQLite or PostgreSQL, and sends only what it claimed.
     In-app and outbox mail are database writes: claim, write and "sent" are one
     transaction (exactly once). SMTP and webhooks are outside: the claim is
     committed first, then the message is sent, then the rows are marked.

Attempts: `attempts` counts claims, i.e. send attempts. A transient failure
puts the rows back to pending after BACKOFF[attempts - 1]; "retried three
times" means the first attempt plus three retries, so the fourth transient
failure (attempts == MAX_ATTEMPTS) is final: the row becomes "failed".
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parseaddr

from flask import current_app, has_app_context
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.models import (
    Department,
    Milestone,
    Notice,
    NotificationSetting,
    ProgressReport,
    Reminder,
    ReminderDelivery,
    User,
)
from app.models.reminder import CHANNELS
from workflows import channels, text
from workflows.dbutil import chunks
from workflows.queue import enqueue_quietly

log = logging.getLogger(__name__)

JOB = "workflows.reminders_send.send_job"
JOB_ID = "reminders-send"
LEASE = timedelta(minutes=10)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
MAX_ATTEMPTS = 1 + len(BACKOFF)  # the first attempt and three retries
LOCAL_OFFSET = timedelta(hours=8)  # digest hours are Beijing time
LEASE_EXPIRED = (
    "发送过程被中断（超过 {minutes} 分钟未完成），邮件或群消息可能已经送达；"
    "为避免重复发送，系统不会自动重发，请核实后由管理员手动重发。"
)


class RetryError(ValueError):
    """An admin's retry that cannot be done (message in Chinese)."""


@dataclass
class Unit:
    """One message to send: a channel, a destination and the delivery rows it covers."""

    channel: str
    ids: list[int]
    user_id: int | None = None
    department_id: int | None = None
    digest: bool = False
    covered: bool = False  # webhook items the department's chat already has: mark, do not post


@dataclass
class Settings:
    email: bool
    webhook: bool
    digest: bool
    digest_hour: int


@dataclass
class Result:
    counts: dict = field(default_factory=lambda: {"cancelled": 0, "expired": 0, "held": 0})

    def add(self, channel: str, outcome: str, n: int = 1) -> None:
        per = self.counts.setdefault(
            channel, {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0, "messages": 0}
        )
        per[outcome] += n


# --- the job ------------------------------------------------------------------


def enqueue_send():
    """Queue one send run (a run still waiting is reused); None when Redis is down."""
    return enqueue_quietly(JOB, queue="high", job_id=JOB_ID, title="发送到期提醒")


def send_job() -> dict:
    """The rq entry point: the worker keeps an app context pushed."""
    if has_app_context():
        return send_pending()
    from app import create_app

    with create_app().app_context():
        return send_pending()


def send_pending(now: datetime | None = None, respect_digest: bool = True) -> dict:
    """Cancel, expire, then send what is due. `now` is naive UTC (default: the real time).

    respect_digest=False sends digest users' items at once (still one message per
    channel) instead of waiting for their digest hour. Returns counts: cancelled
    reminders, expired leases, held rows, and per channel the rows sent / put back
    for a retry / failed / cancelled and the number of messages sent.
    """
    now = now or clock.utcnow()
    today = clock.today()
    result = Result()
    result.counts["cancelled"] = cancel_invalid()
    result.counts["expired"] = expire_leases(now)
    for unit in plan_units(now, today, respect_digest, result):
        send_unit(unit, now, today, result)
    log.info("reminder send: %s", result.counts)
    return result.counts


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
    if reminder.kind == "escalate_notice" and (notice is None or notice.replied_at is not None):
        return "督办单已答复"
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


# --- 3. plan ------------------------------------------------------------------


def settings_for(user_ids: set[int]) -> dict[int, Settings]:
    """Each user's settings; a user without a row gets the model's defaults."""
    cols = NotificationSetting.__table__.c
    default = Settings(
        email=cols.email.default.arg,
        webhook=cols.webhook.default.arg,
        digest=cols.digest.default.arg,
        digest_hour=cols.digest_hour.default.arg,
    )
    found = {}
    if user_ids:
        for row in db.session.scalars(
            select(NotificationSetting).where(NotificationSetting.user_id.in_(user_ids))
        ):
            found[row.user_id] = Settings(row.email, row.webhook, row.digest, row.digest_hour)
    return {uid: found.get(uid, default) for uid in user_ids}


def _due_rows(now: datetime, today: date):
    return db.session.execute(
        select(
            ReminderDelivery.id,
            ReminderDelivery.channel,
            ReminderDelivery.next_attempt_at,
            Reminder.recipient_id,
            Reminder.milestone_id,
            Reminder.kind,
            Reminder.slot,
            User.active,
            User.department_id,
            Department.webhook_url,
        )
        .join(Reminder, ReminderDelivery.reminder_id == Reminder.id)
        .join(User, Reminder.recipient_id == User.id)
        .outerjoin(Department, User.department_id == Department.id)
        .where(
            ReminderDelivery.status == "pending",
            Reminder.status == "pending",
            Reminder.send_on <= today,
            or_(ReminderDelivery.next_attempt_at.is_(None), ReminderDelivery.next_attempt_at <= now),
        )
        .order_by(ReminderDelivery.id)
    ).all()


def _skip_reason(row, settings: Settings) -> str | None:
    if not row.active:
        return "用户已停用"
    if row.channel not in CHANNELS:
        return f"未知的渠道 {row.channel}"
    if row.channel == "email" and not settings.email:
        return "用户已关闭邮件提醒"
    if row.channel == "webhook" and not settings.webhook:
        return "用户已关闭群机器人提醒"
    if row.channel == "webhook" and not row.webhook_url:
        return "所在部门未配置钉钉/企业微信群机器人"
    return None


def local_midnight_utc(now: datetime) -> datetime:
    """The start of the local (UTC+8) day of `now`, in naive UTC."""
    local = now + LOCAL_OFFSET
    return datetime.combine(local.date(), datetime.min.time()) - LOCAL_OFFSET


def _had_message_today(now: datetime, user_ids: set[int]) -> set[tuple[int, str]]:
    """(user, channel) pairs that already got a message since local midnight."""
    if not user_ids:
        return set()
    rows = db.session.execute(
        select(Reminder.recipient_id, ReminderDelivery.channel)
        .join(Reminder, ReminderDelivery.reminder_id == Reminder.id)
        .where(
            Reminder.recipient_id.in_(user_ids),
            ReminderDelivery.status == "sent",
            ReminderDelivery.sent_at >= local_midnight_utc(now),
        )
        .distinct()
    )
    return {(r.recipient_id, r.channel) for r in rows}


def _posted_to_department(department_id: int, milestone_ids: set[int]) -> set[tuple]:
    """(milestone, kind, slot) items the department's chat robot already received."""
    rows = db.session.execute(
        select(Reminder.milestone_id, Reminder.kind, Reminder.slot)
        .join(ReminderDelivery, ReminderDelivery.reminder_id == Reminder.id)
        .join(User, Reminder.recipient_id == User.id)
        .where(
            ReminderDelivery.channel == "webhook",
            ReminderDelivery.status == "sent",
            User.department_id == department_id,
            Reminder.milestone_id.in_(milestone_ids),
        )
    )
    return {tuple(r) for r in rows}


def plan_units(now: datetime, today: date, respect_digest: bool, result: Result) -> list[Unit]:
    """Group the due rows into messages; rows that must not be sent are cancelled here."""
    rows = _due_rows(now, today)
    settings = settings_for({r.recipient_id for r in rows})
    skipped: dict[str, list[int]] = defaultdict(list)
    eligible = []
    local_hour = (now + LOCAL_OFFSET).hour
    for row in rows:
        reason = _skip_reason(row, settings[row.recipient_id])
        if reason:
            skipped[reason].append(row.id)
            result.add(row.channel, "cancelled")
            continue
        s = settings[row.recipient_id]
        # A retry (next_attempt_at set) keeps its own schedule; a first send waits for the digest hour.
        if respect_digest and s.digest and row.next_attempt_at is None and local_hour < s.digest_hour:
            result.counts["held"] += 1
            continue
        eligible.append(row)
    _cancel_rows(skipped)

    digest_users = {r.recipient_id for r in eligible if settings[r.recipient_id].digest}
    had_today = _had_message_today(now, digest_users) if respect_digest else set()
    units: list[Unit] = []
    per_user: dict[tuple[int, str], list[int]] = defaultdict(list)
    per_department: dict[int, list] = defaultdict(list)
    for row in eligible:
        s = settings[row.recipient_id]
        if row.channel == "webhook":
            per_department[row.department_id].append(row)
        elif not s.digest:
            units.append(Unit(row.channel, [row.id], user_id=row.recipient_id))
        elif (row.recipient_id, row.channel) in had_today and row.next_attempt_at is None:
            result.counts["held"] += 1  # one digest a day: the rest waits for tomorrow's
        else:
            per_user[(row.recipient_id, row.channel)].append(row.id)
    for (user_id, channel), ids in per_user.items():
        units.append(Unit(channel, ids, user_id=user_id, digest=True))
    for department_id, dept_rows in per_department.items():
        units += _webhook_units(department_id, dept_rows, settings)
    return units


def _webhook_units(department_id: int, rows: list, settings: dict[int, Settings]) -> list[Unit]:
    """A department chat hears of each item once: one post per item wanted at once, one
    list for the items only digest users wait for, and none for items it already got."""
    posted = _posted_to_department(department_id, {r.milestone_id for r in rows})
    by_item: dict[tuple, list] = defaultdict(list)
    for row in rows:
        by_item[(row.milestone_id, row.kind, row.slot)].append(row)
    units, bundled = [], []
    for key, item_rows in by_item.items():
        ids = [r.id for r in item_rows]
        if key in posted:
            units.append(Unit("webhook", ids, department_id=department_id, covered=True))
        elif any(not settings[r.recipient_id].digest for r in item_rows):
            units.append(Unit("webhook", ids, department_id=department_id))
        else:
            bundled += ids
    if bundled:
        units.append(Unit("webhook", bundled, department_id=department_id, digest=True))
    return units


def _cancel_rows(by_reason: dict[str, list[int]]) -> None:
    for reason, ids in by_reason.items():
        for part in chunks(ids, 500):
            db.session.execute(
                update(ReminderDelivery)
                .where(ReminderDelivery.id.in_(part), ReminderDelivery.status == "pending")
                .values(status="cancelled", error=reason)
                .execution_options(synchronize_session=False)
            )
    db.session.commit()


# --- 4. send ------------------------------------------------------------------


def claim(ids: list[int], now: datetime) -> str | None:
    """Take the rows that are still pending and due for this send; None if another took them all.

    One UPDATE ... WHERE status = 'pending': on SQLite writers are serialised, on
    PostgreSQL the second UPDATE waits for the first and re-checks the condition,
    so a row is claimed by one send only. Does not commit.
    """
    token = uuid.uuid4().hex
    result = db.session.execute(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.id.in_(ids),
            ReminderDelivery.status == "pending",
            or_(ReminderDelivery.next_attempt_at.is_(None), ReminderDelivery.next_attempt_at <= now),
            ReminderDelivery.reminder_id.in_(select(Reminder.id).where(Reminder.status == "pending")),
        )
        .values(status="sending", claim=token, claimed_at=now, attempts=ReminderDelivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return token if result.rowcount else None


def _claimed_rows(token: str) -> list[ReminderDelivery]:
    return list(
        db.session.scalars(
            select(ReminderDelivery)
            .where(ReminderDelivery.claim == token)
            .options(
                joinedload(ReminderDelivery.reminder)
                .joinedload(Reminder.recipient)
                .joinedload(User.department),
                joinedload(ReminderDelivery.reminder)
                .joinedload(Reminder.milestone)
                .options(joinedload(Milestone.plan), joinedload(Milestone.lead_department)),
            )
            .order_by(ReminderDelivery.id)
            .execution_options(populate_existing=True)
        ).unique()
    )


def item_of(reminder: Reminder) -> text.Item:
    milestone = reminder.milestone
    since = None
    if reminder.kind == "escalate_returned" and reminder.report_id:
        report = db.session.get(ProgressReport, reminder.report_id)
        since = report.reviewed_at.date() if report and report.reviewed_at else None
    elif reminder.kind == "escalate_notice" and reminder.notice_id:
        notice = db.session.get(Notice, reminder.notice_id)
        since = notice.reply_due if notice else None
    return text.Item(
        milestone_id=milestone.id,
        title=milestone.title,
        plan_title=milestone.plan.title,
        department=milestone.lead_department.name,
        kind=reminder.kind,
        due_date=reminder.due_date,
        since=since,
    )


def _items(rows: list[ReminderDelivery]) -> list[text.Item]:
    seen, items = set(), []
    for row in rows:
        item = item_of(row.reminder)
        if item.key not in seen:
            seen.add(item.key)
            items.append(item)
    return items


def send_unit(unit: Unit, now: datetime, today: date, result: Result) -> None:
    token = claim(unit.ids, now)
    if token is None:
        db.session.rollback()
        return
    rows = _claimed_rows(token)
    config = current_app.config
    if unit.channel == "in_app" or (unit.channel == "email" and not channels.smtp_configured(config)):
        _send_in_database(unit, rows, token, now, today, result)
        return
    db.session.commit()  # the claim is durable before anything leaves the building
    recipient = rows[0].reminder.recipient
    department = recipient.department
    try:
        if unit.channel == "webhook" and department is None:
            raise channels.SendError("收件人不属于任何部门，没有群机器人可发")
        if unit.channel == "webhook" and unit.covered:
            target = channels.webhook_target(department.webhook_kind, department.webhook_url)
            _mark_sent(rows, now, f"{target}（该部门群已收到此提醒）")
            result.add("webhook", "sent", len(rows))
            db.session.commit()
            return
        message = _message(unit, rows, today, config)
        if unit.channel == "email":
            target = channels.send_smtp(
                config, recipient.email, message.subject, message.body, _message_id(token, config), now
            )
            channels.add_outbox(recipient.id, target, message.subject, message.body, "smtp", token)
        else:
            target = channels.post_webhook(
                department.webhook_kind,
                department.webhook_url,
                message.subject,
                message.markdown,
                float(config.get("WEBHOOK_TIMEOUT", 10)),
            )
    except channels.SendError as exc:
        _after_failure(rows, now, str(exc), exc.transient, unit.channel, result)
        db.session.commit()
        return
    except Exception as exc:  # a bug after the claim: record it, never leave the rows "sending" unexplained
        log.exception("reminder send failed unexpectedly (claim %s)", token)
        db.session.rollback()
        rows = _claimed_rows(token)
        _after_failure(
            rows, now, f"发送时出现内部错误（{exc!r}），{channels.UNCERTAIN}", False, unit.channel, result
        )
        db.session.commit()
        return
    _mark_sent(rows, now, target)
    result.add(unit.channel, "sent", len(rows))
    result.add(unit.channel, "messages")
    db.session.commit()


def _send_in_database(unit: Unit, rows, token: str, now: datetime, today: date, result: Result) -> None:
    """In-app and outbox mail: claim, message and "sent" commit together (exactly once)."""
    recipient = rows[0].reminder.recipient
    items = _items(rows)
    outbox = None
    if unit.channel == "in_app":
        link = items[0].path if len(items) == 1 or recipient.department_id is None else "/my"
        channels.add_notification(recipient.id, text.in_app_text(items, today), link)
        target = f"站内消息：{recipient.username}"
    elif not recipient.email or "@" not in recipient.email:
        _after_failure(rows, now, "收件人未设置有效的邮箱地址", False, "email", result)
        db.session.commit()
        return
    else:
        message = _message(unit, rows, today, current_app.config)
        outbox = channels.add_outbox(
            recipient.id, recipient.email, message.subject, message.body, "outbox", token
        )
        target = recipient.email
    _mark_sent(rows, now, target)
    db.session.commit()
    result.add(unit.channel, "sent", len(rows))
    result.add(unit.channel, "messages")
    if outbox is not None:
        # After the commit: the file never shows a message the outbox table does not hold.
        channels.append_outbox_file(
            current_app.config["MAIL_OUTBOX_PATH"], outbox.to_address, outbox.subject, outbox.body, now
        )


def _message(unit: Unit, rows, today: date, config) -> text.Message:
    items = _items(rows)
    recipient = rows[0].reminder.recipient
    base_url = config.get("MAIL_BASE_URL") or ""
    if unit.channel == "webhook":
        return text.digest(items, today, recipient.department.name, base_url)
    return text.digest(items, today, recipient.display_name, base_url)


def _message_id(token: str, config) -> str:
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "starpath"
    return f"<{token}@{domain}>"


def _mark_sent(rows, now: datetime, target: str) -> None:
    for row in rows:
        row.status = "sent"
        row.sent_at = now
        row.target = target[:256]
        row.error = None
        row.next_attempt_at = None


def _after_failure(rows, now: datetime, error: str, transient: bool, channel: str, result: Result) -> None:
    for row in rows:
        if transient and row.attempts < MAX_ATTEMPTS:
            row.status = "pending"
            row.next_attempt_at = now + BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
            row.error = f"第 {row.attempts} 次发送失败，将于稍后重试：{error}"
            result.add(channel, "retry")
        else:
            row.status = "failed"
            row.next_attempt_at = None
            row.error = f"发送 {row.attempts} 次均失败：{error}" if transient else error
            result.add(channel, "failed")


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
