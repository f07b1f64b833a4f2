"""Department 考评: on-time delivery, overdue work, reports and 督办 answered on time
(pure: no Flask, no database — app.bulletins.facts reads the facts).

Every figure rests on dated facts, so a month long past is computed as it stood at
its end, never from today's state:
- the due date in force on a day: the original due date, moved by each granted
  extension from the day it was granted (an extension is the plan office's decision
  to give more time, so a department is assessed against the date it was asked to
  meet then; the original date is kept as `baseline` and reported beside it);
- the finish date (actual_finish of a done milestone);
- the days the department submitted lead reports (drafts are not submissions);
- each 督办's reply date and the day it was last answered (replied_at).

Definitions (also shown on the page, see DEFINITIONS):
- 已到期: the due date in force is before today (a milestone due today is not late yet).
- 按期完成: of those, finished on or before the due date in force.
- 逾期未完成: not finished and its due date in force is before today.
- 按时汇报: of the milestones due so far, those with a lead report submitted on or
  before the due date in force.
- 督办按时答复: of the 督办 whose reply date has passed, those answered on or before it.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta

DEFINITIONS = {
    "due": "已到期：现行期限（含获批延期）早于今天的里程碑（今天到期的尚不算）。",
    "on_time": "按期完成率：已到期的里程碑中，在现行期限当天或之前完成（实际完成日）的比例；"
    "括号内为按原定期限（不计延期）计算的比例。",
    "overdue": "逾期未完成：尚未完成且现行期限早于今天的里程碑数。",
    "reports": "按时汇报率：已到期的里程碑中，牵头部门在现行期限当天或之前提交过进展汇报（草稿不算）的比例。",
    "notices": "督办按时答复率：答复期限已过的督办中，在答复期限当天或之前答复的比例"
    "（以最近一次答复时间为准）。",
    "points": "风险分值：该部门牵头的红、黄里程碑交付后可为评价标准增加的分值之和。",
}


@dataclass(frozen=True)
class MilestoneFacts:
    id: int
    department_id: int
    # ((granted on, due date from then), ...) in the order granted; the first is (None, original due).
    dues: tuple[tuple[date | None, date], ...]
    finished: date | None = None  # actual finish of a done milestone
    reports: tuple[date, ...] = ()  # days lead reports were submitted (not drafts)

    @property
    def baseline(self) -> date:
        return self.dues[0][1]

    @property
    def extended(self) -> bool:
        return len(self.dues) > 1

    def due_on(self, day: date) -> date:
        """The due date in force at the end of `day`."""
        due = self.dues[0][1]
        for granted, new_due in self.dues[1:]:
            if granted is None or granted <= day:
                due = new_due
        return due

    def finished_by(self, day: date) -> bool:
        return self.finished is not None and self.finished <= day

    def reported_by(self, day: date) -> bool:
        return any(r <= day for r in self.reports)


@dataclass(frozen=True)
class NoticeFacts:
    id: int
    department_id: int
    reply_due: date
    replied: date | None = None  # the day of the latest answer

    @property
    def on_time(self) -> bool:
        return self.replied is not None and self.replied <= self.reply_due


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Score:
    """One department's figures on one day (or one month)."""

    due: int = 0  # 已到期 (by the due date in force)
    on_time: int = 0  # finished by the due date in force
    due_baseline: int = 0  # by the original due date
    on_time_baseline: int = 0
    extended: int = 0  # milestones with a granted extension (of all its milestones)
    overdue: int = 0
    reports_on_time: int = 0
    notices_due: int = 0
    notices_on_time: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.due)

    @property
    def on_time_baseline_rate(self) -> float | None:
        return rate(self.on_time_baseline, self.due_baseline)

    @property
    def reports_rate(self) -> float | None:
        return rate(self.reports_on_time, self.due)

    @property
    def notices_rate(self) -> float | None:
        return rate(self.notices_on_time, self.notices_due)

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for name in ("on_time_rate", "on_time_baseline_rate", "reports_rate", "notices_rate"):
            out[name] = getattr(self, name)
        return out


def score_on(milestones, notices, today: date) -> dict[int, Score]:
    """Each department's figures as they stand on `today` (a milestone is late from the day
    after its due date; a finish on the due date is on time)."""
    yesterday = today - timedelta(days=1)
    out: dict[int, Score] = {}
    for m in milestones:
        s = out.setdefault(m.department_id, Score())
        due = m.due_on(today)
        if m.extended:
            s.extended += 1
        if due <= yesterday:
            s.due += 1
            if m.finished_by(due):
                s.on_time += 1
            if m.reported_by(due):
                s.reports_on_time += 1
            if not m.finished_by(today):
                s.overdue += 1
        if m.baseline <= yesterday:
            s.due_baseline += 1
            if m.finished_by(m.baseline):
                s.on_time_baseline += 1
    for n in notices:
        s = out.setdefault(n.department_id, Score())
        if n.reply_due <= yesterday:
            s.notices_due += 1
            if n.on_time:
                s.notices_on_time += 1
    return out


@dataclass
class Month:
    start: date  # the first of the month
    end: date  # its last day, or yesterday in the clock's month
    current: bool  # the clock's month: counted up to yesterday, finishes up to today
    departments: dict[int, Score] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.start.year}年{self.start.month}月"


def months(start: date, today: date) -> list[tuple[date, date]]:
    """(first day, last day) of every month from `start`'s month up to `today`'s."""
    out = []
    first = start.replace(day=1)
    while first <= today:
        last = first.replace(day=monthrange(first.year, first.month)[1])
        out.append((first, last))
        first = last + timedelta(days=1)
    return out


def monthly(milestones, notices, start: date, today: date) -> list[Month]:
    """Month by month, as each stood at its end: due that month (by the due date in force
    at month end), done on time, overdue at month end (due by month end and not finished
    by it), reports on time, 督办 answered on time. The clock's month is counted as it
    stands today: due up to yesterday, finishes up to today — the same rule as score_on."""
    out = []
    for first, last in months(start, today):
        current = last >= today
        cut = today - timedelta(days=1) if current else last  # the last due date that is late
        seen = today if current else last  # the last finish date counted
        month = Month(first, cut, current)
        for m in milestones:
            s = month.departments.setdefault(m.department_id, Score())
            due = m.due_on(seen)
            if m.extended and first <= due <= last:
                s.extended += 1
            if due <= cut and not m.finished_by(seen):
                s.overdue += 1
            if not first <= due <= cut:
                continue
            s.due += 1
            if m.finished_by(due):
                s.on_time += 1
            if m.reported_by(due):
                s.reports_on_time += 1
        for n in notices:
            s = month.departments.setdefault(n.department_id, Score())
            if first <= n.reply_due <= cut:
                s.notices_due += 1
                if n.on_time:
                    s.notices_on_time += 1
        out.append(month)
    return out
