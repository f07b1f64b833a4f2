"""The reminder scan against the database: who gets what, once, and catch-up."""

import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Department,
    Holiday,
    Milestone,
    Notice,
    Reminder,
    ReminderDelivery,
    ReminderPolicy,
    User,
)
from tests.factories import build_world
from workflows.reminders_scan import scan


def _keys():
    rows = db.session.execute(
        select(Reminder.milestone_id, User.username, Reminder.kind, Reminder.slot, Reminder.send_on).join(
            User, Reminder.recipient_id == User.id
        )
    ).all()
    return sorted(rows)


def test_seven_days_before_reaches_lead_and_co_departments(ctx):
    world = build_world()
    # m_police: due 2021-03-25, lead 公安局, co-department 交通运输局.
    db.session.get(User, world["police"]).email = "police@example.cn"
    db.session.commit()
    result = scan(date(2021, 3, 18))
    assert result["inserted"] == 2
    keys = _keys()
    assert [(k[1], k[2], k[3]) for k in keys] == [
        ("police", "before", date(2021, 3, 18)),
        ("transport", "before", date(2021, 3, 18)),
    ]
    channels = Counter(db.session.scalars(select(ReminderDelivery.channel)))
    assert channels == {"in_app": 2, "email": 1}  # only the police user has an address
    assert scan(date(2021, 3, 18))["inserted"] == 0  # a second scan adds nothing


def test_escalation_and_overdue_for_a_late_milestone(ctx):
    world = build_world()
    # m_late: due 2021-02-28 and still open. Sunday 3/14 (14 days late) is no working day:
    # nothing is sent; on Monday 3/15 the overdue reminder of 3/14 goes out, and 3/15 is
    # 15 days late (> 14): escalation to the plan office and the leading group.
    assert scan(date(2021, 3, 14))["inserted"] == 0
    scan(date(2021, 3, 15))
    late = [k for k in _keys() if k[0] == world["m_late"]]
    assert sorted((k[1], k[2], k[3], k[4]) for k in late) == [
        ("leader", "escalate_overdue", date(2021, 3, 15), date(2021, 3, 15)),
        ("office", "escalate_overdue", date(2021, 3, 15), date(2021, 3, 15)),
        ("police", "overdue", date(2021, 3, 14), date(2021, 3, 15)),
    ]


def test_done_milestones_get_nothing_and_policy_is_per_plan(ctx):
    world = build_world()
    m = db.session.get(Milestone, world["m_police"])
    m.status, m.percent = "done", 100
    db.session.add(ReminderPolicy(plan_id=m.plan_id, before_days=[3], include_co_departments=False))
    db.session.commit()
    far = db.session.get(Milestone, world["m_transport"])  # due 2021-06-30
    assert scan(date(2021, 6, 27))["inserted"] == 0  # Sunday: the 3-days-before slot waits
    scan(date(2021, 6, 28))
    assert [(k[1], k[2], k[3], k[4]) for k in _keys() if k[0] == far.id] == [
        ("transport", "before", date(2021, 6, 27), date(2021, 6, 28))
    ]
    assert not [k for k in _keys() if k[0] == m.id]  # done: nothing


def test_a_stopped_scheduler_catches_up_each_missed_slot_once(ctx):
    build_world()
    scan(date(2021, 3, 15))
    # Nothing ran between 3/16 and 3/26: 3/24 (1 day before) and 3/25 (the day) come now.
    scan(date(2021, 3, 26))
    police = [(k[2], k[3]) for k in _keys() if k[1] == "police" and k[0] != 0]
    assert ("before", date(2021, 3, 24)) in police and ("due", date(2021, 3, 25)) in police
    assert ("before", date(2021, 3, 18)) in police  # 7 days before, also missed
    assert len(police) == len(set(police))


def test_holidays_move_the_send_day(ctx):
    build_world()
    db.session.add(Holiday(day=date(2021, 3, 18), name="测试假日"))
    db.session.commit()
    scan(date(2021, 3, 18))
    assert _keys() == []  # the 7-days-before slot waits for the next working day
    scan(date(2021, 3, 19))
    assert {(k[2], k[3], k[4]) for k in _keys()} == {("before", date(2021, 3, 18), date(2021, 3, 19))}


def test_unanswered_notice_escalates_on_its_reply_date(ctx):
    world = build_world()
    office = db.session.get(User, world["office"])
    db.session.add(
        Notice(
            milestone_id=world["m_transport"],
            department_id=world["transport_dept"],
            issued_by_id=office.id,
            text="请说明进度",
            reply_due=date(2021, 3, 17),
        )
    )
    db.session.commit()
    scan(date(2021, 3, 17))
    notice_rows = [k for k in _keys() if k[2] == "escalate_notice"]
    assert {k[1] for k in notice_rows} == {"office", "leader"}


def test_department_webhook_adds_a_channel(ctx):
    world = build_world()
    dept = db.session.get(Department, world["police_dept"])
    dept.webhook_url, dept.webhook_kind = "http://127.0.0.1:9/robot", "dingtalk"
    db.session.commit()
    scan(date(2021, 3, 18))
    rows = db.session.execute(
        select(User.username, ReminderDelivery.channel)
        .select_from(ReminderDelivery)
        .join(Reminder, ReminderDelivery.reminder_id == Reminder.id)
        .join(User, Reminder.recipient_id == User.id)
    ).all()
    assert sorted(rows) == [("police", "in_app"), ("police", "webhook"), ("transport", "in_app")]


