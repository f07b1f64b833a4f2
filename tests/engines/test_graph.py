"""Graph engine: cycles, slippage, slack, critical path, blockers."""

from datetime import date, timedelta

import pytest

from app.engines.graph import (
    CycleError,
    DependencyData,
    MilestoneData,
    build_graph,
    check_dependency,
    critical_path,
    cycle_in_edges,
    downstream,
    forecast_finish,
    held_indicators,
    latest_finish,
    slack,
    upstream,
    would_create_cycle,
)

D = date


def ms(mid, due, **kw):
    return MilestoneData(mid, kw.pop("title", f"里程碑{mid}"), due, **kw)


# -- cycles ------------------------------------------------------------------


def chain():
    milestones = [
        ms("a", D(2021, 1, 31), title="甲"),
        ms("b", D(2021, 2, 28), title="乙"),
        ms("c", D(2021, 3, 31), title="丙"),
    ]
    return build_graph(milestones, [DependencyData("a", "b"), DependencyData("b", "c")])


def test_would_create_cycle_returns_the_cycle_in_order():
    g = chain()
    assert would_create_cycle(g, "c", "a") == ["c", "a", "b"]
    assert would_create_cycle(g, "b", "a") == ["b", "a"]
    assert would_create_cycle(g, "a", "a") == ["a"]
    assert would_create_cycle(g, "a", "c") is None


def test_cycle_from_bare_edges_agrees_with_the_full_graph():
    """The dependency form checks a big plan from its edge list alone: same answer as
    would_create_cycle on the full graph, for every pair of a small random DAG."""
    import random

    rnd = random.Random(7)
    ids = list(range(12))
    edges = [(a, b) for a in ids for b in ids if a < b and rnd.random() < 0.2]
    g = build_graph(
        [ms(i, D(2021, 1, 1) + timedelta(days=i)) for i in ids], [DependencyData(a, b) for a, b in edges]
    )
    for pred in ids:
        for succ in ids:
            assert cycle_in_edges(edges, pred, succ) == would_create_cycle(g, pred, succ), (pred, succ)
    assert cycle_in_edges([("a", "b"), ("b", "c")], "c", "a") == ["c", "a", "b"]


def test_cycle_error_names_the_cycle_by_titles():
    with pytest.raises(CycleError) as err:
        check_dependency(chain(), "c", "a")
    assert str(err.value) == "添加该依赖会形成循环：丙 → 甲 → 乙 → 丙"
    assert err.value.cycle == ["c", "a", "b"]
    check_dependency(chain(), "a", "c")  # no cycle: no error


def test_build_graph_rejects_cyclic_input():
    milestones = [ms("a", D(2021, 1, 1), title="甲"), ms("b", D(2021, 2, 1), title="乙")]
    with pytest.raises(CycleError, match="甲 → 乙 → 甲|乙 → 甲 → 乙"):
        build_graph(milestones, [DependencyData("a", "b"), DependencyData("b", "a")])
    with pytest.raises(ValueError, match="unknown milestone"):
        build_graph(milestones, [DependencyData("a", "zzz")])


def test_indicator_edges_do_not_count_as_dependencies():
    g = build_graph([ms("a", D(2021, 1, 1)), ms("b", D(2021, 2, 1))], [], [("a", "x"), ("b", "x")])
    assert would_create_cycle(g, "a", "b") is None
    assert held_indicators(g, "a", D(2021, 1, 1)) == ["x"]


# -- forecast finish ---------------------------------------------------------


def test_duration_estimated_from_predecessor_gap_at_least_30_days():
    g = build_graph(
        [ms("a", D(2021, 1, 31)), ms("b", D(2021, 6, 30)), ms("c", D(2021, 7, 10)), ms("d", D(2021, 9, 1))],
        [DependencyData("a", "b"), DependencyData("b", "c")],
    )
    assert g.nodes["a"]["duration"] == 30  # no predecessor
    assert g.nodes["b"]["duration"] == 150  # 31 Jan -> 30 Jun
    assert g.nodes["c"]["duration"] == 30  # a 10-day gap is raised to 30
    g = build_graph([MilestoneData("a", "甲", D(2021, 1, 31), duration_days=90)])
    assert g.nodes["a"]["duration"] == 90


def test_late_predecessor_moves_successor_and_lag_is_honoured():
    today = D(2021, 4, 1)
    a = ms("a", D(2021, 3, 1), status="in_progress", duration_days=30)  # overdue, 0 % -> 30 days left
    b = ms("b", D(2021, 4, 15))
    f = forecast_finish(build_graph([a, b], [DependencyData("a", "b")]), today)
    assert f["a"] == D(2021, 5, 1)
    assert f["b"] == D(2021, 5, 1)  # pushed from 15 Apr
    f = forecast_finish(build_graph([a, b], [DependencyData("a", "b", lag_days=10)]), today)
    assert f["b"] == D(2021, 5, 11)
    # An on-time predecessor leaves the successor at its due date.
    f = forecast_finish(build_graph([a, b], [DependencyData("a", "b")]), D(2021, 2, 1))
    assert f == {"a": D(2021, 3, 1), "b": D(2021, 4, 15)}


def test_overdue_open_milestone_finishes_no_earlier_than_today_plus_remaining():
    today = D(2021, 3, 15)
    m = ms("a", D(2021, 1, 31), status="in_progress", percent=60, duration_days=50)
    assert forecast_finish(build_graph([m]), today)["a"] == today + timedelta(days=20)
    m = ms("a", D(2021, 1, 31), status="in_progress", percent=99, duration_days=50)
    assert forecast_finish(build_graph([m]), today)["a"] == today + timedelta(days=1)  # at least a day


