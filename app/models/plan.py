"""The plan tree: plans, nodes, milestones and their dependencies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import event_time
from app.extensions import db
from app.models.base import TimestampMixin
from app.models.org import Department, Region

MILESTONE_STATUSES = {
    "not_started": "未开始",
    "in_progress": "进行中",
    "blocked": "受阻",
    "done": "已完成",
}

milestone_co_department = Table(
    "milestone_co_department",
    db.metadata,
    Column("milestone_id", ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True, index=True),
    # The order the plan names them in; rows added through the ORM get 0 (then by name).
    Column("position", Integer, nullable=False, default=0, server_default="0"),
)

node_department = Table(
    "node_department",
    db.metadata,
    Column("node_id", ForeignKey("plan_node.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True, index=True),
    Column("position", Integer, nullable=False, default=0),
)


class Plan(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    standard_code: Mapped[str | None] = mapped_column(String(64))
    issued: Mapped[date | None]
    period_start: Mapped[date]
    period_end: Mapped[date]
    target_stars: Mapped[int | None]
    target_date: Mapped[date | None]
    targets: Mapped[list] = mapped_column(JSON, default=list)
    # Cost of one level step per standard indicator number, set by the plan office (default 1).
    step_costs: Mapped[dict | None] = mapped_column(JSON, default=dict)
    # The unit the plan office prices those steps in (人天 / 万元); None: no costs set, steps counted in 档.
    step_cost_unit: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(128))
    # Bumped in the same transaction as every change that can move the forecast
    # (app/plan_versions); a stored run of the same version and clock date is current.
    data_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped by the same events with every change of a row the plan's pages show; kept page
    # sections are keyed by it (app/plans/content_version.py).
    content_version: Mapped[int] = mapped_column(default=0, server_default="0")

    region: Mapped[Region] = relationship()
    nodes: Mapped[list[PlanNode]] = relationship(
        back_populates="plan", order_by="PlanNode.position", cascade="all, delete-orphan"
    )

    @property
    def roots(self) -> list[PlanNode]:
        return [n for n in self.nodes if n.parent_id is None]


class PlanNode(TimestampMixin, db.Model):
    __tablename__ = "plan_node"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_node.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(256))
    text: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    # The leading-group member responsible for the node: escalations go to them.
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)

    plan: Mapped[Plan] = relationship(back_populates="nodes")
    parent: Mapped[PlanNode | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[PlanNode]] = relationship(back_populates="parent", order_by="PlanNode.position")
    departments: Mapped[list[Department]] = relationship(
        secondary=node_department, order_by=node_department.c.position
    )
    milestones: Mapped[list[Milestone]] = relationship(back_populates="node", order_by="Milestone.due_date")


class Milestone(TimestampMixin, db.Model):
    # (plan, due date, id): a plan's milestones in the order every list shows them. With
    # only the due-date index, "this plan's first N by due date" walked the whole
    # province's milestones by date (gantt's extended list: 35 ms at 1,000 areas).
    __table_args__ = (
        UniqueConstraint("plan_id", "key"),
        Index("ix_milestone_plan_due", "plan_id", "due_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("plan_node.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256))
    text: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(128))
    due_date: Mapped[date] = mapped_column(index=True)
    baseline_due_date: Mapped[date]
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    percent: Mapped[int] = mapped_column(default=0)
    actual_finish: Mapped[date | None]
    targets: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=1)

    # The UPDATE carries "WHERE version = :loaded", so a racing writer fails loudly.
    __mapper_args__ = {"version_id_col": version}

    plan: Mapped[Plan] = relationship()
    node: Mapped[PlanNode] = relationship(back_populates="milestones")
    lead_department: Mapped[Department] = relationship()
    co_departments: Mapped[list[Department]] = relationship(
        secondary=milestone_co_department,
        order_by=[milestone_co_department.c.position, Department.name],
    )
    indicators = relationship("Indicator", secondary="milestone_indicator", back_populates="milestones")
    extensions: Mapped[list[Extension]] = relationship(
        back_populates="milestone", order_by="Extension.created_at"
    )

    @property
    def status_label(self) -> str:
        return MILESTONE_STATUSES.get(self.status, self.status)

    @property
    def is_done(self) -> bool:
        return self.status == "done"

    def department_ids(self) -> set[int]:
        return {self.lead_department_id} | {d.id for d in self.co_departments}


class Dependency(TimestampMixin, db.Model):
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    lag_days: Mapped[int] = mapped_column(default=0)
    inferred: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(256))

    predecessor: Mapped[Milestone] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Milestone] = relationship(foreign_keys=[successor_id])


class Extension(db.Model):
    """A granted change of due date; the milestone keeps its baseline."""

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    old_due: Mapped[date]
    new_due: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=event_time)  # a domain event: the clock's time

    milestone: Mapped[Milestone] = relationship(back_populates="extensions")
    granted_by = relationship("User")