def test_two_scans_at_once_insert_each_reminder_once(app):
    with app.app_context():
        build_world()
    errors = []

    def run():
        try:
            with app.app_context():
                scan(date(2021, 3, 18))
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        keys = _keys()
        assert len(keys) == 2 and len(set(keys)) == 2
        assert len(db.session.scalars(select(ReminderDelivery)).all()) == 2
    assert not errors or all("locked" in str(e) for e in errors), errors


def test_an_extension_stops_overdue_reminders(ctx):
    """警务云建设 (due 2021-02-28) would escalate on 3/15; extended to 3/31 it is not overdue:
    the scan inserts nothing for it and the pages say it is not overdue either."""
    from app.formatting import due_flags

    world = build_world()
    scan(date(2021, 3, 14))  # Sunday: the 14-days-overdue reminder waits for Monday
    m = db.session.get(Milestone, world["m_late"])
    m.due_date = date(2021, 3, 31)
    db.session.commit()
    scan(date(2021, 3, 15))
    assert not [k for k in _keys() if k[0] == world["m_late"]]
    assert not due_flags(m, date(2021, 3, 15))["overdue"]


def test_a_report_returned_late_at_night_counts_from_its_beijing_day(ctx, monkeypatch):
    """Returned at 01:30 Beijing time on 3/15 (17:30 UTC on 3/14): escalated 5 days after
    3/15, the day every page shows, not after 3/14."""
    from datetime import datetime

    from app.dates import from_local
    from app.models import ProgressReport

    world = build_world()
    m = db.session.get(Milestone, world["m_transport"])
    author = db.session.get(User, world["transport"])
    db.session.add(
        ProgressReport(
            milestone=m,
            department_id=author.department_id,
            author_id=author.id,
            text="进展",
            percent=50,
            claimed_status="in_progress",
            state="returned",
            return_reason="缺少佐证",
            reviewed_at=from_local(datetime(2021, 3, 15, 1, 30)),
        )
    )
    db.session.commit()
    scan(date(2021, 3, 19))
    assert not [k for k in _keys() if k[2] == "escalate_returned"]
    scan(date(2021, 3, 22))  # 3/20 is a Saturday: sent on Monday
    rows = [(k[1], k[3], k[4]) for k in _keys() if k[2] == "escalate_returned"]
    assert sorted(rows) == [
        ("leader", date(2021, 3, 20), date(2021, 3, 22)),
        ("office", date(2021, 3, 20), date(2021, 3, 22)),
    ]


def _notice(world, state="issued", issued=None, due=date(2021, 3, 31)):
    from datetime import datetime

    n = Notice(
        milestone_id=world["m_transport"],
        department_id=world["transport_dept"],
        issued_by_id=world["office"],
        text="请说明进度",
        reply_due=due,
        state=state,
        issued_at=issued or datetime(2021, 3, 11, 2, 0),  # Thursday 10:00 in Beijing
    )
    db.session.add(n)
    db.session.commit()
    return n


def test_a_notice_not_acknowledged_for_a_working_day_escalates(ctx):
    world = build_world()
    notice = _notice(world)  # issued Thu 3/11; 签收 due by the end of Fri 3/12
    scan(date(2021, 3, 12))
    assert not [k for k in _keys() if k[2] == "escalate_unacknowledged"]
    scan(date(2021, 3, 15))  # Monday: the working day after
    rows = db.session.scalars(select(Reminder).where(Reminder.kind == "escalate_unacknowledged")).all()
    assert {(r.recipient.username, r.slot, r.notice_id) for r in rows} == {
        ("office", date(2021, 3, 15), notice.id),
        ("leader", date(2021, 3, 15), notice.id),
    }
    assert scan(date(2021, 3, 15))["inserted"] == 0  # once


def test_an_acknowledged_notice_does_not_escalate_as_unacknowledged(ctx):
    world = build_world()
    _notice(world, state="acknowledged")
    scan(date(2021, 3, 15))
    assert not [k for k in _keys() if k[2] == "escalate_unacknowledged"]


@pytest.mark.parametrize("state, escalates", [("issued", True), ("acknowledged", True), ("returned", True),
                                              ("answered", False), ("closed", False)])  # fmt: skip
def test_the_reply_date_escalation_follows_the_notice_state(ctx, state, escalates):
    world = build_world()
    _notice(world, state=state, due=date(2021, 3, 17))
    scan(date(2021, 3, 17))
    assert bool([k for k in _keys() if k[2] == "escalate_notice"]) == escalates


def test_a_long_overdue_milestone_is_escalated_on_the_next_slot(ctx):
    """警务云建设 is due 2021-02-28: escalated at 15 days late (3/15), again every 7 days."""
    world = build_world()
    scan(date(2021, 3, 15))
    scan(date(2021, 3, 22))  # 22 days late
    slots = sorted({k[3] for k in _keys() if k[0] == world["m_late"] and k[2] == "escalate_overdue"})
    assert slots == [date(2021, 3, 15), date(2021, 3, 22)]
    # A first scan long after: the milestone 74 days late is escalated within a week's window.
    m = db.session.get(Milestone, world["m_far"])
    m.due_date = date(2020, 12, 31)
    db.session.commit()
    from app.models import JobState

    db.session.merge(JobState(name="reminder_scan", value={"day": "2021-03-08"}))
    db.session.commit()
    scan(date(2021, 3, 15))
    far = [k for k in _keys() if k[0] == world["m_far"] and k[2] == "escalate_overdue"]
    assert {k[1] for k in far} == {"office", "leader"} and {k[3] for k in far} == {date(2021, 3, 12)}
