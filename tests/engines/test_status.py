"""三色 status rules (app/engines/status.py)."""

from datetime import date, timedelta

from app.engines import status as s
from app.engines.schedule import elapsed_share, planned_start

TODAY = date(2021, 3, 15)


def facts(due, percent=50, start=None, **kw):
    return s.MilestoneFacts(
        due=due, done=kw.pop("done", False), percent=percent, start=start or due - timedelta(days=180), **kw
    )


def test_done_is_done_whatever_else():
    f = facts(date(2020, 12, 31), percent=100, done=True, returned=True, open_notices=2)
    assert s.milestone_status(f, TODAY).colour == s.DONE


def test_overdue_is_red_with_days_late():
    st = s.milestone_status(facts(date(2021, 3, 1)), TODAY)
    assert st.colour == s.RED and st.days_late == 14 and st.reasons[0] == "逾期 14 天"


def test_due_today_is_not_overdue_but_yellow():
    st = s.milestone_status(facts(TODAY, percent=95), TODAY)
    assert st.colour == s.YELLOW and st.days_late == 0 and "今天到期" in st.reasons


def test_forecast_after_due_is_red_even_when_not_yet_due():
    f = facts(date(2021, 6, 30), percent=60, forecast_finish=date(2021, 7, 20))
    st = s.milestone_status(f, TODAY)
    assert st.colour == s.RED and "晚于期限 20 天" in st.reasons[0]
    on_time = facts(date(2021, 6, 30), percent=60, forecast_finish=date(2021, 6, 30))
    assert s.milestone_status(on_time, TODAY).colour == s.BLUE


def test_due_within_soon_days_is_yellow_and_threshold_is_the_plans():
    f = facts(TODAY + timedelta(days=7), percent=95)
    assert s.milestone_status(f, TODAY).colour == s.YELLOW
    assert s.milestone_status(f, TODAY, s.Thresholds(soon_days=6)).colour == s.BLUE


def test_behind_schedule_is_more_than_the_threshold_below_elapsed_share():
    start, due = date(2021, 1, 1), date(2021, 5, 1)  # 120 days, 73 elapsed: 61 %
    assert round(100 * elapsed_share(start, due, TODAY)) == 61
    behind = s.milestone_status(facts(due, percent=40, start=start), TODAY)
    assert behind.colour == s.YELLOW and behind.behind and "落后序时进度 61%" in behind.reasons[0]
    exactly = s.milestone_status(facts(due, percent=41, start=start), TODAY)  # 20 points below: not more
    assert exactly.colour == s.BLUE
    assert (
        s.milestone_status(facts(due, percent=40, start=start), TODAY, s.Thresholds(behind_points=30)).colour
        == s.BLUE
    )


def test_returned_and_unanswered_notice_are_yellow():
    far = date(2021, 12, 31)
    assert s.milestone_status(facts(far, percent=30, returned=True), TODAY).colour == s.YELLOW
    st = s.milestone_status(facts(far, percent=30, open_notices=2), TODAY)
    assert st.colour == s.YELLOW and "2 份督办未答复" in st.reasons


def test_not_started_far_from_due_is_blue():
    assert s.milestone_status(facts(date(2022, 12, 31), percent=0), TODAY).colour == s.BLUE


def test_planned_start_is_the_latest_earlier_predecessor_due():
    due = date(2021, 12, 31)
    assert planned_start(due, []) == due - timedelta(days=180)
    assert planned_start(due, [date(2021, 3, 1), date(2021, 6, 30), date(2022, 3, 1)]) == date(2021, 6, 30)


def test_notice_colour_by_reply_date():
    th = s.Thresholds()
    assert s.notice_status(date(2021, 3, 10), TODAY, "issued", th).colour == s.RED
    assert s.notice_status(date(2021, 3, 10), TODAY, "acknowledged", th).days_late == 5
    assert s.notice_status(date(2021, 3, 20), TODAY, "issued", th).colour == s.YELLOW
    assert s.notice_status(date(2021, 4, 30), TODAY, "issued", th).colour == s.BLUE
    assert s.notice_status(date(2021, 3, 10), TODAY, "answered", th).colour == s.BLUE
    assert s.notice_status(date(2021, 4, 30), TODAY, "returned", th).colour == s.YELLOW
    assert s.notice_status(date(2021, 3, 10), TODAY, "closed", th).colour == s.DONE