def test_done_milestone_finishes_at_actual_finish():
    a = ms("a", D(2021, 3, 1), status="done", percent=100, actual_finish=D(2021, 3, 20))
    b = ms("b", D(2021, 3, 10))
    f = forecast_finish(build_graph([a, b], [DependencyData("a", "b", 5)]), D(2021, 2, 1))
    assert f == {"a": D(2021, 3, 20), "b": D(2021, 3, 25)}


# -- slack and critical path (computed by hand) ------------------------------

TODAY, TARGET = D(2021, 2, 15), D(2021, 6, 30)


def example():
    """A (overdue, 50 % of 30 days) -40d-> B -90d-> C <- D;  E (done) -> B;  G after the target."""
    milestones = [
        ms("A", D(2021, 1, 31), status="in_progress", percent=50, duration_days=30),
        ms("B", D(2021, 3, 31)),
        ms("C", D(2021, 6, 30)),
        ms("D", D(2021, 5, 31)),
        ms("E", D(2021, 1, 15), status="done", percent=100, actual_finish=D(2021, 1, 10)),
        ms("G", D(2021, 12, 31)),
    ]
    deps = [
        DependencyData("A", "B", 40),
        DependencyData("E", "B"),
        DependencyData("B", "C", 90),
        DependencyData("D", "C"),
    ]
    return milestones, deps


def test_forecast_latest_finish_and_slack_by_hand():
    g = build_graph(*example())
    assert forecast_finish(g, TODAY) == {
        "A": D(2021, 3, 2),  # today + 15 days
        "B": D(2021, 4, 11),  # A + 40
        "C": D(2021, 7, 10),  # B + 90
        "D": D(2021, 5, 31),
        "E": D(2021, 1, 10),
        "G": D(2021, 12, 31),
    }
    assert latest_finish(g, TARGET) == {
        "A": D(2021, 1, 31),  # its own due date (B's 31 Mar - 40 = 19 Feb is later)
        "B": D(2021, 3, 31),
        "C": D(2021, 6, 30),
        "D": D(2021, 5, 31),
        "E": D(2021, 1, 15),
        "G": D(2021, 6, 30),  # held to the target date
    }
    assert slack(g, TARGET, TODAY) == {
        "A": -30,  # limit: its own due date 31 Jan; forecast 2 Mar (overdue: negative)
        "B": -11,  # limit: its own due 31 Mar (latest(C) 30 Jun - 90 = 1 Apr is later); forecast 11 Apr
        "C": -10,  # limit: its own due / the target 30 Jun; forecast 10 Jul
        "D": 0,  # limit: its own due 31 May; forecast 31 May (on time, no room)
        "E": 5,  # limit: its own due 15 Jan; finished 10 Jan
        "G": -184,  # limit: the target; forecast 31 Dec
    }
    # The forecast finish is a parameter: earlier finish dates give room.
    finish = {**forecast_finish(g, TODAY), "D": D(2021, 5, 1)}
    assert slack(g, TARGET, TODAY, finish)["D"] == 30


def test_critical_path_by_hand():
    g = build_graph(*example())
    # A (-30) is the least slack; it drives B (-11), which drives C (-10). G is due after the target.
    assert critical_path(g, TARGET, TODAY) == ["A", "B", "C"]
    milestones, deps = example()
    milestones[0] = ms("A", D(2021, 1, 31), status="done", percent=100, actual_finish=D(2021, 2, 10))
    g = build_graph(milestones, deps)
    # B now forecasts 31 Mar, C 30 Jun, D 31 May: all on their due dates, no room (slack 0).
    # The chain runs through the latest finish, C, back through B, whose finish + 90 drives it.
    assert slack(g, TARGET, TODAY)["B"] == 0
    assert critical_path(g, TARGET, TODAY) == ["B", "C"]
    # Finish dates with room everywhere: no critical path.
    early = {**forecast_finish(g, TODAY), "B": D(2021, 3, 20), "C": D(2021, 6, 20), "D": D(2021, 5, 20)}
    assert critical_path(g, TARGET, TODAY, early) == []


# -- upstream / downstream ---------------------------------------------------


def test_upstream_lists_open_blockers_transitively_with_forecasts():
    g = build_graph(*example())
    up = upstream(g, "C", TODAY)
    assert [(e["id"], e["depth"], e["forecast_finish"]) for e in up] == [
        ("D", 1, D(2021, 5, 31)),
        ("B", 1, D(2021, 4, 11)),
        ("A", 2, D(2021, 3, 2)),
    ]  # E is done: it blocks nothing
    assert up[0]["title"] == "里程碑D"
    assert upstream(g, "A", TODAY) == []
    assert upstream(g, "E", TODAY) == []


def test_downstream_lists_what_a_milestone_holds_up():
    g = build_graph(*example(), delivers=[("C", "i1"), ("A", "i2")])
    assert [(e["id"], e["depth"]) for e in downstream(g, "A", TODAY)] == [("B", 1), ("C", 2)]
    assert [e["id"] for e in downstream(g, "D", TODAY)] == ["C"]
    assert downstream(g, "C", TODAY) == []
    assert downstream(g, "E", TODAY) == []  # done: holds nothing up
    assert held_indicators(g, "A", TODAY) == ["i2", "i1"]
    with pytest.raises(ValueError):
        downstream(g, "nope", TODAY)
