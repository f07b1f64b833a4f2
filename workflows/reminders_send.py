"""Send the reminders the scan wrote: one ReminderDelivery row per reminder and channel.

send_pending() runs in four steps, each committed on its own (steps 1–2 live in
reminders_upkeep.py, step 3 in reminders_batches.py):
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
from datetime import date, datetime, timedelta
from email.utils import parseaddr

from flask import current_app, has_app_context
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from app import clock
from app.dates import local_date
from app.extensions import db
from app.models import (
    Milestone,
    Notice,
    ProgressReport,
    Reminder,
    ReminderDelivery,
    User,
)
from app.status import plan_status
from workflows import channels, text
from workflows.queue import enqueue_quietly
from workflows.reminders_batches import Result, Unit, plan_units
from workflows.reminders_upkeep import cancel_invalid, expire_leases

log = logging.getLogger(__name__)

JOB = "workflows.reminders_send.send_job"
JOB_ID = "reminders-send"
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
MAX_ATTEMPTS = 1 + len(BACKOFF)  # the first attempt and three retries


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


def status_of(milestone: Milestone, cache: dict):
    """The milestone's 三色 status now (the pages' rule), one plan_status per plan and run."""
    if milestone.plan_id not in cache:
        rows = plan_status(milestone.plan).rows
        cache[milestone.plan_id] = {mid: row.status for mid, row in rows.items()}
    return cache[milestone.plan_id].get(milestone.id)


def item_of(reminder: Reminder, cache: dict | None = None) -> text.Item:
    milestone = reminder.milestone
    st = status_of(milestone, cache if cache is not None else {})
    since = None
    if reminder.kind == "escalate_returned" and reminder.report_id:
        report = db.session.get(ProgressReport, reminder.report_id)
        since = local_date(report.reviewed_at) if report and report.reviewed_at else None
    department = milestone.lead_department.name
    if reminder.kind in ("escalate_notice", "escalate_unacknowledged") and reminder.notice_id:
        notice = db.session.get(Notice, reminder.notice_id)
        if notice is not None:
            department = notice.department.name  # the department the notice went to
            if reminder.kind == "escalate_notice":
                since = notice.reply_due
            else:
                since = local_date(notice.issued_at)
    return text.Item(
        milestone_id=milestone.id,
        title=milestone.title,
        plan_title=milestone.plan.title,
        department=department,
        kind=reminder.kind,
        due_date=reminder.due_date,
        since=since,
        colour=st.label if st is not None else "",
        why="；".join(st.reasons) if st is not None else "",
    )


def _items(rows: list[ReminderDelivery], result: Result) -> list[text.Item]:
    seen, items = set(), []
    for row in rows:
        item = item_of(row.reminder, result.statuses)
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
        message = _message(unit, rows, today, config, result)
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
    items = _items(rows, result)
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
        message = _message(unit, rows, today, current_app.config, result)
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


def _message(unit: Unit, rows, today: date, config, result: Result) -> text.Message:
    items = _items(rows, result)
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
