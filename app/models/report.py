"""Progress reports on milestones and the evidence files attached to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.base import TimestampMixin
from app.models.notice import Notice
from app.models.org import Department, User
from app.models.plan import Milestone

REPORT_STATES = {
    "draft": "草稿",
    "submitted": "待审核",
    "approved": "已通过",
    "returned": "已退回",
    # Set only by migration 0011 on older duplicates of a pending report (see PENDING_STATES).
    "superseded": "已作废（重复提交）",
}
# At most one report per milestone and department may be in these states: the
# partial unique index below holds that, whatever the requests race to do.
PENDING_STATES = ("draft", "submitted", "returned")
_PENDING_SQL = "state IN ('draft', 'submitted', 'returned')"
REPORT_KINDS = {"lead": "牵头汇报", "part": "配合部门进展"}


class ProgressReport(TimestampMixin, db.Model):
    __tablename__ = "progress_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # "lead" reports move the milestone when approved; "part" is a co-department's share.
    kind: Mapped[str] = mapped_column(String(8), default="lead")
    text: Mapped[str] = mapped_column(Text)
    percent: Mapped[int]
    claimed_status: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    return_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(
            "uq_progress_report_pending",
            "milestone_id",
            "department_id",
            unique=True,
            sqlite_where=sql_text(_PENDING_SQL),
            postgresql_where=sql_text(_PENDING_SQL),
        ),
        # The newest approval of a plan's reports (forecasting.snapshot.data_time).
        Index("ix_progress_report_approval", "milestone_id", "state", "reviewed_at"),
    )

    milestone: Mapped[Milestone] = relationship()
    department: Mapped[Department] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    evidence: Mapped[list[Evidence]] = relationship(back_populates="report", order_by="Evidence.created_at")

    @property
    def state_label(self) -> str:
        return REPORT_STATES.get(self.state, self.state)

    @property
    def kind_label(self) -> str:
        return REPORT_KINDS.get(self.kind, self.kind)


class Evidence(db.Model):
    """An uploaded file, stored outside the web root under a random name."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_report.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"), index=True)  # a 督办 answer's
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    original_name: Mapped[str] = mapped_column(String(256))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[ProgressReport | None] = relationship(back_populates="evidence")
    notice: Mapped[Notice | None] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship()
