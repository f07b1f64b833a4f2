"""The reminder scan: due reminders from the database as of the clock date.

It covers the send days since the last scan (JobState "reminder_scan"), so a
scheduler that was down catches up each missed slot once. Rows go in with
INSERT … ON CONFLICT DO NOTHING on (milestone, recipient, kind, slot) and only
rows this scan inserted get delivery rows, in the same transaction: two scans
at once, or a scan repeated after Redis lost its queue, add nothing twice.
The work done is proportional to the milestones with a slot in the window
(queried by due date through the index), not to the size of the plans.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app import clock
from app.dates import from_local, local_date
from app.extensions import db
from app.models import (
    Department,
    Holiday,
    JobState,
    Milestone,
    Notice,
    NotificationSetting,
    Plan,
    PlanNode,
    ProgressReport,
    Reminder,
    ReminderDelivery,
    ReminderPolicy,
    User,
)
from app.models.notice import AWAITING_DEPARTMENT
from app.models.plan import milestone_co_department
from workflows.dbutil import chunks, insert_ignore, upsert
from workflows.reminder_policy import (
    ESCALATIONS,
    Policy,
    WorkCalendar,
    due_dates_for,
    milestone_slots,
    scan_window,
    unacknowledged_slot,
)

log = logging.getLogger(__name__)

STATE_KEY = "reminder_scan"
IN_CHUNK = 500  # ids / dates per IN (…) list
ACK_LOOKBACK_DAYS = 40  # a notice issued longer ago than this before a slot cannot escalate on it


def load_calendar(first: date, last: date) -> WorkCalendar:
    rows = db.session.execute(select(Holiday.day, Holiday.workday).where(Holiday.day.between(first, last)))
    cal = WorkCalendar()
    for day, workday in rows:
        (cal.workdays if workday else cal.holidays).add(day)
    return cal


class Recipients:
    """Who hears about what: department users, and for escalations the plan office and
    the leading-group member responsible for the node (else the region's leading group)."""

    def __init__(self):
        self.by_department = defaultdict(list)
        self.by_region_role = defaultdict(list)
        for uid, dept, region, role in db.session.execute(
            select(User.id, User.department_id, User.region_id, User.role)
            .where(User.active.is_(True))
            .order_by(User.id)
        ):
            if dept is not None:
                self.by_department[dept].append(uid)
            self.by_region_role[region, role].append(uid)
        self.node_leader = {}  # node id -> leader of the node or its nearest ancestor
        nodes = {n.id: n for n in db.session.scalars(select(PlanNode))}
        for nid in nodes:
            n = nodes[nid]
            while n is not None and n.leader_id is None:
                n = nodes.get(n.parent_id)
            self.node_leader[nid] = n.leader_id if n is not None else None

    def departments(self, dept_ids) -> list[int]:
        out = []
        for d in dept_ids:
            out.extend(u for u in self.by_department[d] if u not in out)
        return out

    def escalation(self, plan: Plan, node_id) -> list[int]:
        out = list(self.by_region_role[plan.region_id, "plan_office"])
        leader = self.node_leader.get(node_id)
        leaders = [leader] if leader is not None else self.by_region_role[plan.region_id, "leading_group"]
        out.extend(u for u in leaders if u not in out)
        return out


def _co_departments(milestone_ids) -> dict[int, list[int]]:
    out = defaultdict(list)
    for part in chunks(sorted(milestone_ids), IN_CHUNK):
        for mid, dept in db.session.execute(
            select(milestone_co_department.c.milestone_id, milestone_co_department.c.department_id)
            .where(milestone_co_department.c.milestone_id.in_(part))
            .order_by(milestone_co_department.c.position)
        ):
            out[mid].append(dept)
    return out


MILESTONE_COLUMNS = (Milestone.id, Milestone.due_date, Milestone.lead_department_id, Milestone.node_id)


def _milestone_rows(plan, policy, slot_days, people, today):
    dues = sorted(due_dates_for(policy, slot_days))
    found = []
    for part in chunks(dues, IN_CHUNK):
        found.extend(
            db.session.execute(
                select(
                    Milestone.id, Milestone.due_date, Milestone.lead_department_id, Milestone.node_id
                ).where(
                    Milestone.plan_id == plan.id, Milestone.status != "done", Milestone.due_date.in_(part)
                )
            ).all()
        )
    co = _co_departments([m.id for m in found]) if policy.include_co_departments else {}
    rows = []
    for m in found:
        for s in milestone_slots(policy, m.due_date, slot_days):
            if s.kind in ESCALATIONS:
                users = people.escalation(plan, m.node_id)
            else:
                users = people.departments([m.lead_department_id, *co.get(m.id, [])])
            for uid in users:
                rows.append(_row(m.id, uid, s.kind, s.slot, slot_days[s.slot], m.due_date, s.days))
    return rows


def _returned_rows(plan, policy, slot_days, people):
    """Returned lead reports not resubmitted within the policy's days."""
    oldest = min(slot_days) - timedelta(days=policy.escalate_returned_days + 1)
    # reviewed_at is an event time (naive UTC): its day is the Beijing date, as pages show it.
    rows = []
    for r, m in db.session.execute(
        select(ProgressReport, Milestone)
        .join(Milestone)
        .where(
            Milestone.plan_id == plan.id,
            Milestone.status != "done",
            ProgressReport.state == "returned",
            ProgressReport.reviewed_at >= from_local(datetime.combine(oldest, datetime.min.time())),
        )
    ):
        slot = local_date(r.reviewed_at) + timedelta(days=policy.escalate_returned_days)
        if slot in slot_days:
            for uid in people.escalation(plan, m.node_id):
                row = _row(m.id, uid, "escalate_returned", slot, slot_days[slot], m.due_date, 0)
                rows.append({**row, "report_id": r.id})
    return rows


def _notice_rows(plan, policy, slot_days, people):
    """督办 notices the department still owes an answer on their reply date."""
    rows = []
    if not policy.escalate_notices:
        return rows
    for n, m in db.session.execute(
        select(Notice, Milestone)
        .join(Milestone)
        .where(
            Milestone.plan_id == plan.id,
            Notice.state.in_(AWAITING_DEPARTMENT),
            Notice.reply_due.in_(list(slot_days)),
        )
    ):
        for uid in people.escalation(plan, m.node_id):
            row = _row(m.id, uid, "escalate_notice", n.reply_due, slot_days[n.reply_due], m.due_date, 0)
            rows.append({**row, "notice_id": n.id})
    return rows


def _unacknowledged_rows(plan, policy, slot_days, people, cal):
    """督办 notices still not 签收 a working day after they were issued."""
    rows = []
    if not policy.escalate_notices:
        return rows
    oldest = min(slot_days) - timedelta(days=ACK_LOOKBACK_DAYS)
    for n, m in db.session.execute(
        select(Notice, Milestone)
        .join(Milestone)
        .where(
            Milestone.plan_id == plan.id,
            Notice.state == "issued",
            Notice.issued_at >= from_local(datetime.combine(oldest, datetime.min.time())),
        )
    ):
        slot = unacknowledged_slot(local_date(n.issued_at), cal)
        if slot not in slot_days:
            continue
        for uid in people.escalation(plan, m.node_id):
            row = _row(m.id, uid, "escalate_unacknowledged", slot, slot_days[slot], m.due_date, 0)
            rows.append({**row, "notice_id": n.id})
    return rows


def _row(mid, uid, kind, slot, send_on, due, days):
    return {
        "milestone_id": mid,
        "recipient_id": uid,
        "kind": kind,
        "slot": slot,
        "send_on": send_on,
        "due_date": due,
        "days": days,
        "report_id": None,
        "notice_id": None,
        "status": "pending",
        "created_at": clock.utcnow(),
    }


def _channels(user_ids) -> dict[int, list[str]]:
    """The channels each recipient gets: in-app always; email with an address unless
    switched off; the department's group chat when it has a webhook, unless switched off."""
    settings = {}
    users = {}
    for part in chunks(sorted(user_ids), IN_CHUNK):
        settings.update(
            {
                s.user_id: s
                for s in db.session.scalars(
                    select(NotificationSetting).where(NotificationSetting.user_id.in_(part))
                )
            }
        )
        users.update(
            {
                uid: (email, hook)
                for uid, email, hook in db.session.execute(
                    select(User.id, User.email, Department.webhook_url)
                    .outerjoin(Department, User.department_id == Department.id)
                    .where(User.id.in_(part))
                )
            }
        )
    out = {}
    for uid in user_ids:
        email, hook = users.get(uid, (None, None))
        s = settings.get(uid)
        channels = ["in_app"]
        if email and (s is None or s.email):
            channels.append("email")
        if hook and (s is None or s.webhook):
            channels.append("webhook")
        out[uid] = channels
    return out


def scan(today: date | None = None) -> dict:
    """Insert the reminders due since the last scan; returns counts. Commits."""
    today = today or clock.today()
    state = db.session.get(JobState, STATE_KEY)
    last = date.fromisoformat(state.value["day"]) if state and state.value.get("day") else None
    first, last_day = scan_window(last, today)
    cal = load_calendar(first - timedelta(days=60 + ACK_LOOKBACK_DAYS), last_day + timedelta(days=60))
    slot_days = cal.slots_sent_between(first, last_day)
    rows = []
    if slot_days:
        people = Recipients()
        policies = {p.plan_id: p for p in db.session.scalars(select(ReminderPolicy))}
        for plan in db.session.scalars(select(Plan).order_by(Plan.id)):
            policy = Policy.from_row(policies.get(plan.id))
            rows += _milestone_rows(plan, policy, slot_days, people, today)
            rows += _returned_rows(plan, policy, slot_days, people)
            rows += _notice_rows(plan, policy, slot_days, people)
            rows += _unacknowledged_rows(plan, policy, slot_days, people, cal)
    inserted = insert_ignore(
        Reminder,
        rows,
        ["milestone_id", "recipient_id", "kind", "slot"],
        returning=(Reminder.id, Reminder.recipient_id),
    )
    channels = _channels({uid for _, uid in inserted})
    deliveries = [
        {"reminder_id": rid, "channel": ch, "status": "pending", "attempts": 0}
        for rid, uid in inserted
        for ch in channels[uid]
    ]
    insert_ignore(ReminderDelivery, deliveries, ["reminder_id", "channel"])
    upsert(
        JobState,
        {"name": STATE_KEY, "value": {"day": today.isoformat()}, "updated_at": clock.utcnow()},
        ["name"],
    )
    db.session.commit()
    result = {
        "today": today.isoformat(),
        "window": [first.isoformat(), last_day.isoformat()],
        "candidates": len(rows),
        "inserted": len(inserted),
        "deliveries": len(deliveries),
    }
    log.info("reminder scan: %s", result)
    return result


def scan_job() -> dict:
    """The periodic job: scan, then queue a send (so new reminders go out promptly)."""
    from workflows.queue import enqueue_quietly

    result = scan()
    enqueue_quietly(
        "workflows.reminders_send.send_job", queue="high", title="发送提醒", job_id="reminders-send"
    )
    return result
