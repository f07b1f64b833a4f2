"""The province view: every area's plan on one row (score and stars, P(target), overdue
and 三色 counts, the trend since last month), sortable by any column.

Scores, stars and P(target) come from each plan's latest stored run, as on its 星级测算
page; the 三色 counts from app.status on the clock's date; the trend compares with the
latest run whose data date is at least 30 days before today.

A fixed number of queries whatever the number of areas: the plans with their regions, the
latest runs and the trend runs (one query each), and app.status.plan_counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.dashboard.runs import Change, Headline, change, headline
from app.engines import status as rules
from app.engines.standards import load_standard
from app.extensions import db
from app.models import Plan
from app.status.plan_status import latest_runs, plan_counts

TREND_DAYS = 30


@dataclass
class AreaRow:
    plan: Plan
    standard: str  # the standard's title
    counts: rules.Counts
    now: Headline | None
    trend: Change | None
    trend_day: date  # the trend compares with what was known on this day
    overdue: int


@cache
def _standard_title(code: str | None) -> str:
    if not code:
        return "未指定"
    try:
        return load_standard(code)["title"]
    except Exception:  # an unknown code still shows the plan
        return code


def area_rows(plans: list[Plan], today: date) -> list[AreaRow]:
    since = today - timedelta(days=TREND_DAYS)
    ids = [plan.id for plan in plans]
    runs = latest_runs(ids)
    before = latest_runs(ids, on_or_before=since)
    counts = plan_counts(ids, today, runs)
    rows = []
    for plan in plans:
        now = headline(runs.get(plan.id))
        rows.append(
            AreaRow(
                plan=plan,
                standard=_standard_title(plan.standard_code),
                counts=counts[plan.id].counts,
                now=now,
                trend=change(now, headline(before.get(plan.id))),
                trend_day=since,
                overdue=counts[plan.id].overdue,
            )
        )
    return rows


def visible_plans(plan_filter) -> list[Plan]:
    """The plans a user may see, with their regions (one query)."""
    stmt = select(Plan).options(joinedload(Plan.region)).where(plan_filter).order_by(Plan.code)
    return db.session.scalars(stmt).all()


def _num(x):
    """None sorts after every number (ascending) and before them (descending): missing last."""
    return (x is None, x if x is not None else 0)


# The whitelist of ?sort= keys: column label and the value each row sorts by.
COLUMNS = {
    "region": ("区域", lambda r: (False, r.plan.region.name)),
    "plan": ("计划", lambda r: (False, r.plan.title)),
    "standard": ("标准", lambda r: (False, r.standard)),
    "target": ("目标", lambda r: _num(r.plan.target_stars)),
    "score": ("得分", lambda r: _num(r.now.current_total if r.now else None)),
    "stars": ("星级", lambda r: _num(r.now.current_stars if r.now else None)),
    "p_target": ("达标概率", lambda r: _num(r.now.p_target if r.now else None)),
    "overdue": ("逾期", lambda r: _num(r.overdue)),
    "red": ("红", lambda r: _num(r.counts.red)),
    "yellow": ("黄", lambda r: _num(r.counts.yellow)),
    "blue": ("蓝", lambda r: _num(r.counts.blue)),
    "done": ("完成", lambda r: _num(r.counts.done)),
    "trend_score": ("得分变化", lambda r: _num(r.trend.current_total if r.trend else None)),
    "trend_p": ("概率变化", lambda r: _num(r.trend.p_points if r.trend else None)),
}
DEFAULT_SORT = "region"


def sort_rows(rows: list[AreaRow], key: str | None, direction: str | None) -> tuple[list[AreaRow], str, str]:
    """(rows, key, direction) with an unknown key or direction replaced by the default.
    Missing values (no stored run, no trend) go last either way."""
    key = key if key in COLUMNS else DEFAULT_SORT
    direction = direction if direction in ("asc", "desc") else "asc"
    value = COLUMNS[key][1]
    present = [r for r in rows if not value(r)[0]]
    missing = [r for r in rows if value(r)[0]]
    present.sort(key=lambda r: (value(r)[1], r.plan.code), reverse=direction == "desc")
    return present + sorted(missing, key=lambda r: r.plan.code), key, direction
