"""Adding and removing milestone dependencies; a new one that would close a
cycle is refused with a message naming the cycle, and nothing is written."""

from sqlalchemy import select

from app import audit
from app.engines.graph import CycleError, cycle_in_edges
from app.extensions import db
from app.models import Dependency, Milestone


class DependencyRefused(ValueError):
    pass


def add_dependency(user, successor: Milestone, predecessor_id: int, lag_days: int, reason: str) -> Dependency:
    predecessor = db.session.scalar(
        select(Milestone).where(Milestone.id == predecessor_id, Milestone.plan_id == successor.plan_id)
    )
    if predecessor is None:
        raise DependencyRefused("前置里程碑不存在或不属于同一计划。")
    exists = db.session.scalar(
        select(Dependency).where(
            Dependency.predecessor_id == predecessor.id, Dependency.successor_id == successor.id
        )
    )
    if exists is not None:
        raise DependencyRefused(f"已存在依赖：{predecessor.title} → {successor.title}。")
    edges = db.session.execute(
        select(Dependency.predecessor_id, Dependency.successor_id).where(
            Dependency.plan_id == successor.plan_id
        )
    ).all()
    cycle = cycle_in_edges(edges, predecessor.id, successor.id)
    if cycle:
        titles = dict(
            db.session.execute(select(Milestone.id, Milestone.title).where(Milestone.id.in_(cycle))).all()
        )
        raise DependencyRefused(str(CycleError(cycle, titles)))
    dep = Dependency(
        plan_id=successor.plan_id,
        predecessor_id=predecessor.id,
        successor_id=successor.id,
        lag_days=lag_days,
        inferred=False,
        reason=reason or None,
    )
    db.session.add(dep)
    audit.record(
        user,
        "dependency.add",
        dep,
        f"添加依赖：{predecessor.title} → {successor.title}（间隔 {lag_days} 天）",
        after={"predecessor": predecessor.key, "successor": successor.key, "lag_days": lag_days},
        milestone=successor,
    )
    return dep


def remove_dependency(user, dep: Dependency) -> None:
    audit.record(
        user,
        "dependency.remove",
        dep,
        f"删除依赖：{dep.predecessor.title} → {dep.successor.title}",
        before={"predecessor": dep.predecessor.key, "successor": dep.successor.key, "lag_days": dep.lag_days},
        milestone=dep.successor,
    )
    db.session.delete(dep)
