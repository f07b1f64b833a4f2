"""The one set of date rules: overdue, due soon, late, slack, the critical path."""

from datetime import date

import pytest

from app.engines.graph import DependencyData, MilestoneData, build_graph, forecast_finish
from app.engines.schedule import (
    critical_path,
    days_to_due,
    due_state,
    is_overdue,
    plan_schedule,
    slack,
)

D = date
TODAY, TARGET = D(2021, 3, 15), D(2021, 10, 31)


def ms(mid, due, **kw):
    return MilestoneData(mid, kw.pop("title", f"里程碑{mid}"), due, **kw)


def test_overdue_is_before_today_and_not_done():
    assert days_to_due(D(2021, 3, 14), TODAY) == -1
    assert is_overdue(D(2021, 3, 14), TODAY)
    assert not is_overdue(D(2021, 3, 15), TODAY)  # due today: not yet
    assert not is_overdue(D(2021, 3, 14), TODAY, done=True)
    assert due_state(D(2021, 3, 14), TODAY).as_dict() == {"overdue": True, "due_soon": False, "days": -1}
    assert due_state(D(2021, 3, 15), TODAY).due_soon
    assert due_state(D(2021, 3, 29), TODAY, soon_days=14).due_soon
    assert not due_state(D(2021, 3, 30), TODAY, soon_days=14).due_soon
    assert due_state(D(2021, 3, 1), TODAY, done=True).as_dict() == {
        "overdue": False,
        "due_soon": False,
        "days": None,
    }


def test_an_overdue_milestone_has_negative_slack():
    """The demo's 5G 基础设施建设（2020年）: due 2020-12-31, 90 % done, its successor due in 2022.
    Before, slack was counted to the successor / the target only and read 余量 227 天."""
    a = ms("5g", D(2020, 12, 31), status="in_progress", percent=90, duration_days=30)
    b = ms("next", D(2022, 12, 31))
    g = build_graph([a, b], [DependencyData("5g", "next")])
    sched = plan_schedule(g, TODAY, TARGET)
    s = sched["5g"]
    assert s.overdue and s.days == -74
    assert s.forecast_finish == D(2021, 3, 18)  # today + 3 days of work left
    assert s.late and s.slack_days == (D(2020, 12, 31) - D(2021, 3, 18)).days == -77
    assert s.at_risk
    assert slack(g, TARGET, forecast_finish(g, TODAY))["5g"] == -77
    # Its successor, due after the assessment date, is never on the critical path.
    assert sched["next"].after_target and not sched["next"].critical
    assert sched.critical_path == ["5g"]


def test_an_extension_clears_overdue_and_late_everywhere_at_once():
    before = plan_schedule(build_graph([ms("a", D(2021, 3, 1), percent=50, duration_days=20)]), TODAY, TARGET)
    assert before["a"].overdue and before["a"].late and before["a"].slack_days < 0
    extended = ms("a", D(2021, 4, 30), percent=50, duration_days=20, baseline_due=D(2021, 3, 1))
    after = plan_schedule(build_graph([extended]), TODAY, TARGET)
    s = after["a"]
    assert not s.overdue and not s.late and not s.at_risk
    assert s.forecast_finish == D(2021, 4, 30) and s.slack_days == 0


def test_an_overdue_chain_is_the_critical_path():
    """An overdue milestone that pushes its successor past its due date: both are behind,
    and the chain is named critical, even when a longer on-time chain exists."""
    milestones = [
        ms("cloud", D(2021, 2, 28), status="in_progress", percent=40, duration_days=30, title="警务云建设"),
        ms("video", D(2021, 3, 20), title="视频平台升级"),
        ms("p1", D(2021, 5, 31), title="长链一"),
        ms("p2", D(2021, 9, 30), title="长链二"),
        ms("late_after_target", D(2021, 12, 31), title="考核日后"),
    ]
    deps = [DependencyData("cloud", "video"), DependencyData("p1", "p2")]
    g = build_graph(milestones, deps)
    sched = plan_schedule(g, TODAY, TARGET)
    # cloud: overdue, 18 days of work left -> 2 Apr; video is pushed from 20 Mar to 2 Apr.
    assert sched["cloud"].forecast_finish == sched["video"].forecast_finish == D(2021, 4, 2)
    assert sched["cloud"].slack_days == -33 and sched["video"].slack_days == -13
    assert sched.critical_path == ["cloud", "video"]
    assert sched.critical_edges == {("cloud", "video")}
    assert sched.least_slack == -33
    assert [m for m in sched.milestones if sched[m].critical] == ["cloud", "video"]


def test_no_critical_path_when_every_open_milestone_has_room():
    g = build_graph([ms("a", D(2021, 5, 31)), ms("b", D(2021, 6, 30))], [DependencyData("a", "b")])
    # The forecast engine's own dates (say, medians) ahead of the due dates: room everywhere.
    finish = {"a": D(2021, 5, 1), "b": D(2021, 6, 1)}
    sched = plan_schedule(g, TODAY, TARGET, finish)
    assert sched.critical_path == [] and sched.least_slack is None
    assert sched["a"].slack_days == 30 and sched["b"].slack_days == 29
    assert critical_path(g, TARGET, finish) == []
    # Fed in, they are used as given; missing ones are refused rather than guessed.
    with pytest.raises(ValueError, match="no forecast finish"):
        plan_schedule(g, TODAY, TARGET, {"a": D(2021, 5, 1)})


def test_successor_deadline_counts_into_slack():
    """slack = min(own due, target, successor's latest finish - lag) - forecast finish."""
    g = build_graph(
        [ms("a", D(2021, 6, 30)), ms("b", D(2021, 7, 10))],
        [DependencyData("a", "b", lag_days=20)],
    )
    finish = {"a": D(2021, 6, 1), "b": D(2021, 7, 1)}
    # a: min(30 Jun, 31 Oct, 10 Jul - 20 = 20 Jun) - 1 Jun = 19.
    assert slack(g, TARGET, finish) == {"a": 19, "b": 9}
