"""Plan.data_version: bumped in the same transaction as every change that can move a
plan's forecast, so the hourly refresh can tell an unchanged plan in O(1)
(workflows.forecast_recompute) instead of gathering every input to build its key.

It is done centrally, in session events, so no route or job can forget it:

- before_flush maps the new, changed and deleted instances of the models below to
  their plan ids and issues one `UPDATE plan SET data_version = data_version + 1
  WHERE id IN (...)` on the session's connection (the flush's transaction: a rollback
  undoes the bump with the change);
- do_orm_execute does the same for INSERT / UPDATE / DELETE statements run through
  the session on those tables (the plan loader writes link tables with Core), finding
  the plan from the statement's `column == value` conditions or its rows; one it
  cannot place bumps every plan (rare, and only ever costs a recompute).

What counts (a change of anything else never reaches the forecast state, the stored
result or data_time):

- Plan: any column but timestamps (standard, target stars and date, targets, step
  costs and their unit).
- PlanNode: new, deleted, any column but leader, text, timestamps (the tree the
  milestones hang on).
- Milestone: new, deleted, any field or link but text, source, co-departments and
  timestamps (due, baseline, status, percent, finish, lead department, targets, the
  indicators it delivers).
- Dependency, Extension: new, deleted, any change (predecessors and lag slip the
  successors; an extension moves the due date as known on a date).
- ProgressReport: only one that is or was approved (approved lead reports give a
  milestone's state on a date; any approval moves data_time).
- Indicator: new, deleted, any change but its departments and timestamps (standard
  link, parts, targets, direct entries 标准直填).
- IndicatorValue: only one that is or was approved (the values the forecast starts from).
  An approval of a community item, a rule change or an import that moves the region's
  智慧社区 count writes such a value (app.communities.coverage), so it counts; an approval
  that leaves the count where it was cannot move the forecast and does not.
- Department: its name (the forecast state names a milestone's department by it).
- milestone_indicator rows written with Core (which indicators a milestone delivers).

Not counted: drafts and submitted reports or values, evidence, notices, reminders and
their policies, users, audit rows, forecast runs themselves.

Plan.content_version is bumped by the same events for every change of a row the plan's
pages show (app/plans/content_version.py keys their kept sections by it): all of the
above whatever the field, and reports and values in any state, evidence, 督办 notices and
their rounds, the reminder policy, forecast runs, bulletins, the departments of the plan's
region (any field; a new one too), the departments each node names, the region itself and
its users (name, role, department; not a log-in, log-out or password) and its 智慧社区
communities, their items and rule (星级测算 shows what the coverage gap costs). A forecast-moving
change bumps both numbers.
"""

from __future__ import annotations

import logging

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators, visitors

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
from app.plans.content_version import forget_keys

log = logging.getLogger(__name__)

_STAMPS = {"created_at", "updated_at", "version"}
_VERSIONS = {"data_version", "content_version"}
# Attributes whose change does not move the forecast, per model (all others do).
IGNORED = {
    Plan: _STAMPS | _VERSIONS | {"nodes", "region"},
    PlanNode: _STAMPS | {"leader_id", "text", "departments", "children", "milestones"},
    Milestone: _STAMPS | {"text", "source", "co_departments"},
    Dependency: _STAMPS | {"predecessor", "successor"},
    Extension: _STAMPS | {"milestone", "granted_by"},
    Indicator: _STAMPS | {"departments", "values"},
}
APPROVED_ONLY = {ProgressReport: "state", IndicatorValue: "state"}
# Shown on the plan's pages (content_version): any change but the version numbers.
SHOWN = (
    *IGNORED,
    *APPROVED_ONLY,
    Department,
    Evidence,
    Notice,
    NoticeRound,
    ReminderPolicy,
    ForecastRun,
    Bulletin,
    Region,
    User,
    Community,
    CommunityItem,
    CommunityRule,
)
# What a user row holds that no page shows (a log-in, a log-out, a password).
_USER_UNSHOWN = _VERSIONS | _STAMPS | {"last_login_at", "session_version", "password_hash"}
# Tables written with Core statements through the session.
_TABLE_IGNORED = {"plan_node": {"leader_id", "updated_at", "text"}, "plan": {"updated_at"}}
_WATCHED_TABLES = {
    "plan",
    "plan_node",
    "milestone",
    "dependency",
    "extension",
    "indicator",
    "indicator_value",
    "milestone_indicator",
    "department",
}
_SHOWN_TABLES = _WATCHED_TABLES | {
    "progress_report",
    "evidence",
    "notice",
    "notice_round",
    "reminder_policy",
    "forecast_run",
    "bulletin",
    "node_department",
    "milestone_co_department",
    "indicator_department",
    "community",
    "community_item",
    "community_rule",
}


