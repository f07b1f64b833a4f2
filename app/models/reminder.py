"""Deadline reminders: the per-plan policy, the holiday calendar, per-user settings,
the reminders themselves and one delivery row per reminder and channel.

The database is the truth: a scan inserts Reminder rows under a unique key
(milestone, recipient, kind, slot); a send claims ReminderDelivery rows before
it sends, so each reaches each channel at most once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.base import TimestampMixin
from app.models.org import User
from app.models.plan import Milestone

DEFAULT_BEFORE_DAYS = [30, 7, 1, 0]
CHANNELS = {"in_app": "站内消息", "email": "邮件", "webhook": "钉钉/企业微信"}
DELIVERY_STATES = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "cancelled": "已取消",
}
REMINDER_STATES = {"pending": "有效", "cancelled": "已取消"}


class ReminderPolicy(TimestampMixin, db.Model):
    """A plan's reminder rules; a plan without a row uses the defaults below."""

    __tablename__ = "reminder_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), unique=True)
    before_days: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_BEFORE_DAYS))
    overdue_every_days: Mapped[int] = mapped_column(default=7)
    escalate_overdue_days: Mapped[int] = mapped_column(default=14)
    escalate_returned_days: Mapped[int] = mapped_column(default=5)
    escalate_notices: Mapped[bool] = mapped_column(default=True)
    include_co_departments: Mapped[bool] = mapped_column(default=True)
    # 三色 status: 黄 when due within this many days, or reported percent this many
    # points behind the share of planned time elapsed (序时进度).
    status_soon_days: Mapped[int] = mapped_column(default=7, server_default="7")
    status_behind_points: Mapped[int] = mapped_column(default=20, server_default="20")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Holiday(db.Model):
    """The holiday calendar: a listed day off, or a weekend day worked (调休上班)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(64))
    workday: Mapped[bool] = mapped_column(default=False)


class NotificationSetting(db.Model):
    """How one user hears about reminders; a user without a row gets the defaults."""

    __tablename__ = "notification_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    email: Mapped[bool] = mapped_column(default=True)
    webhook: Mapped[bool] = mapped_column(default=True)
    digest: Mapped[bool] = mapped_column(default=True)  # False: each reminder at once
    digest_hour: Mapped[int] = mapped_column(default=8)  # local time (UTC+8)

    user: Mapped[User] = relationship()


class Reminder(db.Model):
    """One due reminder. kind: before (slot = due - n days), due, overdue (every n
    days after), escalate_overdue, escalate_returned, escalate_notice; slot is the
    nominal date, send_on the working day it is sent on."""

    __table_args__ = (
        UniqueConstraint("milestone_id", "recipient_id", "kind", "slot"),
        Index("ix_reminder_status_send_on", "status", "send_on"),
        Index("ix_reminder_slot", "slot", "id"),  # the admin log, newest slot first
        Index("ix_reminder_kind_slot", "kind", "slot"),  # … filtered by kind
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    slot: Mapped[date]
    send_on: Mapped[date]
    due_date: Mapped[date]  # the milestone's due date it was computed from
    days: Mapped[int] = mapped_column(default=0)  # days before (+) or overdue (-) at the slot
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_report.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    cancelled_reason: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    milestone: Mapped[Milestone] = relationship()
    recipient: Mapped[User] = relationship()
    deliveries: Mapped[list[ReminderDelivery]] = relationship(
        back_populates="reminder", order_by="ReminderDelivery.channel"
    )


class ReminderDelivery(db.Model):
    """A reminder on one channel. claim marks the send that owns it (one batch / digest)."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint("reminder_id", "channel"),
        Index("ix_reminder_delivery_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminder.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    target: Mapped[str | None] = mapped_column(String(256))  # address / webhook host it went to
    error: Mapped[str | None] = mapped_column(Text)

    reminder: Mapped[Reminder] = relationship(back_populates="deliveries")


class OutboxMessage(db.Model):
    """Mail as sent: through SMTP (transport smtp) or, without SMTP settings, kept here."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_created", "created_at", "id"),)  # the outbox, newest first

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(256))
    subject: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    transport: Mapped[str] = mapped_column(String(16), default="outbox")
    claim: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobState(db.Model):
    """Small facts periodic jobs keep between runs (e.g. the day of the last reminder scan)."""

    __tablename__ = "job_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
