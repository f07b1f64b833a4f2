"""/admin/holidays: the calendar, single add/delete, the all-or-nothing bulk paste, the 2021 seed."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.admin.holidays import BulkError, parse_bulk, seed_holidays_2021
from app.extensions import db
from app.models import AuditEvent, Holiday
from tests.conftest import csrf_from, login
from tests.factories import build_world

GOOD = """2021-10-01 国庆节
2021-10-02 国庆节

2021-09-26 调休上班
2021-10-09 国庆节调休上班
"""


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Holiday))


def _paste(client, text):
    token = csrf_from(client, "/admin/holidays")
    return client.post("/admin/holidays/bulk", data={"csrf_token": token, "text": text})


def test_bulk_paste_writes_every_line(app, client, world):
    login(client, "admin")
    response = _paste(client, GOOD)
    assert response.status_code == 302
    with app.app_context():
        rows = {h.day: (h.name, h.workday) for h in db.session.scalars(select(Holiday))}
        assert rows == {
            date(2021, 10, 1): ("国庆节", False),
            date(2021, 10, 2): ("国庆节", False),
            date(2021, 9, 26): ("调休上班", True),
            date(2021, 10, 9): ("国庆节调休上班", True),
        }
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "holiday.bulk"))
        assert "新增 4 条" in event.summary
    page = client.get("/admin/holidays?year=2021").get_data(as_text=True)
    assert "2021年10月1日" in page and "星期五" in page and "调休上班" in page


@pytest.mark.parametrize(
    "bad_line,message",
    [
        ("2021-10-0x 国庆节", "第 3 行“2021-10-0x 国庆节”格式不对"),
        ("2021-02-30 春节", "第 3 行“2021-02-30 春节”的日期不存在"),
        ("2021-09-27 调休上班", "2021-09-27 是星期一，调休上班日应是周六或周日"),
        ("2021-10-01 国庆节", "第 3 行“2021-10-01 国庆节”与第 1 行日期重复"),
        ("国庆节", "第 3 行“国庆节”格式不对"),
    ],
)
def test_bulk_paste_is_all_or_nothing_and_names_the_bad_line(app, client, world, bad_line, message):
    login(client, "admin")
    text = f"2021-10-01 国庆节\n2021-10-02 国庆节\n{bad_line}\n2021-10-03 国庆节\n"
    response = _paste(client, text)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "未导入任何条目" in page
    assert message in page
    assert "2021-10-03 国庆节" in page  # the pasted text is kept for fixing
    assert _count(app) == 0


def test_bulk_paste_updates_existing_days(app, client, world):
    with app.app_context():
        db.session.add(Holiday(day=date(2021, 10, 1), name="旧名称", workday=False))
        db.session.commit()
    login(client, "admin")
    assert _paste(client, GOOD).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Holiday.name).where(Holiday.day == date(2021, 10, 1))) == "国庆节"
    assert _count(app) == 4


def test_parse_bulk_accepts_single_digit_months_and_comments():
    rows = parse_bulk("# 2021 年\n2021-5-1 劳动节\n2021-4-25 劳动节调休上班")
    assert rows == [(date(2021, 5, 1), "劳动节", False), (date(2021, 4, 25), "劳动节调休上班", True)]
    with pytest.raises(BulkError, match="没有可导入的行"):
        parse_bulk("\n# nothing\n")


def test_add_and_delete_one_day(app, client, world):
    login(client, "admin")
    token = csrf_from(client, "/admin/holidays")
    response = client.post(
        "/admin/holidays/add",
        data={"csrf_token": token, "day": "2021-06-14", "name": "端午节", "kind": "holiday"},
    )
    assert response.status_code == 302
    # A 调休上班 day on a weekday is refused; the same day twice is refused.
    bad = client.post(
        "/admin/holidays/add", data={"csrf_token": token, "day": "2021-06-15", "name": "x", "kind": "workday"}
    )
    assert bad.status_code == 400 and "调休上班日应是周六或周日" in bad.get_data(as_text=True)
    twice = client.post(
        "/admin/holidays/add",
        data={"csrf_token": token, "day": "2021-06-14", "name": "端午", "kind": "holiday"},
    )
    assert twice.status_code == 409
    with app.app_context():
        holiday = db.session.scalar(select(Holiday))
        assert (holiday.day, holiday.name, holiday.workday) == (date(2021, 6, 14), "端午节", False)
        holiday_id = holiday.id
    response = client.post("/admin/holidays/delete", data={"csrf_token": token, "holiday_id": holiday_id})
    assert response.status_code == 302
    assert _count(app) == 0
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"holiday.create", "holiday.delete"} <= actions


def test_seed_2021(app, ctx):
    assert seed_holidays_2021() == 38
    db.session.commit()
    assert seed_holidays_2021() == 0  # idempotent
    rows = {h.day: h for h in db.session.scalars(select(Holiday))}
    workdays = {d for d, h in rows.items() if h.workday}
    assert workdays == {
        date(2021, 2, 7),
        date(2021, 2, 20),
        date(2021, 4, 25),
        date(2021, 5, 8),
        date(2021, 9, 18),
        date(2021, 9, 26),
        date(2021, 10, 9),
    }
    assert all(d.weekday() >= 5 for d in workdays)
    off = sorted(d for d, h in rows.items() if not h.workday)
    assert len(off) == 31
    assert rows[date(2021, 2, 11)].name == "春节" and rows[date(2021, 2, 17)].name == "春节"
    assert rows[date(2021, 10, 7)].name == "国庆节" and date(2021, 10, 8) not in rows
    assert rows[date(2021, 9, 21)].name == "中秋节" and rows[date(2021, 6, 14)].name == "端午节"


@pytest.mark.parametrize("username", ["office", "police"])
def test_non_admin_gets_403(app, client, world, username):
    login(client, username)
    assert client.get("/admin/holidays").status_code == 403
    token = csrf_from(client, "/notifications")
    assert client.post("/admin/holidays/bulk", data={"csrf_token": token, "text": GOOD}).status_code == 403
    assert _count(app) == 0
