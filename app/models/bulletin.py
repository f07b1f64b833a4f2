"""周报通报: each issued bulletin of a plan, stored with its full content as issued."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

BULLETIN_KINDS = {"weekly": "周报", "on_demand": "临时通报"}


class Bulletin(db.Model):
    """One issued 通报. `data` holds everything it showed (红黄事项, changes, the forecast
    headline, the 考评 table), so an old bulletin never changes when the plan does.
    One weekly bulletin per plan and ISO week (the job is idempotent); on-demand ones
    may be issued any number of times."""

    __tablename__ = "bulletin"
    __table_args__ = (
        Index(
            "uq_bulletin_weekly",
            "plan_id",
            "kind",
            "week",
            unique=True,
            sqlite_where=text("kind = 'weekly'"),
            postgresql_where=text("kind = 'weekly'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # weekly | on_demand
    week: Mapped[date]  # the Monday of the ISO week it reports on
    as_of: Mapped[date]  # the clock's date the figures are computed on
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the weekly job
    data: Mapped[dict] = mapped_column(JSON)
    # An on-demand request's id, so a retried job issues its bulletin once.
    request_id: Mapped[str | None] = mapped_column(String(36), unique=True)

    plan = relationship("Plan")
    issued_by = relationship("User")

    @property
    def region_id(self) -> int:  # the audit row's region
        return self.plan.region_id

    @property
    def kind_label(self) -> str:
        return BULLETIN_KINDS.get(self.kind, self.kind)
