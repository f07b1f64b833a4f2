"""周报通报: issue a plan's bulletin, store it as issued, and tell the people it names.

- weekly_job (periodic, workflows.scheduler ticks it every 15 minutes): from Monday
  08:00 Beijing time of the clock's week, each plan gets that week's weekly bulletin
  once; a scheduler that was down catches up later in the same week. The unique key
  (plan, kind weekly, week) makes running it again harmless.
- request_bulletin (the list page's button) queues issue_on_demand with a request id,
  so a retried job stores its bulletin once.

Issuing writes the Bulletin row (its full content, app.bulletins.content), an in-app
Notification to the region's leading group and to the users of each department with a
红/黄 item in it, and an audit row — one transaction.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import audit, clock
from app.bulletins.content import build, week_of
from app.dates import cn_date, to_local
from app.extensions import db
from app.models import Bulletin, Notification, Plan, User
from workflows.queue import enqueue_quietly

log = logging.getLogger(__name__)

ISSUE_AT = time(8, 0)  # Monday, Beijing time
ON_DEMAND_JOB = "workflows.bulletins.issue_on_demand"


def on_demand_job_id(plan_id: int) -> str:
    return f"bulletin-on-demand-{plan_id}"


def local_now() -> datetime:
    """The clock's date at the current Beijing time of day (the demo pins the date)."""
    return datetime.combine(clock.today(), to_local(clock.utcnow()).time())


def weekly_due(now: datetime) -> date | None:
    """The week whose bulletin is due at `now` (Beijing time): from Monday 08:00 to the
    end of that week; None before 08:00 on a Monday."""
    if now.weekday() == 0 and now.time() < ISSUE_AT:
        return None
    return week_of(now.date())


def recipients(plan: Plan, data: dict) -> dict[int, str]:
    """{user id: message}: the region's leading group, and each active user of a
    department with a 红/黄 item (told its own count)."""
    items = data["items"]
    counts = data["counts"]
    kind = "周报通报" if data["kind"] == "weekly" else "临时通报"
    head = f"{plan.title} {cn_date(data['as_of'])}{kind}：红 {counts['red']} 项、黄 {counts['yellow']} 项。"
    out: dict[int, str] = {}
    for uid in db.session.scalars(
        select(User.id).where(
            User.role == "leading_group", User.region_id == plan.region_id, User.active.is_(True)
        )
    ):
        out[uid] = head
    own: dict[int, dict] = {}
    for item in items:
        mine = own.setdefault(item["department_id"], {"red": 0, "yellow": 0})
        mine[item["colour"]] += 1
    if own:
        for uid, dept_id in db.session.execute(
            select(User.id, User.department_id).where(
                User.department_id.in_(own), User.region_id == plan.region_id, User.active.is_(True)
            )
        ):
            mine = own[dept_id]
            out.setdefault(uid, head + f"其中贵部门牵头：红 {mine['red']} 项、黄 {mine['yellow']} 项。")
    return out


def issue(
    plan: Plan,
    kind: str,
    today: date,
    user: User | None = None,
    request_id: str | None = None,
) -> tuple[Bulletin, bool]:
    """Store the plan's bulletin on `today` with its messages (commits: a job boundary).
    Returns (the bulletin, whether it is new); an existing weekly bulletin of the week, or
    the one an earlier try of the same request stored, is returned unchanged."""
    week = week_of(today)
    existing = _existing(plan.id, kind, week, request_id)
    if existing is not None:
        return existing, False
    data = build(plan, today, kind)
    bulletin = Bulletin(
        plan_id=plan.id,
        kind=kind,
        week=week,
        as_of=today,
        issued_by_id=user.id if user is not None else None,
        data=data,
        request_id=request_id,
    )
    bulletin.plan = plan
    try:
        _store(bulletin, plan, data, user, today, week)
    except IntegrityError:  # another run stored it first (at the flush or the commit)
        db.session.rollback()
        existing = _existing(plan.id, kind, week, request_id)
        if existing is None:
            raise
        return existing, False
    log.info("bulletin %s issued for %s (%s, week %s)", bulletin.id, plan.code, kind, week)
    return bulletin, True


def _store(bulletin: Bulletin, plan: Plan, data: dict, user: User | None, today: date, week: date) -> None:
    """The bulletin, its messages and the audit row, in one commit."""
    db.session.add(bulletin)
    db.session.flush()
    link = f"/bulletins/{bulletin.id}"
    for uid, text in recipients(plan, data).items():
        db.session.add(Notification(user_id=uid, text=text, link=link))
    audit.record(
        user,
        "bulletin.issue",
        bulletin,
        f"发布{bulletin.kind_label}：{plan.title}（{cn_date(today)}，红 {data['counts']['red']} 项、"
        f"黄 {data['counts']['yellow']} 项）",
        after={"kind": bulletin.kind, "week": week.isoformat(), "as_of": today.isoformat()},
    )
    db.session.commit()


def _existing(plan_id: int, kind: str, week: date, request_id: str | None) -> Bulletin | None:
    if request_id is not None:
        return db.session.scalar(select(Bulletin).where(Bulletin.request_id == request_id))
    if kind != "weekly":
        return None
    return db.session.scalar(
        select(Bulletin).where(Bulletin.plan_id == plan_id, Bulletin.kind == "weekly", Bulletin.week == week)
    )


def issue_weekly(now: datetime) -> dict:
    """Each plan's weekly bulletin of `now`'s week, if due and not yet issued."""
    week = weekly_due(now)
    if week is None:
        return {"due": False, "issued": []}
    issued = []
    for plan in db.session.scalars(select(Plan).order_by(Plan.id)).all():
        bulletin, new = issue(plan, "weekly", now.date())
        if new:
            issued.append(bulletin.id)
    return {"due": True, "week": week.isoformat(), "issued": issued}


def weekly_job() -> dict:
    """The periodic job (workflows.scheduler)."""
    return issue_weekly(local_now())


def request_bulletin(plan_id: int, user_id: int):
    """Queue an on-demand bulletin (after the caller's commit); None if Redis is down.
    A request still waiting in the queue is reused, so a double click issues one."""
    return enqueue_quietly(
        ON_DEMAND_JOB,
        plan_id,
        user_id,
        uuid.uuid4().hex,
        queue="default",
        timeout=600,
        title=f"生成计划 {plan_id} 的临时通报",
        job_id=on_demand_job_id(plan_id),
    )


def issue_on_demand(plan_id: int, user_id: int, request_id: str) -> dict:
    """The job: the plan's on-demand bulletin on the clock's date."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        return {"plan_id": plan_id, "issued": False, "reason": "no such plan"}
    user = db.session.get(User, user_id)
    bulletin, new = issue(plan, "on_demand", clock.today(), user, request_id=request_id)
    return {"plan_id": plan_id, "bulletin_id": bulletin.id, "issued": new}


def issue_demo(as_of: date) -> list[int]:
    """The demo's first weekly bulletins (app.demo): each plan's stored forecast on the demo
    date first, so the bulletin has its headline (store_snapshot reuses a stored run)."""
    from app.forecasting.snapshot import store_snapshot

    ids = []
    for plan in db.session.scalars(select(Plan).order_by(Plan.id)).all():
        if plan.standard_code:
            store_snapshot(plan, as_of)
        bulletin, _ = issue(plan, "weekly", as_of)
        ids.append(bulletin.id)
    return ids
