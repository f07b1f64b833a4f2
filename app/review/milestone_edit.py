"""The plan office's milestone edit: name, text, lead and co-departments, due date.

A changed due date is an extension (or, earlier than now, a 提前) with its reason,
recorded as an Extension row exactly like 批准延期; the baseline stays. A department
may not be taken off (or moved between lead and co) while it has a report waiting
for review: that report would otherwise be approved for a role it no longer has.
Nothing is committed here; the route commits.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from app import audit
from app.dates import cn_date
from app.engines import limits
from app.extensions import db
from app.models import Department, Extension, Milestone, ProgressReport
from app.models.plan import milestone_co_department
from app.planio.links import sync_links


class EditRefused(ValueError):
    """The edit cannot be saved; the message says why, in Chinese."""


def region_departments(m: Milestone) -> list[Department]:
    return db.session.scalars(
        select(Department).where(Department.region_id == m.plan.region_id).order_by(Department.name)
    ).all()


def due_bounds(plan) -> tuple[date, date]:
    return limits.due_bounds(plan.period_start, plan.period_end)


def check_due(plan, new_due: date) -> str | None:
    """The shared rule (app/engines/limits.py): the plan's period, up to a year past its end."""
    return limits.due_problem(new_due, plan.period_start, plan.period_end)


def _dept(d: Department) -> dict:
    return {"id": d.id, "name": d.name}


def state(m: Milestone) -> dict:
    """The audit snapshot: what the edit may change, departments with id and name."""
    return {
        "title": m.title,
        "text": m.text,
        "lead_department": _dept(m.lead_department),
        "co_departments": [_dept(d) for d in m.co_departments],
        "due_date": m.due_date.isoformat(),
        "baseline_due_date": m.baseline_due_date.isoformat(),
        "version": m.version,
    }


def grant_extension(m: Milestone, new_due: date, reason: str, user) -> Extension:
    """Move the due date (baseline kept) with an Extension row and its audit row."""
    word = "提前" if new_due < m.due_date else "延期"
    before = audit.snapshot(m, ["due_date", "baseline_due_date", "version"])
    ext = Extension(milestone=m, old_due=m.due_date, new_due=new_due, reason=reason, granted_by_id=user.id)
    db.session.add(ext)
    m.due_date = new_due  # baseline_due_date is kept as loaded
    db.session.flush()
    audit.record(
        user,
        "milestone.extend",
        m,
        f"{word}至 {cn_date(new_due)}：{reason}"[:512],
        before=before,
        after=audit.snapshot(m, ["due_date", "baseline_due_date", "version"]),
    )
    return ext


def _roles(lead_id: int, co_ids: list[int]) -> dict[int, str]:
    return {lead_id: "lead"} | {i: "co" for i in co_ids}


def pending_blockers(m: Milestone, lead_id: int, co_ids: list[int]) -> list[str]:
    """Messages for departments whose role changes while a report of theirs awaits review."""
    old = _roles(m.lead_department_id, [d.id for d in m.co_departments])
    new = _roles(lead_id, co_ids)
    moved = [dept_id for dept_id in old if old[dept_id] != new.get(dept_id)]
    if not moved:
        return []
    pending = db.session.scalars(
        select(ProgressReport).where(
            ProgressReport.milestone_id == m.id,
            ProgressReport.state == "submitted",
            ProgressReport.department_id.in_(moved),
        )
    ).all()
    out = []
    for dept_id in sorted({r.department_id for r in pending}):
        name = db.session.get(Department, dept_id).name
        what = "移出本里程碑" if dept_id not in new else "调整其牵头/配合角色"
        out.append(f"“{name}”有一份待审核的汇报，请先审核（通过或退回）后再{what}。")
    return out


def validate_departments(m: Milestone, lead_id, co_ids: list, allowed: dict[int, str]) -> list[str]:
    errors = []
    if lead_id is None:
        errors.append("请选择牵头部门。")
    elif lead_id not in allowed:
        errors.append("牵头部门应为本地区的部门。")
    seen = set()
    for dept_id in co_ids:
        if dept_id not in allowed:
            errors.append("配合部门应为本地区的部门。")
        elif dept_id == lead_id:
            errors.append(f"“{allowed[dept_id]}”已是牵头部门，不能同时作为配合部门。")
        elif dept_id in seen:
            errors.append(f"配合部门“{allowed[dept_id]}”重复。")
        seen.add(dept_id)
    return errors


def apply_edit(m: Milestone, user, *, title, text, lead_id, co_ids, due, reason) -> set[str]:
    """Write the edit into the session: what changed ("fields", "departments", "due")."""
    before = state(m)
    changed = set()
    if (m.title, m.text) != (title, text):
        m.title, m.text = title, text
        changed.add("fields")
    if m.lead_department_id != lead_id:
        m.lead_department_id = lead_id
        changed.add("departments")
    db.session.flush()
    if sync_links(milestone_co_department, "milestone_id", m.id, "department_id", co_ids):
        changed.add("departments")
    db.session.expire(m, ["co_departments", "lead_department"])
    if due != m.due_date:
        grant_extension(m, due, reason, user)
        changed.add("due")
    if not changed:
        return changed
    flag_modified(m, "title")  # a link-only change still bumps the version (and meets the lock)
    db.session.flush()
    labels = {"fields": "名称或工作要求", "departments": "牵头/配合部门", "due": "完成期限"}
    audit.record(
        user,
        "milestone.edit",
        m,
        "修改里程碑" + "、".join(labels[k] for k in ("fields", "departments", "due") if k in changed),
        before=before,
        after=state(m),
    )
    return changed
