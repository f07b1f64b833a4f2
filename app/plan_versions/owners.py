"""The plans a change belongs to (some through a milestone, indicator, notice, node,
community, department or region), and the bump of their versions."""

from __future__ import annotations

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from app.models import (
    Bulletin,
    Community,
    CommunityItem,
    CommunityRule,
    Department,
    Dependency,
    Evidence,
    Extension,
    ForecastRun,
    Indicator,
    IndicatorValue,
    Milestone,
    Notice,
    NoticeRound,
    Plan,
    PlanNode,
    ProgressReport,
    Region,
    ReminderPolicy,
    User,
)
from app.plan_versions.rules import VERSIONS, values_of
from app.plans.content_version import forget_keys


class PlanOwners:
    """Plan ids to bump, gathered from instances (some through a milestone, indicator,
    report, notice, node or region)."""

    def __init__(self, session):
        self.session = session
        self.plan_ids: set[int] = set()
        self.milestone_ids: set[int] = set()
        self.indicator_ids: set[int] = set()
        self.department_ids: set[int] = set()
        self.region_ids: set[int] = set()
        self.notice_ids: set[int] = set()
        self.node_ids: set[int] = set()
        self.community_ids: set[int] = set()
        self._base: set[int] | None = None

    def add(self, obj) -> None:
        """The plan(s) of a model instance (old and new owner, should it move)."""
        state = inspect(obj)
        if isinstance(obj, Plan):
            if obj.id is not None:
                self.plan_ids.add(obj.id)
        elif isinstance(
            obj, (PlanNode, Milestone, Dependency, Indicator, ReminderPolicy, ForecastRun, Bulletin)
        ):
            ids = values_of(state, "plan_id")
            if ids:
                self.plan_ids.update(ids)
            elif isinstance(obj, Milestone) and obj.node is not None:
                self.add(obj.node)
            elif getattr(obj, "plan", None) is not None:
                self.add(obj.plan)
            elif isinstance(obj, Dependency) and obj.successor is not None:
                self.add(obj.successor)
        elif isinstance(obj, (Extension, ProgressReport, Notice, Evidence)):
            ids = values_of(state, "milestone_id")
            if ids:
                self.milestone_ids.update(ids)
            elif obj.milestone is not None:
                self.add(obj.milestone)
        elif isinstance(obj, NoticeRound):
            self.notice_ids.update(values_of(state, "notice_id"))
        elif isinstance(obj, IndicatorValue):
            ids = values_of(state, "indicator_id")
            if ids:
                self.indicator_ids.update(ids)
            elif obj.indicator is not None:
                self.add(obj.indicator)
        elif isinstance(obj, User):  # names and roles on the pages of the user's region
            self.region_ids.update(values_of(state, "region_id"))
        elif isinstance(obj, (Community, CommunityRule)):  # 智慧社区 coverage on 星级测算
            self.region_ids.update(values_of(state, "region_id"))
        elif isinstance(obj, CommunityItem):
            self.community_ids.update(values_of(state, "community_id"))
        elif isinstance(obj, Region):
            if obj.id is not None:
                self.region_ids.add(obj.id)
        elif isinstance(obj, Department):
            if obj.id is not None:
                self.department_ids.add(obj.id)
            else:  # a new one: its region's plans show it
                self.region_ids.update(values_of(state, "region_id"))

    def _unloaded(self, model, wanted: set[int], plan_ids: set[int]) -> set[int]:
        """Those of wanted not in the session with their plan_id loaded; the plans of the
        others go straight into plan_ids (a report's milestone is usually at hand)."""
        rest = set()
        for ident in wanted:
            obj = self.session.identity_map.get(self.session.identity_key(model, ident))
            plan_id = obj.__dict__.get("plan_id") if obj is not None else None
            if plan_id is None:
                rest.add(ident)
            else:
                plan_ids.add(plan_id)
        return rest

    def resolve(self, connection, whole_region: bool = False) -> set[int]:
        """The plan ids. A department reaches the plans it leads milestones in (what its name
        can move in a forecast), or with whole_region every plan of its region (where its
        name shows). The rest is read once, whichever view is asked for first."""
        if self._base is None:
            self._base = self._base_ids(connection)
        ids = set(self._base)
        if self.department_ids:
            if whole_region:
                regions = select(Department.region_id).where(Department.id.in_(self.department_ids))
                query = select(Plan.id).where(Plan.region_id.in_(regions))
            else:
                query = (
                    select(Milestone.plan_id)
                    .where(Milestone.lead_department_id.in_(self.department_ids))
                    .distinct()
                )
            ids.update(connection.scalars(query))
        return ids

    def _base_ids(self, connection) -> set[int]:
        ids = set(self.plan_ids)

        def add(query):
            ids.update(connection.scalars(query))

        if self.notice_ids:
            self.milestone_ids |= set(
                connection.scalars(select(Notice.milestone_id).where(Notice.id.in_(self.notice_ids)))
            )
        milestones = self._unloaded(Milestone, self.milestone_ids, ids)
        if milestones:
            add(select(Milestone.plan_id).where(Milestone.id.in_(milestones)))
        indicators = self._unloaded(Indicator, self.indicator_ids, ids)
        if indicators:
            add(select(Indicator.plan_id).where(Indicator.id.in_(indicators)))
        if self.node_ids:
            add(select(PlanNode.plan_id).where(PlanNode.id.in_(self.node_ids)))
        if self.community_ids:
            self.region_ids |= set(
                connection.scalars(select(Community.region_id).where(Community.id.in_(self.community_ids)))
            )
        if self.region_ids:
            add(select(Plan.id).where(Plan.region_id.in_(self.region_ids)))
        return ids


def bump(session: Session, plan_ids, shown_ids=()) -> None:
    """In the session's transaction: add one to both versions of plan_ids (a change that
    can move their forecast) and to the content_version of shown_ids (one that shows)."""
    # Once per transaction is enough (a reader sees the change and the bump together): a
    # later flush of the same (innermost) transaction skips the plans it bumped already.
    txn = session.get_nested_transaction() or session.get_transaction()
    seen_txn, seen_both, seen_shown = session.info.get("plan_bumps", (None, set(), set()))
    if seen_txn is not txn:
        seen_both, seen_shown = set(), set()
        session.info["plan_bumps"] = (txn, seen_both, seen_shown)
    both = sorted({i for i in plan_ids if i is not None} - seen_both)
    shown = sorted({i for i in shown_ids if i is not None} - set(both) - seen_both - seen_shown)
    seen_both.update(both)
    seen_shown.update(shown)
    table = Plan.__table__
    for ids, values in (
        (both, {"data_version": table.c.data_version + 1, "content_version": table.c.content_version + 1}),
        (shown, {"content_version": table.c.content_version + 1}),
    ):
        if not ids:
            continue
        # updated_at kept: a version bump is not a change of the plan's settings
        session.connection().execute(
            update(table).where(table.c.id.in_(ids)).values(**values, updated_at=table.c.updated_at)
        )
    forget_keys((*both, *shown))
    for plan_id in (*both, *shown):  # an instance in the session reads the new numbers when next used
        plan = session.identity_map.get(session.identity_key(Plan, plan_id))
        if plan is not None:
            loaded = [k for k in VERSIONS if k in plan.__dict__]
            if loaded:
                session.expire(plan, loaded)
