"""Grouping pending reminder deliveries into messages (step 3 of a send, see
workflows/reminders_send.py): digests per user and channel, immediate messages,
and each item once per department chat.

In-app messages are never held: whatever a send finds due for a user goes into the
站内消息 at once (several items of one run in one message for a digest user); the
digest hour and the one-digest-a-day rule apply to mail and chat only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select, update

from app.dates import LOCAL_OFFSET  # digest hours are Beijing time
from app.extensions import db
from app.models import (
    Department,
    NotificationSetting,
    Reminder,
    ReminderDelivery,
    User,
)
from app.models.reminder import CHANNELS
from workflows.dbutil import chunks


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
    # {plan id: {milestone id: 三色 Status}}, computed once per plan in a send run.
    statuses: dict = field(default_factory=dict)

    def add(self, channel: str, outcome: str, n: int = 1) -> None:
        per = self.counts.setdefault(
            channel, {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0, "messages": 0}
        )
        per[outcome] += n


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
        # In-app messages go at once (the digest hour is for mail and chat). A retry
        # (next_attempt_at set) keeps its own schedule; a first send waits for the digest hour.
        if (
            respect_digest
            and row.channel != "in_app"
            and s.digest
            and row.next_attempt_at is None
            and local_hour < s.digest_hour
        ):
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
        elif row.channel == "in_app":
            # At once, and never held for tomorrow: one message for what this run has.
            per_user[(row.recipient_id, row.channel)].append(row.id)
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
