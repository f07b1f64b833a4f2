"""The 考评 table of a plan: one row per lead department — the engine's figures
(app.engines.assessment) beside its 三色 counts and points at stake (app.status),
sortable by any column through a whitelist; and the month-by-month view."""

from __future__ import annotations

from app.bulletins.facts import plan_facts
from app.engines import assessment
from app.engines import status as rules
from app.models import Plan
from app.status.plan_status import PlanStatus

# ?sort= value -> the row key it sorts by (a leading "-" sorts descending)
SORTS = {
    "department": "department",
    "due": "due",
    "on_time": "on_time_rate",
    "overdue": "overdue",
    "reports": "reports_rate",
    "notices": "notices_rate",
    "points": "points_at_stake",
    "red": "red",
    "yellow": "yellow",
    "blue": "blue",
    "done": "done",
}
DEFAULT_SORT = "-overdue"


def parse_sort(raw: str | None) -> str:
    """A whitelisted sort (`overdue`, `-overdue`, …); anything else gives the default."""
    raw = (raw or "").strip()
    return raw if raw.lstrip("-") in SORTS else DEFAULT_SORT


def sort_rows(rows: list[dict], sort: str) -> list[dict]:
    """Rows by the sort's column (missing rates last either way), then by department name."""
    sort = parse_sort(sort)
    key, desc = SORTS[sort.lstrip("-")], sort.startswith("-")
    by_name = sorted(rows, key=lambda r: r["department"])
    present = [r for r in by_name if r.get(key) is not None]
    missing = [r for r in by_name if r.get(key) is None]
    return sorted(present, key=lambda r: r[key], reverse=desc) + missing


def department_rows(plan: Plan, status: PlanStatus) -> list[dict]:
    """One row per department leading milestones in the plan, as of status.today
    (plain values, so a bulletin can store them as issued)."""
    facts, notices = plan_facts(plan)
    scores = assessment.score_on(facts, notices, status.today)
    points: dict[int, int] = {}
    for row in status.rows.values():
        if row.colour in (rules.RED, rules.YELLOW):
            dept = row.milestone.lead_department_id
            points[dept] = points.get(dept, 0) + row.points_at_stake
    rows = []
    for dept_id, dept in status.departments.items():
        counts = status.by_department.get(dept_id, rules.Counts())
        score = scores.get(dept_id, assessment.Score())
        rows.append(
            {
                "department_id": dept_id,
                "department": dept.name,
                **score.as_dict(),
                "points_at_stake": points.get(dept_id, 0),
                **counts.as_dict(),
            }
        )
    return sort_rows(rows, DEFAULT_SORT)


def totals(rows: list[dict]) -> dict:
    """The plan's line under the table (rates from the summed counts)."""
    keys = ("due", "on_time", "due_baseline", "on_time_baseline", "extended", "overdue", "reports_on_time")
    keys += ("notices_due", "notices_on_time", "points_at_stake", "red", "yellow", "blue", "done", "total")
    out = {k: sum(r.get(k) or 0 for r in rows) for k in keys}
    out["on_time_rate"] = assessment.rate(out["on_time"], out["due"])
    out["on_time_baseline_rate"] = assessment.rate(out["on_time_baseline"], out["due_baseline"])
    out["reports_rate"] = assessment.rate(out["reports_on_time"], out["due"])
    out["notices_rate"] = assessment.rate(out["notices_on_time"], out["notices_due"])
    return out


def monthly_rows(plan: Plan, status: PlanStatus) -> list[dict]:
    """Per month of the plan period up to the clock's month: the month's figures per
    department (the departments of the table, by name) and the month's total."""
    facts, notices = plan_facts(plan)
    names = {dept_id: dept.name for dept_id, dept in status.departments.items()}
    out = []
    for month in assessment.monthly(facts, notices, plan.period_start, status.today):
        rows = [
            {
                "department_id": d,
                "department": names[d],
                **month.departments.get(d, assessment.Score()).as_dict(),
            }
            for d in sorted(names, key=lambda d: names[d])
        ]
        active = [r for r in rows if r["due"] or r["overdue"] or r["notices_due"]]
        out.append(
            {
                "month": month.start,
                "label": month.label,
                "end": month.end,
                "current": month.current,
                "rows": active,
                "total": totals(rows),
            }
        )
    return out
