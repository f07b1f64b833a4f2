"""The key of everything a plan's pages show: the plan, the date and its content_version.

Plan.content_version is bumped in the same transaction as every change of a row those
pages show (app/plan_versions: session events, so no route or job can forget it). A
kept section (app/section_cache.py) or status summary checks it with one primary-key read,
where the fingerprint it replaces scanned every table of the plan (~10 ms a page at 6,000
milestones). The number is read before the section is computed, so a change committed in
between is stored under the older key and never served as current.
"""

from __future__ import annotations

from datetime import date

from flask import g, has_request_context
from sqlalchemy import select

from app.extensions import db
from app.models import Plan


def plan_key(plan: Plan | int, today: date) -> tuple:
    """(plan id, date, content_version, created_at), read once per request. The creation time
    tells a plan from one loaded under the same id into a rebuilt database. A plan loaded in
    this request brings both (nothing to read: its load came before any section's compute,
    and a bump in this session expires them)."""
    memo = g.setdefault("plan_content_versions", {}) if has_request_context() else {}
    if isinstance(plan, Plan):
        loaded = plan.__dict__
        if "content_version" in loaded and "created_at" in loaded and plan.id not in memo:
            memo[plan.id] = (loaded["content_version"], loaded["created_at"])
        plan = plan.id
    if plan not in memo:
        row = db.session.execute(
            select(Plan.content_version, Plan.created_at).where(Plan.id == plan)
        ).one_or_none()
        memo[plan] = tuple(row) if row is not None else (None, None)
    return (plan, today, *memo[plan])


def region_key(region_id: int | None, today: date) -> tuple:
    """The keys of every plan of a region, for a section drawn from several of its plans
    (我的工作): one statement; each plan's key is remembered for the rest of the request."""
    memo = g.setdefault("plan_content_versions", {}) if has_request_context() else {}
    rows = db.session.execute(
        select(Plan.id, Plan.content_version, Plan.created_at)
        .where(Plan.region_id == region_id)
        .order_by(Plan.id)
    ).all()
    for plan_id, version, created in rows:
        memo.setdefault(plan_id, (version, created))
    return (region_id, today, *(memo[r.id] + (r.id,) for r in rows))


def forget_keys(plan_ids) -> None:
    """This request's remembered keys of these plans (their versions were just bumped)."""
    if has_request_context():
        memo = g.get("plan_content_versions")
        for plan_id in plan_ids if memo else ():
            memo.pop(plan_id, None)
