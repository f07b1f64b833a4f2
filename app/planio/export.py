"""A plan as JSON-able data, in a deterministic order, and its counts.

Nodes come in tree order (the loader's positions), milestones by node, due date
and key, indicators by position, dependencies by their two keys, departments by
name. A star cell the plan leaves empty is exported with every field null.
"""

from sqlalchemy import func, select, union
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Department, Dependency, Indicator, Milestone, Plan, PlanNode
from app.models.indicator import indicator_department
from app.models.plan import milestone_co_department, node_department


def _iso(value):
    return value.isoformat() if value is not None else None


def _num(value):
    """Numbers as published: 80 stays 80, 2.5 stays 2.5."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _names(departments) -> list[str]:
    return [d.name for d in departments]


def get_plan(code: str) -> Plan:
    plan = db.session.scalar(select(Plan).where(Plan.code == code))
    if plan is None:
        raise LookupError(f"no plan {code!r}")
    return plan


def _cell(ind: Indicator, band: str) -> dict:
    more = getattr(ind, f"{band}_and")
    return {
        "target": getattr(ind, f"{band}_target"),
        "value": _num(getattr(ind, f"{band}_value")),
        "op": getattr(ind, f"{band}_op"),
        "part": getattr(ind, f"{band}_part"),
        "and": [{**c, "value": _num(c["value"])} for c in more] if more else None,
        "due": _iso(getattr(ind, f"{band}_due")),
    }


def _link(ind: Indicator) -> dict | None:
    """The link to the standard as the plan file writes it (part only where one feeds it)."""
    if ind.standard_indicator is None:
        return None
    link = {"indicator": ind.standard_indicator, "quantity": ind.standard_quantity, "unit": ind.standard_unit}
    if ind.standard_part is not None:
        link["part"] = ind.standard_part
    return link


def _indicator(ind: Indicator) -> dict:
    return {
        "key": ind.key,
        "table": ind.table_name,
        "category": ind.category,
        "number": ind.number,
        "name": ind.name,
        "definition": ind.definition,
        "unit": ind.unit,
        "parts": ind.parts,
        "star": ind.star,
        "four_star": _cell(ind, "four_star"),
        "five_star": _cell(ind, "five_star"),
        "weight_four_star": ind.weight_four_star,
        "weight_five_star": ind.weight_five_star,
        "departments": _names(ind.departments),
        "standard": _link(ind),
    }


def _milestone(m: Milestone) -> dict:
    return {
        "key": m.key,
        "node": m.node.key,
        "title": m.title,
        "text": m.text,
        "source": m.source,
        "due": _iso(m.due_date),
        "baseline_due": _iso(m.baseline_due_date),
        "lead": m.lead_department.name,
        "co": _names(m.co_departments),
        "status": m.status,
        "percent": m.percent,
        "actual_finish": _iso(m.actual_finish),
        "targets": m.targets,
        "indicators": [i.key for i in sorted(m.indicators, key=lambda i: (i.position, i.key))],
    }


def export_plan(code: str) -> dict:
    plan = get_plan(code)
    nodes = db.session.scalars(
        select(PlanNode).where(PlanNode.plan_id == plan.id).options(selectinload(PlanNode.departments))
    ).all()
    nodes = sorted(nodes, key=lambda n: (n.position, n.key))
    position = {n.id: (n.position, n.key) for n in nodes}
    milestones = db.session.scalars(
        select(Milestone)
        .where(Milestone.plan_id == plan.id)
        .options(
            selectinload(Milestone.co_departments),
            selectinload(Milestone.indicators),
            selectinload(Milestone.lead_department),
            selectinload(Milestone.node),
        )
    ).all()
    milestones = sorted(milestones, key=lambda m: (position[m.node_id], m.due_date, m.key))
    indicators = db.session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).options(selectinload(Indicator.departments))
    ).all()
    indicators = sorted(indicators, key=lambda i: (i.position, i.key))
    deps = db.session.scalars(
        select(Dependency)
        .where(Dependency.plan_id == plan.id)
        .options(selectinload(Dependency.predecessor), selectinload(Dependency.successor))
    ).all()
    return {
        "code": plan.code,
        "title": plan.title,
        "issued": _iso(plan.issued),
        "source": plan.source,
        "period": {"start": _iso(plan.period_start), "end": _iso(plan.period_end)},
        "region": {
            "name": plan.region.name,
            "kind": plan.region.kind,
            "parent": plan.region.parent.name if plan.region.parent else None,
        },
        "standard": plan.standard_code,
        "targets": plan.targets,
        "target_stars": plan.target_stars,
        "target_date": _iso(plan.target_date),
        "departments": [{"name": d.name, "kind": d.kind} for d in _departments(plan)],
        "nodes": _tree(nodes, milestones),
        "milestones": [_milestone(m) for m in milestones],
        "dependencies": sorted(
            (
                {
                    "predecessor": d.predecessor.key,
                    "successor": d.successor.key,
                    "lag_days": d.lag_days,
                    "inferred": d.inferred,
                    "reason": d.reason,
                }
                for d in deps
            ),
            key=lambda d: (d["predecessor"], d["successor"]),
        ),
        "indicators": [_indicator(i) for i in indicators],
    }


def _tree(nodes, milestones) -> list[dict]:
    by_node: dict[int, list[str]] = {}
    for m in milestones:
        by_node.setdefault(m.node_id, []).append(m.key)
    out: dict[int | None, list[dict]] = {}
    for n in nodes:  # tree order: a parent comes before its children
        item = {
            "key": n.key,
            "kind": n.kind,
            "number": n.number,
            "title": n.title,
            "text": n.text,
            "departments": _names(n.departments),
            "milestones": by_node.get(n.id, []),
            "children": out.setdefault(n.id, []),
        }
        out.setdefault(n.parent_id, []).append(item)
    return out.get(None, [])


def _department_ids(plan: Plan):
    """Every department the plan refers to: node, milestone and indicator links."""
    ms = select(Milestone.id).where(Milestone.plan_id == plan.id)
    return union(
        select(node_department.c.department_id).where(
            node_department.c.node_id.in_(select(PlanNode.id).where(PlanNode.plan_id == plan.id))
        ),
        select(Milestone.lead_department_id).where(Milestone.plan_id == plan.id),
        select(milestone_co_department.c.department_id).where(milestone_co_department.c.milestone_id.in_(ms)),
        select(indicator_department.c.department_id).where(
            indicator_department.c.indicator_id.in_(select(Indicator.id).where(Indicator.plan_id == plan.id))
        ),
    ).subquery()


def _departments(plan: Plan) -> list[Department]:
    ids = _department_ids(plan)
    found = db.session.scalars(select(Department).where(Department.id.in_(select(ids))))
    return sorted(found, key=lambda d: d.name)  # code-point order, the same on every database


def show_counts(code: str) -> dict:
    plan = get_plan(code)

    def count(model, *where):
        return db.session.scalar(
            select(func.count()).select_from(model).where(model.plan_id == plan.id, *where)
        )

    departments = db.session.scalar(select(func.count()).select_from(_department_ids(plan)))
    inds = db.session.scalars(select(Indicator).where(Indicator.plan_id == plan.id)).all()
    targets = db.session.scalars(select(Milestone.targets).where(Milestone.plan_id == plan.id)).all()
    return {
        "code": plan.code,
        "nodes": count(PlanNode),
        "projects": count(PlanNode, PlanNode.kind == "project"),
        "milestones": count(Milestone),
        "indicators": count(Indicator),
        "departments": departments,
        "dependencies": count(Dependency),
        # indicators linked to a standard indicator (by a part: part_links), compound
        # indicators, and milestone targets that declare the value they deliver
        "standard_links": sum(i.standard_indicator is not None for i in inds),
        "part_links": sum(i.standard_part is not None for i in inds),
        "compound_indicators": sum(bool(i.parts) for i in inds),
        "declared_deliveries": sum(1 for ts in targets for t in ts or [] if t.get("indicator")),
    }
