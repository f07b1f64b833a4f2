"""A plan's two versions, kept by session events.

Plan.data_version: bumped in the same transaction as every change that can move a
plan's forecast, so the hourly refresh can tell an unchanged plan in O(1)
(workflows.forecast_recompute) instead of gathering every input to build its key.

It is done centrally, in session events, so no route or job can forget it (which changes
count: rules.py; the plans they belong to: owners.py; Core statements: statements.py):

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

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import Plan
from app.plan_versions.owners import PlanOwners, bump
from app.plan_versions.rules import APPROVED_ONLY, moves_forecast, shows
from app.plan_versions.statements import before_statement

__all__ = ["bump", "register"]


def register(session) -> None:
    """Listen on the (scoped) session once."""
    if not event.contains(session, "before_flush", _before_flush):
        event.listen(session, "before_flush", _before_flush)
        event.listen(session, "do_orm_execute", before_statement)
    for model, column in APPROVED_ONLY.items():
        attr = getattr(model, column)
        if not event.contains(attr, "set", _keep_old_value):
            # Load the old state on assignment (of an expired row too): withdrawing an
            # approval counts as much as giving one.
            event.listen(attr, "set", _keep_old_value, active_history=True)


def _keep_old_value(_target, value, _old, _initiator):
    return value


def _before_flush(session: Session, _context, _instances) -> None:
    moved, shown = PlanOwners(session), PlanOwners(session)
    with session.no_autoflush:
        for kind, objs in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
            for obj in objs:
                if isinstance(obj, Plan) and kind != "dirty":
                    continue  # a new plan starts at 0; a deleted one has no pages
                state = inspect(obj)
                if moves_forecast(obj, state, kind):
                    moved.add(obj)
                if shows(obj, state, kind):
                    shown.add(obj)
        connection = session.connection()
        bump(session, moved.resolve(connection), shown.resolve(connection, whole_region=True))
