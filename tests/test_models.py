from datetime import date

from flask import g
from sqlalchemy import select

from app import clock
from app.dates import cn_date
from app.extensions import db
from app.formatting import due_flags
from app.models import Milestone, ReminderPolicy, User
from tests.factories import build_world


def test_passwords_are_hashed_with_scrypt(ctx):
    build_world()
    user = db.session.scalar(select(User).where(User.username == "police"))
    assert user.password_hash.startswith("scrypt:")
    assert "secret-pass-1" not in user.password_hash
    assert user.check_password("secret-pass-1")
    assert not user.check_password("wrong")


def test_clock_reads_as_of(app, ctx):
    assert clock.today() == date(2021, 3, 15)


def test_due_flags_follow_the_clock(ctx):
    world = build_world()
    late = db.session.get(Milestone, world["m_late"])
    soon = db.session.get(Milestone, world["m_police"])
    far = db.session.get(Milestone, world["m_far"])
    assert due_flags(late) == {"overdue": True, "due_soon": False, "days": -15}
    assert due_flags(soon) == {"overdue": False, "due_soon": False, "days": 10}  # the plan's 7 days
    assert not any((due_flags(far)["overdue"], due_flags(far)["due_soon"]))
    # The window is the plan's 三色 one (reminder-policy page), read once per request.
    db.session.add(ReminderPolicy(plan_id=soon.plan_id, status_soon_days=10))
    db.session.commit()
    g.pop("soon_days", None)
    assert due_flags(soon)["due_soon"]
    # The same milestone is not late when the clock says an earlier day.
    assert not due_flags(late, today=date(2021, 2, 1))["overdue"]


def test_chinese_dates():
    assert cn_date(date(2021, 10, 31)) == "2021年10月31日"
    assert cn_date("2021-03-01") == "2021年3月1日"  # an ISO date as stored results hold it


def test_milestone_version_bumps_on_update(ctx):
    world = build_world()
    m = db.session.get(Milestone, world["m_police"])
    assert m.version == 1
    m.percent = 50
    db.session.commit()
    assert m.version == 2
