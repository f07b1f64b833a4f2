"""Core INSERT / UPDATE / DELETE statements run through the session (the plan loader writes
link tables with Core, the admin renames a department with a compare-and-set UPDATE): the
plans they touch, found from the statement's `column == value` conditions or its rows."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators, visitors

from app.models import (
    Bulletin,
    Dependency,
    Evidence,
    Extension,
    ForecastRun,
    NoticeRound,
    Plan,
    PlanNode,
    ProgressReport,
    ReminderPolicy,
)
from app.plan_versions.owners import PlanOwners, bump
from app.plan_versions.rules import FORECAST_TABLES, SHOWN_TABLES, TABLE_IGNORED

log = logging.getLogger(__name__)


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


def _owners(session: Session, table, statement, params) -> PlanOwners | None:
    """What a DML statement on a watched table touches; None when it cannot tell."""
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
    plans = PlanOwners(session)
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
    return plans


def before_statement(state) -> None:
    """do_orm_execute: an INSERT / UPDATE / DELETE through the session on a watched table."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = _table_of(state.statement)
    name = getattr(table, "name", None)
    if name not in SHOWN_TABLES:
        return
    moves = name in FORECAST_TABLES
    if moves and state.is_update:
        values = getattr(state.statement, "_values", None) or {}
        names = {getattr(c, "name", c) for c in values}
        if name == "department":
            moves = "name" in names
        elif names and names <= TABLE_IGNORED.get(name, set()) | {"updated_at"}:
            moves = False
    session = state.session
    with session.no_autoflush:
        owners = _owners(session, table, state.statement, state.parameters)
        if owners is None:
            log.warning("plan versions: %s on %s not placed; every plan bumped", state.statement, name)
            every = set(session.connection().scalars(select(Plan.id)))
            bump(session, every if moves else set(), every)
            return
        connection = session.connection()
        shown = owners.resolve(connection, whole_region=True)
        bump(session, owners.resolve(connection) if moves else set(), shown)
