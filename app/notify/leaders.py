"""The leading-group member responsible for each top-level node of a plan (PlanNode.leader_id)."""

from __future__ import annotations

from sqlalchemy import select, update

from app.clock import utcnow
from app.extensions import db
from app.models import Plan, PlanNode, User


class StaleLeaders(Exception):
    """A node's leader changed since the form was shown; nothing was written."""


def candidates(region_id: int) -> list[User]:
    """Active leading-group members of the region."""
    return db.session.scalars(
        select(User)
        .where(User.role == "leading_group", User.region_id == region_id, User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).all()


def roots(plan: Plan) -> list[PlanNode]:
    return db.session.scalars(
        select(PlanNode)
        .where(PlanNode.plan_id == plan.id, PlanNode.parent_id.is_(None))
        .order_by(PlanNode.position, PlanNode.id)
    ).all()


def state(plan: Plan) -> tuple[list[PlanNode], list[User], str]:
    """Top-level nodes, the people who may lead them, and a token of the current assignment."""
    nodes = roots(plan)
    token = ",".join(f"{n.id}:{n.leader_id or 0}" for n in nodes)
    return nodes, candidates(plan.region_id), token


def assign(
    nodes: list[PlanNode], chosen: dict[int, int | None]
) -> list[tuple[PlanNode, int | None, int | None]]:
    """Set each node's leader with a compare-and-set on the value shown; returns the changes
    (node, old, new). Raises StaleLeaders if any node moved meanwhile; the caller rolls back."""
    changes = []
    for node in nodes:
        old, new = node.leader_id, chosen.get(node.id)
        if old == new:
            continue
        same = PlanNode.leader_id.is_(None) if old is None else PlanNode.leader_id == old
        result = db.session.execute(
            update(PlanNode)
            .where(PlanNode.id == node.id, same)
            .values(leader_id=new, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise StaleLeaders
        changes.append((node, old, new))
    return changes
