"""Items a plan file no longer lists: delete them unless work hangs on them.

A milestone with reports, evidence, notices, reminders, extensions or recorded
progress, an indicator with values, and a node that still holds milestones or
child nodes is kept and reported as orphaned; everything else is deleted (with
an audit row). Regions and departments are never deleted: users and other plans
may use them.
"""

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Evidence,
    Extension,
    Indicator,
    IndicatorValue,
    Milestone,
    Notice,
    PlanNode,
    ProgressReport,
    Reminder,
)
from app.models.indicator import indicator_department, milestone_indicator
from app.models.plan import milestone_co_department, node_department
from app.planio.links import drop_links

MILESTONE_REFS = [
    (ProgressReport, "progress report"),
    (Evidence, "evidence file"),
    (Notice, "notice"),
    (Reminder, "reminder"),
    (Extension, "extension"),
]


def _count(model, column, value) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(column == value))


def _milestone_refs(m: Milestone) -> list[str]:
    refs = []
    for model, label in MILESTONE_REFS:
        n = _count(model, model.milestone_id, m.id)
        if n:
            refs.append(f"{n} {label}{'s' if n > 1 else ''}")
    if m.status != "not_started" or m.percent or m.actual_finish:
        refs.append(f"progress {m.status} {m.percent}%")
    return refs


def _missing(writer, model, kept: dict) -> list:
    query = select(model).where(model.plan_id == writer.plan.id).order_by(model.id)
    return [obj for obj in db.session.scalars(query) if obj.key not in kept]


def _delete(writer, obj, column: str, link_tables) -> None:
    """Audit and delete an unreferenced milestone or indicator with its link rows."""
    writer.audit("delete", obj, obj.key)
    for table in link_tables:
        drop_links(table, column, obj.id)
    # The link rows went by SQL: forget the loaded collections so the ORM does not touch them.
    db.session.expire(obj)
    db.session.delete(obj)


def prune(writer) -> None:
    for m in _missing(writer, Milestone, writer.milestones):
        refs = _milestone_refs(m)
        if refs:
            writer.result.orphaned.append(f"Milestone {m.key}: {', '.join(refs)}")
            continue
        _delete(writer, m, "milestone_id", [milestone_co_department, milestone_indicator])
    for ind in _missing(writer, Indicator, writer.indicators):
        n = _count(IndicatorValue, IndicatorValue.indicator_id, ind.id)
        if n:
            writer.result.orphaned.append(f"Indicator {ind.key}: {n} value{'s' if n > 1 else ''}")
            continue
        _delete(writer, ind, "indicator_id", [indicator_department, milestone_indicator])
    db.session.flush()
    _prune_nodes(writer)


def _prune_nodes(writer) -> None:
    # Leaves first: a removed subtree goes bottom-up, a node holding kept work stays.
    pending = _missing(writer, PlanNode, writer.nodes)
    while pending:
        kept = []
        for node in pending:
            if _count(Milestone, Milestone.node_id, node.id) or _count(PlanNode, PlanNode.parent_id, node.id):
                kept.append(node)
                continue
            writer.audit("delete", node, node.key)
            drop_links(node_department, "node_id", node.id)
            db.session.expire(node, ["departments"])
            db.session.delete(node)
            db.session.flush()
        if len(kept) == len(pending):
            break
        pending = kept
    for node in pending:
        n_ms = _count(Milestone, Milestone.node_id, node.id)
        n_children = _count(PlanNode, PlanNode.parent_id, node.id)
        writer.result.orphaned.append(f"PlanNode {node.key}: {n_ms} milestones, {n_children} child nodes")
