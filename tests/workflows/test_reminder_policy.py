"""The pure reminder rules: working days, slots, the scan window."""

from datetime import date, timedelta

from workflows.reminder_policy import (
    CATCH_UP_DAYS,
    Policy,
    WorkCalendar,
    due_dates_for,
    milestone_slots,
    scan_window,
)

# 2021 National Day: 10/1–10/7 off, Saturday 10/9 and Sunday 9/26 worked.
NATIONAL_DAY = WorkCalendar(
    holidays={date(2021, 10, d) for d in range(1, 8)},
    workdays={date(2021, 9, 26), date(2021, 10, 9)},
)


def test_weekends_and_holidays_move_to_the_next_working_day():
    cal = WorkCalendar()
    assert cal.send_day(date(2021, 3, 13)) == date(2021, 3, 15)  # Saturday -> Monday
    assert cal.send_day(date(2021, 3, 16)) == date(2021, 3, 16)
    assert NATIONAL_DAY.send_day(date(2021, 10, 1)) == date(2021, 10, 8)
    assert NATIONAL_DAY.send_day(date(2021, 9, 26)) == date(2021, 9, 26)  # a worked Sunday
    assert NATIONAL_DAY.send_day(date(2021, 10, 9)) == date(2021, 10, 9)  # a worked Saturday


def test_slots_sent_between_lists_each_nominal_date_once():
    slots = NATIONAL_DAY.slots_sent_between(date(2021, 10, 8), date(2021, 10, 8))
    assert sorted(slots) == [date(2021, 9, 30) + timedelta(days=i) for i in range(1, 9)]
    assert set(slots.values()) == {date(2021, 10, 8)}
    week = NATIONAL_DAY.slots_sent_between(date(2021, 9, 27), date(2021, 10, 10))
    assert len(week) == len(set(week)) and date(2021, 10, 10) not in week  # Sunday 10/10 -> Monday


def test_milestone_slots_follow_the_policy():
    p = Policy()
    due = date(2021, 6, 30)
    assert [(s.kind, s.days) for s in milestone_slots(p, due, [date(2021, 5, 31)])] == [("before", 30)]
    assert [s.kind for s in milestone_slots(p, due, [due])] == ["due"]
    assert milestone_slots(p, due, [date(2021, 6, 29) - timedelta(days=2)]) == []
    overdue = milestone_slots(p, due, [due + timedelta(days=14)])
    assert [(s.kind, s.days) for s in overdue] == [("overdue", -14)]
    escalation = milestone_slots(p, due, [due + timedelta(days=15)])  # more than 14 days overdue
    assert [s.kind for s in escalation] == ["escalate_overdue"]
    custom = Policy(before_days=(10, 3), overdue_every_days=3)
    assert [s.days for s in milestone_slots(custom, due, [due - timedelta(days=3)])] == [3]
    assert milestone_slots(custom, due, [due]) == []  # no reminder on the day in this policy
    assert [s.kind for s in milestone_slots(custom, due, [due + timedelta(days=6)])] == ["overdue"]


def test_due_dates_for_covers_every_slot_kind():
    p = Policy()
    slot = date(2021, 3, 15)
    dues = due_dates_for(p, [slot])
    for due in (slot + timedelta(days=30), slot, slot - timedelta(days=7), slot - timedelta(days=15)):
        assert due in dues
        assert milestone_slots(p, due, [slot])
    assert slot - timedelta(days=5) not in dues


def test_scan_window_catches_up_from_the_last_scan():
    today = date(2021, 3, 25)
    assert scan_window(None, today) == (today, today)
    assert scan_window(date(2021, 3, 20), today) == (date(2021, 3, 20), today)
    assert scan_window(date(2021, 4, 1), today) == (today, today)  # clock moved back
    assert scan_window(date(2020, 1, 1), today) == (today - timedelta(days=CATCH_UP_DAYS), today)


def test_overdue_reminders_follow_the_one_overdue_rule():
    """A reminder says "overdue" on exactly the slot days app.engines.schedule calls overdue."""
    from app.engines.schedule import is_overdue

    p = Policy(before_days=(3,), overdue_every_days=1, escalate_overdue_days=3)  # nothing on the day
    due = date(2021, 6, 30)
    for offset in range(-5, 6):
        day = due + timedelta(days=offset)
        kinds = {s.kind for s in milestone_slots(p, due, [day])}
        assert bool(kinds & {"overdue", "escalate_overdue"}) == is_overdue(due, day), day


def test_overdue_escalation_repeats_while_overdue():
    from workflows.reminder_policy import escalates_on

    p = Policy()  # first at 15 days late, then every 7 days
    assert [late for late in range(0, 40) if escalates_on(p, late)] == [15, 22, 29, 36]
    due = date(2020, 12, 31)
    slot = date(2021, 3, 12)  # 71 days late
    assert [s.kind for s in milestone_slots(p, due, [slot])] == ["escalate_overdue"]
    assert due in due_dates_for(p, [slot])


def test_unacknowledged_slot_is_the_working_day_after_the_next():
    from workflows.reminder_policy import WorkCalendar, unacknowledged_slot

    cal = WorkCalendar()
    assert unacknowledged_slot(date(2021, 3, 11), cal) == date(2021, 3, 15)  # Thu → (Fri) → Mon
    assert unacknowledged_slot(date(2021, 3, 8), cal) == date(2021, 3, 10)  # Mon → (Tue) → Wed
    assert unacknowledged_slot(date(2021, 9, 30), NATIONAL_DAY) == date(2021, 10, 9)  # 10/8, then 调休 Sat