def register(session) -> None:
    """Listen on the (scoped) session once."""
    if not event.contains(session, "before_flush", _before_flush):
        event.listen(session, "before_flush", _before_flush)
        event.listen(session, "do_orm_execute", _before_statement)
    for model, column in APPROVED_ONLY.items():
        attr = getattr(model, column)
        if not event.contains(attr, "set", _keep_old_value):
            # Load the old state on assignment (of an expired row too): withdrawing an
            # approval counts as much as giving one.
            event.listen(attr, "set", _keep_old_value, active_history=True)


def _keep_old_value(_target, value, _old, _initiator):
    return value


# -- ORM instances --------------------------------------------------------------


def _values(state, key) -> list:
    """Every value an attribute had or has in this flush (old and new)."""
    hist = state.attrs[key].load_history()
    return [v for v in (*hist.added, *hist.unchanged, *hist.deleted) if v is not None]


def _changed(state, ignored) -> bool:
    # .history, not .load_history(): an attribute never loaded was not changed (no lazy loads)
    return any(attr.key not in ignored and attr.history.has_changes() for attr in state.attrs)


def _counts(obj, state, kind: str) -> bool:
    """Can this change move the plan's forecast?"""
    model = type(obj)
    if model in APPROVED_ONLY:
        return "approved" in _values(state, APPROVED_ONLY[model])
    if model is Department:
        return kind == "dirty" and state.attrs.name.history.has_changes()
    if model in IGNORED:
        return kind != "dirty" or _changed(state, IGNORED[model])
    return False


def _shown(obj, state, kind: str) -> bool:
    """Does this change show on the plan's pages?"""
    ignored = _USER_UNSHOWN if isinstance(obj, User) else _VERSIONS
    return isinstance(obj, SHOWN) and (kind != "dirty" or _changed(state, ignored))


class _Plans:
    """Plan ids to bump, gathered from instances (some through a milestone, indicator,
    report, notice, node or region)."""

    def __init__(self, session, shown: bool = False):
        self.session = session
        self.shown = shown  # a department reaches its region's plans, not only those it leads
        self.plan_ids: set[int] = set()
        self.milestone_ids: set[int] = set()
        self.indicator_ids: set[int] = set()
        self.department_ids: set[int] = set()
        self.region_ids: set[int] = set()
        self.notice_ids: set[int] = set()
        self.node_ids: set[int] = set()
        self.community_ids: set[int] = set()

    def add(self, obj) -> None:
        """The plan(s) of a model instance (old and new owner, should it move)."""
        state = inspect(obj)
        if isinstance(obj, Plan):
            if obj.id is not None:
                self.plan_ids.add(obj.id)
        elif isinstance(
            obj, (PlanNode, Milestone, Dependency, Indicator, ReminderPolicy, ForecastRun, Bulletin)
        ):
            ids = _values(state, "plan_id")
            if ids:
                self.plan_ids.update(ids)
            elif isinstance(obj, Milestone) and obj.node is not None:
                self.add(obj.node)
            elif getattr(obj, "plan", None) is not None:
                self.add(obj.plan)
            elif isinstance(obj, Dependency) and obj.successor is not None:
                self.add(obj.successor)
        elif isinstance(obj, (Extension, ProgressReport, Notice, Evidence)):
            ids = _values(state, "milestone_id")
            if ids:
                self.milestone_ids.update(ids)
            elif obj.milestone is not None:
                self.add(obj.milestone)
        elif isinstance(obj, NoticeRound):
            self.notice_ids.update(_values(state, "notice_id"))
        elif isinstance(obj, IndicatorValue):
            ids = _values(state, "indicator_id")
            if ids:
                self.indicator_ids.update(ids)
            elif obj.indicator is not None:
                self.add(obj.indicator)
        elif isinstance(obj, User):  # names and roles on the pages of the user's region
            self.region_ids.update(_values(state, "region_id"))
        elif isinstance(obj, (Community, CommunityRule)):  # 智慧社区 coverage on 星级测算
            self.region_ids.update(_values(state, "region_id"))
        elif isinstance(obj, CommunityItem):
            self.community_ids.update(_values(state, "community_id"))
        elif isinstance(obj, Region):
            if obj.id is not None:
                self.region_ids.add(obj.id)
        elif isinstance(obj, Department):
            if self.shown:
                self.region_ids.update(_values(state, "region_id"))
            elif obj.id is not None:
                self.department_ids.add(obj.id)

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

    def resolve(self, connection) -> set[int]:
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
        if self.department_ids:
            if self.shown:
                regions = select(Department.region_id).where(Department.id.in_(self.department_ids))
                add(select(Plan.id).where(Plan.region_id.in_(regions)))
            else:
                add(
                    select(Milestone.plan_id)
                    .where(Milestone.lead_department_id.in_(self.department_ids))
                    .distinct()
                )
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
            loaded = [k for k in _VERSIONS if k in plan.__dict__]
            if loaded:
                session.expire(plan, loaded)


