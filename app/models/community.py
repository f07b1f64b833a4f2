"""Communities (社区) of a region, grouped by 街道 / 镇, and their assessment against the
25 items of the community standard (sd-community-2019): one row per community and item,
reviewed like a progress report, with evidence files per item."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.base import TimestampMixin
from app.models.org import Department, Region, User

ITEM_STATES = {"draft": "草稿", "submitted": "待审核", "approved": "已通过", "returned": "已退回"}
# How a cell of the matrix reads: approved as met, awaiting review, not met (or returned), not entered.
CELL_LABELS = {"met": "达标", "pending": "待审核", "not_met": "未达标", "empty": "未填报"}
STREET_KIND = "street"  # Department.kind of a 街道 / 镇 office


class Community(TimestampMixin, db.Model):
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    # The 街道 / 镇 office that assesses it: a department of kind "street" of the region.
    street_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    households: Mapped[int]
    demo: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    region: Mapped[Region] = relationship()
    street: Mapped[Department] = relationship()
    items: Mapped[list[CommunityItem]] = relationship(
        back_populates="community", order_by="CommunityItem.position"
    )


class CommunityItem(db.Model):
    """One community's answer to one item: met or not, the numbers its formulas use, a
    note; draft → submitted → approved | returned, like a progress report."""

    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    number: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(default=0)
    met: Mapped[bool | None]
    numbers: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    return_reason: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    submitted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    reviewed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    community: Mapped[Community] = relationship(back_populates="items")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    evidence: Mapped[list[CommunityEvidence]] = relationship(
        back_populates="item", order_by="CommunityEvidence.id"
    )

    @property
    def state_label(self) -> str:
        return ITEM_STATES.get(self.state, self.state)

    @property
    def cell(self) -> str:
        if self.state == "approved":
            return "met" if self.met else "not_met"
        if self.state == "submitted":
            return "pending"
        if self.state == "returned":
            return "not_met"
        return "empty"


class CommunityEvidence(db.Model):
    """An uploaded file for one item, stored outside the web root under a random name."""

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("community_item.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(256))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[CommunityItem] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship()


class CommunityRule(db.Model):
    """The region's rule for counting a 智慧社区: at least `required_items` of the 25 items
    approved as met (the standard's reading, and the default: all 25)."""

    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)
    required_items: Mapped[int] = mapped_column(default=25)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
