"""督办 notices and in-app notifications."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import event_time, utcnow
from app.extensions import db
from app.models.org import Department, User
from app.models.plan import Milestone


class Notice(db.Model):
    """督办单: issued to a department about a milestone, answered by a reply date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    reply_due: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=event_time)
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    replied_at: Mapped[datetime | None]

    milestone: Mapped[Milestone] = relationship()
    department: Mapped[Department] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    replied_by: Mapped[User | None] = relationship(foreign_keys=[replied_by_id])

    @property
    def is_open(self) -> bool:
        return self.replied_at is None


class Notification(db.Model):
    """An in-app message to one user (returned reports, notices, reminders)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
