"""The 考评 engine on hand-built facts: on-time rate (by the due date in force, and by the
original), overdue today and at month end with an extension granted mid-month, reports
on time, 督办 answered on time."""

from datetime import date

from app.engines.assessment import MilestoneFacts, NoticeFacts, monthly, months, score_on

D = date
TODAY = D(2021, 3, 15)


def ms(mid, due, finished=None, reports=(), dept=1, extensions=()):
    return MilestoneFacts(mid, dept, ((None, due), *extensions), finished, tuple(reports))


def test_on_time_rate_counts_only_finishes_by_the_due_date_in_force():
    facts = [
        ms(1, D(2021, 2, 10), finished=D(2021, 2, 10)),  # on the due date: on time
        ms(2, D(2021, 2, 10), finished=D(2021, 2, 11)),  # a day late: not on time
        ms(3, D(2021, 3, 1)),  # open and past due
        ms(4, D(2021, 3, 15)),  # due today: not late yet, not counted
        ms(5, D(2021, 4, 1), finished=D(2021, 3, 1)),  # done early, not due yet
    ]
    s = score_on(facts, [], TODAY)[1]
    assert (s.due, s.on_time, s.overdue) == (3, 1, 1)
    assert s.on_time_rate == 1 / 3


def test_an_extension_moves_the_due_date_in_force_and_the_baseline_rate_shows_it():
    extended = ms(1, D(2021, 2, 1), finished=D(2021, 2, 20), extensions=[(D(2021, 1, 25), D(2021, 2, 28))])
    s = score_on([extended], [], TODAY)[1]
    assert (s.due, s.on_time, s.extended) == (1, 1, 1)  # on time against the extended date
    assert (s.due_baseline, s.on_time_baseline) == (1, 0)  # late against the original
    assert s.on_time_baseline_rate == 0


def test_overdue_at_month_end_uses_the_due_date_in_force_then():
    # Due 10 March; on 20 March extended to 30 April; still open.
    late_then_extended = ms(1, D(2021, 3, 10), extensions=[(D(2021, 3, 20), D(2021, 4, 30))])
    # Due 20 February, extended on 5 March to 30 April: overdue at the end of February.
    extended_after = ms(2, D(2021, 2, 20), extensions=[(D(2021, 3, 5), D(2021, 4, 30))])
    # Due 26 February, finished 3 March: overdue at the end of February, late in February's count.
    finished_late = ms(3, D(2021, 2, 26), finished=D(2021, 3, 3))
    out = {
        m.start: m.departments[1]
        for m in monthly(
            [late_then_extended, extended_after, finished_late], [], D(2021, 1, 1), D(2021, 4, 5)
        )
    }
    feb, mar, apr = out[D(2021, 2, 1)], out[D(2021, 3, 1)], out[D(2021, 4, 1)]
    assert (feb.due, feb.on_time, feb.overdue) == (2, 0, 2)
    # At the end of March both extensions are in force (30 April): nothing due or overdue in March.
    assert (mar.due, mar.overdue) == (0, 0)
    # April is the clock's month: counted up to yesterday (4 April): nothing due yet.
    assert (apr.due, apr.overdue) == (0, 0)
    # Today's state would say otherwise only if the engine read it: the facts alone decide.
    assert out[D(2021, 1, 1)].due == 0


def test_overdue_at_month_end_counts_a_milestone_due_on_the_last_day_and_not_finished():
    m = ms(1, D(2021, 1, 31), finished=D(2021, 2, 1))
    out = {x.start: x.departments[1] for x in monthly([m], [], D(2021, 1, 1), TODAY)}
    assert (out[D(2021, 1, 1)].due, out[D(2021, 1, 1)].overdue) == (1, 1)
    assert out[D(2021, 2, 1)].overdue == 0  # finished on 1 February


def test_reports_on_time_need_a_submission_by_the_due_date():
    facts = [
        ms(1, D(2021, 2, 10), reports=[D(2021, 2, 10)]),  # on the due date: on time
        ms(2, D(2021, 2, 10), reports=[D(2021, 2, 11)]),  # a day late
        ms(3, D(2021, 2, 10)),  # never
        ms(
            4, D(2021, 2, 10), reports=[D(2021, 3, 1)], extensions=[(D(2021, 2, 5), D(2021, 3, 5))]
        ),  # extended
    ]
    s = score_on(facts, [], TODAY)[1]
    assert (s.due, s.reports_on_time) == (4, 2)
    assert s.reports_rate == 0.5


def test_notices_answered_on_time_by_their_reply_date():
    notices = [
        NoticeFacts(1, 1, D(2021, 3, 1), D(2021, 3, 1)),  # on the reply date
        NoticeFacts(2, 1, D(2021, 3, 1), D(2021, 3, 2)),  # late
        NoticeFacts(3, 1, D(2021, 3, 1), None),  # never answered
        NoticeFacts(4, 1, D(2021, 3, 20), None),  # not due yet: not counted
        NoticeFacts(5, 2, D(2021, 3, 10), D(2021, 3, 9)),  # another department
    ]
    scores = score_on([], notices, TODAY)
    assert (scores[1].notices_due, scores[1].notices_on_time) == (3, 1)
    assert (scores[2].notices_due, scores[2].notices_on_time) == (1, 1)
    mar = monthly([], notices, D(2021, 3, 1), TODAY)[0]
    assert (mar.departments[1].notices_due, mar.departments[1].notices_on_time) == (3, 1)


def test_months_run_from_the_plan_start_to_the_clock_month():
    got = months(D(2020, 11, 15), D(2021, 2, 3))
    assert [a for a, _ in got] == [D(2020, 11, 1), D(2020, 12, 1), D(2021, 1, 1), D(2021, 2, 1)]
    assert got[-1][1] == D(2021, 2, 28)


def test_no_due_work_gives_no_rate():
    s = score_on([ms(1, D(2021, 6, 1))], [], TODAY)[1]
    assert s.on_time_rate is None and s.reports_rate is None and s.notices_rate is None
