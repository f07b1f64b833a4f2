"""督办 notices (交办 → 签收 → 办理/反馈 → 复核 → 办结), their answer rounds, and in-app notifications."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import event_time, utcnow
from app.extensions import db
from app.models.org import Department, User
from app.models.plan import Milestone

if TYPE_CHECKING:
    from app.models.report import Evidence

NOTICE_STATES = {
    "issued": "已交办",
    "acknowledged": "已签收",
    "answered": "已反馈，待复核",
    "returned": "已退回，需重新办理",
    "closed": "已办结",
}
# States in which the department owes an answer (the milestone shows 黄 "督办未答复").
AWAITING_DEPARTMENT = ("issued", "acknowledged", "returned")
ROUND_OUTCOMES = {"accepted": "复核通过，办结", "returned": "退回重新办理"}


class Notice(db.Model):
    """督办单: issued to a department about a milestone, answered by a reply date, reviewed
    by the issuer. reply_text / replied_* hold the latest answer; every answer is a NoticeRound."""

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    reply_due: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=event_time)
    state: Mapped[str] = mapped_column(String(16), default="issued", server_default="issued", index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    replied_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_note: Mapped[str | None] = mapped_column(Text)  # the latest send-back reason
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    milestone: Mapped[Milestone] = relationship()
    department: Mapped[Department] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    replied_by: Mapped[User | None] = relationship(foreign_keys=[replied_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    rounds: Mapped[list[NoticeRound]] = relationship(
        back_populates="notice", order_by="NoticeRound.number", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(back_populates="notice", order_by="Evidence.created_at")

    @property
    def state_label(self) -> str:
        return NOTICE_STATES.get(self.state, self.state)

    @property
    def awaiting_department(self) -> bool:
        return self.state in AWAITING_DEPARTMENT

    @property
    def is_open(self) -> bool:
        return self.state != "closed"


class NoticeRound(db.Model):
    """One answer of the department and the issuer's verdict on it (every round stays visible)."""

    __tablename__ = "notice_round"
    __table_args__ = (UniqueConstraint("notice_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    number: Mapped[int]
    reply_text: Mapped[str] = mapped_column(Text)
    replied_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    replied_at: Mapped[datetime] = mapped_column(default=event_time)
    outcome: Mapped[str | None] = mapped_column(String(16))  # accepted | returned
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]

    notice: Mapped[Notice] = relationship(back_populates="rounds")
    replied_by: Mapped[User] = relationship(foreign_keys=[replied_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def outcome_label(self) -> str:
        return ROUND_OUTCOMES.get(self.outcome, "待复核") if self.outcome else "待复核"


class Notification(db.Model):
    """An in-app message to one user (returned reports, notices, reminders)."""

    __table_args__ = (
        Index("ix_notification_user_created", "user_id", "created_at", "id"),  # the list, newest first
        Index("ix_notification_user_read", "user_id", "read_at"),  # the unread count on every page
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
