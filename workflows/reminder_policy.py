"""Reminder rules, pure (no Flask, no database): the working-day calendar and which
reminder slots fall due in a window of send days.

A slot is the nominal date a reminder belongs to (30 days before the due date,
the due date, every 7 days overdue, …); it is sent on the first working day on
or after it (weekends and listed holidays skipped, 调休 working days counted).
The unique key (milestone, recipient, kind, slot) never involves the send day,
so a changed holiday calendar cannot double a reminder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.engines.schedule import days_to_due, is_overdue

MAX_HOLIDAY_RUN = 31  # no run of days off is longer than this
CATCH_UP_DAYS = 31  # how far back a scan after a long stop looks for missed slots
OVERDUE_HORIZON_DAYS = 3 * 366  # overdue reminders stop after about three years


@dataclass(frozen=True)
class Policy:
    before_days: tuple[int, ...] = (30, 7, 1, 0)
    overdue_every_days: int = 7
    escalate_overdue_days: int = 14  # escalate when *more* than this many days overdue
    escalate_returned_days: int = 5
    escalate_notices: bool = True
    include_co_departments: bool = True

    @classmethod
    def from_row(cls, row) -> Policy:
        if row is None:
            return cls()
        return cls(
            before_days=tuple(sorted({int(d) for d in row.before_days}, reverse=True)),
            overdue_every_days=row.overdue_every_days,
            escalate_overdue_days=row.escalate_overdue_days,
            escalate_returned_days=row.escalate_returned_days,
            escalate_notices=row.escalate_notices,
            include_co_departments=row.include_co_departments,
        )


@dataclass
class WorkCalendar:
    holidays: set[date] = field(default_factory=set)  # listed days off
    workdays: set[date] = field(default_factory=set)  # weekend days worked (调休上班)

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def send_day(self, slot: date) -> date:
        """The first working day on or after slot."""
        day = slot
        for _ in range(MAX_HOLIDAY_RUN + 7):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        return day  # a calendar with no working day at all: send anyway

    def next_workday(self, day: date) -> date:
        """The first working day after `day`."""
        return self.send_day(day + timedelta(days=1))

    def slots_sent_between(self, first: date, last: date) -> dict[date, date]:
        """{slot: send day} for every nominal date whose send day is in [first, last]."""
        out = {}
        day = first - timedelta(days=MAX_HOLIDAY_RUN + 7)
        while day <= last:
            sent = self.send_day(day)
            if first <= sent <= last:
                out[day] = sent
            day += timedelta(days=1)
        return out


@dataclass(frozen=True)
class Slot:
    kind: str  # before | due | overdue | escalate_overdue (repeats while overdue)
    slot: date
    days: int  # days before the due date (+) or overdue (-) on the slot


def scan_window(last_scan: date | None, today: date) -> tuple[date, date]:
    """Send days a scan covers: from the last scan's day (inclusive: the unique key
    makes repeats harmless) to today; a first scan covers today only, and a very
    long stop is caught up over CATCH_UP_DAYS at most."""
    if last_scan is None or last_scan > today:
        return today, today
    return max(last_scan, today - timedelta(days=CATCH_UP_DAYS)), today


def due_dates_for(policy: Policy, slots: Iterable[date]) -> set[date]:
    """Every milestone due date that has a milestone slot among `slots` (for the query)."""
    out = set()
    for s in slots:
        out.update(s + timedelta(days=d) for d in policy.before_days)
        every = policy.overdue_every_days
        out.update(s - timedelta(days=every * n) for n in range(1, OVERDUE_HORIZON_DAYS // every + 1))
        first_escalation = s - timedelta(days=policy.escalate_overdue_days + 1)
        out.update(
            first_escalation - timedelta(days=every * n) for n in range(OVERDUE_HORIZON_DAYS // every + 1)
        )
    return out


def milestone_slots(policy: Policy, due: date, slots: Iterable[date]) -> list[Slot]:
    """The milestone reminders of an open milestone due on `due` whose slot is in `slots`
    (overdue on a slot day as app.engines.schedule decides it on that day)."""
    found = []
    for s in sorted(slots):
        ahead = days_to_due(due, s)
        if ahead in policy.before_days:
            found.append(Slot("due" if ahead == 0 else "before", s, ahead))
        elif is_overdue(due, s):
            late = -ahead
            if late % policy.overdue_every_days == 0 and late <= OVERDUE_HORIZON_DAYS:
                found.append(Slot("overdue", s, ahead))
            if escalates_on(policy, late):
                found.append(Slot("escalate_overdue", s, ahead))
    return found


def escalates_on(policy: Policy, late: int) -> bool:
    """An overdue milestone is escalated when it is first more than escalate_overdue_days
    late, and again every overdue_every_days while it stays overdue (so a milestone that
    was already long overdue when reminders started is escalated on the next slot)."""
    first = policy.escalate_overdue_days + 1
    return first <= late <= OVERDUE_HORIZON_DAYS and (late - first) % policy.overdue_every_days == 0


def unacknowledged_slot(issued_on: date, cal: WorkCalendar) -> date:
    """A 督办 issued on `issued_on` (local date) must be 签收 by the end of the next working
    day; still unacknowledged, it is escalated on the working day after that."""
    return cal.next_workday(cal.next_workday(issued_on))


ESCALATIONS = {"escalate_overdue", "escalate_returned", "escalate_notice", "escalate_unacknowledged"}
KIND_LABELS = {
    "before": "到期前提醒",
    "due": "当日到期",
    "overdue": "逾期提醒",
    "escalate_overdue": "逾期升级",
    "escalate_returned": "退回未重报升级",
    "escalate_notice": "督办未回复升级",
    "escalate_unacknowledged": "督办未签收升级",
}
