"""The date rules of a plan, in one place (pure: no Flask, no database, no clock).

Every page (plan tree, milestone, graph, 我的工作), graph.json, the reminders and
the stored forecast run decide overdue, due soon, late, slack and the critical
path with these functions; `today` is always passed in (callers read app.clock).

- overdue: not done, and the current due date (after any extension) is before today.
- due soon: not done, due today or within `soon_days` days (the plan's 三色 window, 7 by default).
- late (晚于期限): not done, and the forecast finish is after the current due date.
- slack(X) = min(due(X), target date, latest(S) - lag(X -> S) for every successor S)
  - forecast finish(X), where latest(S) is S's own min(...) the same way downstream.
  X's own due date counts, so an overdue milestone has negative slack.
- the critical path: the chain of open milestones, due by the target date, with the
  least slack, provided that is <= 0 (else there is none); see critical_path().

Forecast finish dates are a parameter, a mapping milestone id -> date:
graph.forecast_finish(graph, today) by default (due date, pushed by late
predecessors, and for an overdue milestone today + the work left), or the
forecast engine's own dates when they are fed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from app.engines.graph import forecast_finish, latest_finish, milestones_of, preds, succs, topological

DUE_SOON_DAYS = 7  # the default of a plan's 即将到期 / 黄 window (ReminderPolicy.status_soon_days)
DEFAULT_DURATION = 180  # days of work before the due date, when no predecessor tells


def planned_start(due: date, predecessor_dues) -> date:
    """A milestone's planned start (the plans give none): its latest predecessor's due date
    when earlier than its own, else DEFAULT_DURATION days before its due date. The
    forecast, the 序时进度 of the 三色 status and the Gantt all start a bar here."""
    earlier = [d for d in predecessor_dues if d < due]
    return max(earlier) if earlier else due - timedelta(days=DEFAULT_DURATION)


def elapsed_share(start: date, due: date, today: date) -> float:
    """序时进度: the share (0–1) of the planned time from start to due that has passed."""
    span = (due - start).days
    if span <= 0:
        return 1.0 if today >= due else 0.0
    return min(1.0, max(0.0, (today - start).days / span))


def days_to_due(due: date, today: date) -> int:
    """Days from today to the due date (0: due today; negative: overdue by that many days)."""
    return (due - today).days


def is_overdue(due: date, today: date, done: bool = False) -> bool:
    """Not done and the due date is before today (due today is not yet overdue)."""
    return not done and due < today


@dataclass(frozen=True)
class DueState:
    days: int | None  # days to the due date (negative: overdue); None when done
    overdue: bool
    due_soon: bool

    def as_dict(self) -> dict:
        return {"overdue": self.overdue, "due_soon": self.due_soon, "days": self.days}


def due_state(due: date, today: date, done: bool = False, soon_days: int = DUE_SOON_DAYS) -> DueState:
    """逾期 / 即将到期 of one milestone on `today`."""
    if done:
        return DueState(None, False, False)
    days = days_to_due(due, today)
    return DueState(days, is_overdue(due, today), 0 <= days <= soon_days)


def _checked(graph, finish: Mapping) -> Mapping:
    missing = [m for m in milestones_of(graph) if m not in finish]
    if missing:
        raise ValueError(f"no forecast finish for milestones {missing!r}")
    return finish


def slack(graph, target_date: date, finish: Mapping) -> dict:
    """{id: slack in days} (negative: behind by that many days): latest finish - forecast finish,
    the latest finish being min(own due, target_date, each successor's latest finish - lag)."""
    finish = _checked(graph, finish)
    late = latest_finish(graph, target_date)
    return {mid: (late[mid] - finish[mid]).days for mid in topological(graph)}


def _open_by_target(graph, mid, target_date) -> bool:
    m = graph.nodes[mid]["m"]
    return not m.is_done and m.due <= target_date


def critical_path(graph, target_date: date, finish: Mapping, slack_days: Mapping | None = None) -> list:
    """The chain of open milestones due by target_date with the least slack, first milestone first.

    Candidates are the open milestones due by target_date with slack <= 0 (a
    milestone due after the target date is never on it). The chain runs through
    the candidate with the least slack (ties: the later forecast finish, then
    insertion order) and extends backwards through the candidate predecessor with
    the least slack (ties: the one whose finish + lag is latest, i.e. that drives
    it, then insertion order) and forwards through the candidate successor with the
    least slack (ties: insertion order). [] when no open milestone due by the target
    date has slack <= 0: then there is no critical path.
    """
    finish = _checked(graph, finish)
    sl = slack_days if slack_days is not None else slack(graph, target_date, finish)
    order = {n: i for i, n in enumerate(milestones_of(graph))}
    candidates = [n for n in order if _open_by_target(graph, n, target_date) and sl[n] <= 0]
    if not candidates:
        return []
    anchor = min(candidates, key=lambda n: (sl[n], -finish[n].toordinal(), order[n]))
    member = set(candidates)
    path = [anchor]
    node = anchor
    while True:  # backwards
        options = [p for p in preds(graph, node) if p in member and p not in path]
        if not options:
            break

        def drives(p, succ=node):
            return (sl[p], -(finish[p] + timedelta(days=graph.edges[p, succ]["lag"])).toordinal(), order[p])

        node = min(options, key=drives)
        path.insert(0, node)
    node = anchor
    while True:  # forwards
        options = [s for s in succs(graph, node) if s in member and s not in path]
        if not options:
            break
        node = min(options, key=lambda s: (sl[s], order[s]))
        path.append(node)
    return path


@dataclass(frozen=True)
class MilestoneSchedule:
    """One milestone's dates and flags on `today` (see the module docstring)."""

    id: object
    due: date
    done: bool
    days: int | None  # days to the due date, None when done
    overdue: bool
    due_soon: bool
    forecast_finish: date
    latest_finish: date
    slack_days: int
    late: bool  # open and forecast to finish after its due date (晚于期限)
    after_target: bool  # due after the target date: its slack only says how far past that date it ends
    critical: bool  # on the critical path

    @property
    def at_risk(self) -> bool:
        """Open and overdue, late, or with negative slack counted to a date by the target."""
        return not self.done and (
            self.overdue or self.late or (self.slack_days < 0 and not self.after_target)
        )


@dataclass
class Schedule:
    today: date
    target_date: date
    milestones: dict  # id -> MilestoneSchedule
    critical_path: list

    def get(self, mid) -> MilestoneSchedule | None:
        return self.milestones.get(mid)

    def __getitem__(self, mid) -> MilestoneSchedule:
        return self.milestones[mid]

    @property
    def critical_edges(self) -> set:
        return set(zip(self.critical_path, self.critical_path[1:], strict=False))

    @property
    def least_slack(self) -> int | None:
        """The slack of the critical path's tightest milestone (None without a path)."""
        return min((self.milestones[m].slack_days for m in self.critical_path), default=None)


def plan_schedule(
    graph,
    today: date,
    target_date: date,
    finish: Mapping | None = None,
    soon_days: int = DUE_SOON_DAYS,
) -> Schedule:
    """Every milestone's MilestoneSchedule and the critical path; finish defaults to
    graph.forecast_finish(graph, today)."""
    finish = _checked(graph, finish) if finish is not None else forecast_finish(graph, today)
    late = latest_finish(graph, target_date)
    sl = {mid: (late[mid] - finish[mid]).days for mid in milestones_of(graph)}
    path = critical_path(graph, target_date, finish, sl)
    on_path = set(path)
    out = {}
    for mid in milestones_of(graph):
        m = graph.nodes[mid]["m"]
        state = due_state(m.due, today, m.is_done, soon_days)
        out[mid] = MilestoneSchedule(
            id=mid,
            due=m.due,
            done=m.is_done,
            days=state.days,
            overdue=state.overdue,
            due_soon=state.due_soon,
            forecast_finish=finish[mid],
            latest_finish=late[mid],
            slack_days=sl[mid],
            late=not m.is_done and finish[mid] > m.due,
            after_target=m.due > target_date,
            critical=mid in on_path,
        )
    return Schedule(today=today, target_date=target_date, milestones=out, critical_path=path)
