"""Plan indicators, their values, and which milestones deliver them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import event_time
from app.extensions import db
from app.models.base import TimestampMixin
from app.models.org import Department, User

milestone_indicator = Table(
    "milestone_indicator",
    db.metadata,
    Column("milestone_id", ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True, index=True),
)

indicator_department = Table(
    "indicator_department",
    db.metadata,
    Column("indicator_id", ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True, index=True),
    Column("position", Integer, nullable=False, default=0),
)

VALUE_STATES = {"submitted": "待审核", "approved": "已确认", "returned": "已退回"}


class Indicator(TimestampMixin, db.Model):
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    table_name: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(128))
    number: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256))
    definition: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str | None] = mapped_column(String(32))
    # A compound target's measured quantities: [{"key", "name", "unit"}, ...]; a value
    # of such an indicator is stored per part ({"realtime": 61.5, "stops": 12.0}).
    parts: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    star: Mapped[bool] = mapped_column(default=False)
    four_star_target: Mapped[str | None] = mapped_column(Text)
    four_star_op: Mapped[str | None] = mapped_column(String(4))
    four_star_value: Mapped[float | None] = mapped_column(Float)
    # With parts: the part op/value is on, and further conditions [{"part", "op", "value"}]
    # that must hold as well.
    four_star_part: Mapped[str | None] = mapped_column(String(32))
    four_star_and: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    four_star_due: Mapped[date | None]
    five_star_target: Mapped[str | None] = mapped_column(Text)
    five_star_op: Mapped[str | None] = mapped_column(String(4))
    five_star_value: Mapped[float | None] = mapped_column(Float)
    five_star_part: Mapped[str | None] = mapped_column(String(32))
    five_star_and: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    five_star_due: Mapped[date | None]
    weight_four_star: Mapped[float | None] = mapped_column(Float)
    weight_five_star: Mapped[float | None] = mapped_column(Float)
    # The link to the plan's standard: the standard indicator's number, the quantity
    # it measures and its unit (as the standard names them), and which part feeds it.
    standard_indicator: Mapped[str | None] = mapped_column(String(16))
    standard_quantity: Mapped[str | None] = mapped_column(String(256))
    standard_unit: Mapped[str | None] = mapped_column(String(32))
    standard_part: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)

    plan = relationship("Plan")
    departments: Mapped[list[Department]] = relationship(
        secondary=indicator_department, order_by=indicator_department.c.position
    )
    milestones = relationship("Milestone", secondary=milestone_indicator, back_populates="indicators")
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator", order_by="IndicatorValue.as_of"
    )

    @property
    def part_map(self) -> dict:
        """{part key: {"key", "name", "unit"}} in the plan's order (empty without parts)."""
        return {p["key"]: p for p in self.parts or []}

    def cell(self, band: str) -> dict:
        """One target cell ("four_star" / "five_star") as the plan file writes it."""
        return {k: getattr(self, f"{band}_{k}") for k in ("target", "op", "value", "part", "and", "due")}


class IndicatorValue(db.Model):
    # Approved values known on a day, and values awaiting review, per indicator.
    __table_args__ = (Index("ix_indicator_value_indicator_state", "indicator_id", "state", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    as_of: Mapped[date]
    value_number: Mapped[float | None] = mapped_column(Float)
    # Structured inputs of spec/scoring.md ({"level": 3}, {"coverage": …}) go here.
    value_json: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(256))
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=event_time)
    review_note: Mapped[str | None] = mapped_column(Text)  # why it was returned
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    indicator: Mapped[Indicator] = relationship(back_populates="values")
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