def _before_flush(session: Session, _context, _instances) -> None:
    moved, shown = _Plans(session), _Plans(session, shown=True)
    with session.no_autoflush:
        for kind, objs in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
            for obj in objs:
                if isinstance(obj, Plan) and kind != "dirty":
                    continue  # a new plan starts at 0; a deleted one has no pages
                state = inspect(obj)
                if _counts(obj, state, kind):
                    moved.add(obj)
                if _shown(obj, state, kind):
                    shown.add(obj)
        connection = session.connection()
        bump(session, moved.resolve(connection), shown.resolve(connection))


# -- Core statements through the session --------------------------------------


def _table_of(statement):
    table = getattr(statement, "table", None)
    return getattr(table, "__table__", table)


def _conditions(statement) -> dict[str, set]:
    """{column name: values} of the `column == value` / `column IN (...)` terms."""
    out: dict[str, set] = {}
    where = getattr(statement, "whereclause", None)
    if where is None:
        return out
    for node in visitors.iterate(where):
        if getattr(node, "operator", None) not in (operators.eq, operators.in_op):
            continue
        left, right = node.left, node.right
        name = getattr(left, "name", None)
        value = getattr(right, "effective_value", None)
        if name is None or value is None:
            continue
        out.setdefault(name, set()).update(value if isinstance(value, list | tuple | set) else [value])
    return out


# Tables whose own id leads to a plan through a column of theirs.
_OWN_ID = {
    "plan_node": (PlanNode.id, PlanNode.plan_id),
    "dependency": (Dependency.id, Dependency.plan_id),
    "reminder_policy": (ReminderPolicy.id, ReminderPolicy.plan_id),
    "forecast_run": (ForecastRun.id, ForecastRun.plan_id),
    "bulletin": (Bulletin.id, Bulletin.plan_id),
    "extension": (Extension.id, Extension.milestone_id),
    "progress_report": (ProgressReport.id, ProgressReport.milestone_id),
    "evidence": (Evidence.id, Evidence.milestone_id),
    "notice_round": (NoticeRound.id, NoticeRound.notice_id),
}


def _statement_plans(session: Session, table, statement, params, shown: bool) -> set[int] | None:
    """The plans a DML statement on a watched table touches; None when it cannot tell."""
    found = _conditions(statement)
    rows = params if isinstance(params, list) else [params] if isinstance(params, dict) else []
    for row in rows:
        for name, value in (row or {}).items():
            found.setdefault(getattr(name, "name", name), set()).add(value)
    values = getattr(statement, "_values", None) or {}
    for col, value in values.items():
        v = getattr(value, "effective_value", None)
        if v is not None:
            found.setdefault(getattr(col, "name", col), set()).add(v)
    plans = _Plans(session, shown=shown)
    connection = session.connection()
    name = table.name
    if "plan_id" in found:
        plans.plan_ids |= found["plan_id"]
    elif name == "plan" and "id" in found:
        plans.plan_ids |= found["id"]
    elif "milestone_id" in found or (name == "milestone" and "id" in found):
        plans.milestone_ids |= found.get("milestone_id") or found["id"]
    elif "predecessor_id" in found or "successor_id" in found:
        plans.milestone_ids |= found.get("predecessor_id", set()) | found.get("successor_id", set())
    elif "indicator_id" in found or (name == "indicator" and "id" in found):
        plans.indicator_ids |= found.get("indicator_id") or found["id"]
    elif "notice_id" in found or (name == "notice" and "id" in found):
        plans.notice_ids |= found.get("notice_id") or found["id"]
    elif "node_id" in found:
        plans.node_ids |= found["node_id"]
    elif "community_id" in found or (name == "community" and "id" in found):
        plans.community_ids |= found.get("community_id") or found["id"]
    elif name == "community_rule" and "region_id" in found:
        plans.region_ids |= found["region_id"]
    elif name == "department" and "id" in found:
        plans.department_ids |= found["id"]
    elif name in _OWN_ID and "id" in found:
        own, via = _OWN_ID[name]
        owners = set(connection.scalars(select(via).where(own.in_(found["id"]))))
        {"plan_id": plans.plan_ids, "milestone_id": plans.milestone_ids, "notice_id": plans.notice_ids}[
            via.key
        ].update(owners)
    else:
        return None
    return plans.resolve(connection)


def _before_statement(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = _table_of(state.statement)
    name = getattr(table, "name", None)
    if name not in _SHOWN_TABLES:
        return
    moves = name in _WATCHED_TABLES
    if moves and state.is_update:
        values = getattr(state.statement, "_values", None) or {}
        names = {getattr(c, "name", c) for c in values}
        if name == "department":
            moves = "name" in names
        elif names and names <= _TABLE_IGNORED.get(name, set()) | {"updated_at"}:
            moves = False
    session = state.session
    with session.no_autoflush:
        shown = _statement_plans(session, table, state.statement, state.parameters, shown=True)
        moved = (
            _statement_plans(session, table, state.statement, state.parameters, shown=False)
            if moves
            else set()
        )
        if shown is None or moved is None:
            log.warning("plan versions: %s on %s not placed; every plan bumped", state.statement, name)
            every = set(session.connection().scalars(select(Plan.id)))
            shown, moved = every, every if moves else set()
        bump(session, moved, shown)
