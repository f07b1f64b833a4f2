"""我的工作's lists are kept per process (app/section_cache.py) under the region's plans'
content versions, the department, the role, the page and the date: a change of anything
they show reaches the page at once, and every department sees its own."""

import re
from datetime import date

from app.extensions import db
from app.models import Milestone, ReminderPolicy
from app.models.plan import milestone_co_department
from tests.conftest import login
from tests.factories import build_world


def open_rows(client) -> str:
    page = client.get("/my").get_data(as_text=True)
    found = re.search(r'data-testid="my-milestones">(.*?)</table>', page, re.S)
    return found.group(1) if found else ""


def test_every_change_the_lists_show_reaches_them_at_once(app, client):
    with app.app_context():
        w = build_world()
    login(client, "police")
    first = open_rows(client)
    assert "视频平台升级" in first and "2021年3月25日" in first
    assert open_rows(client) == first  # served again as it was

    with app.app_context():  # renamed and moved
        m = db.session.get(Milestone, w["m_police"])
        m.title, m.due_date = "视频平台扩容", date(2021, 4, 30)
        db.session.commit()
    rows = open_rows(client)
    assert "视频平台扩容" in rows and "2021年4月30日" in rows

    with app.app_context():  # finished: off the open list, onto the finished one
        m = db.session.get(Milestone, w["m_late"])
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 10)
        db.session.commit()
    page = client.get("/my").get_data(as_text=True)
    assert "警务云建设" not in open_rows(client)
    assert "已完成（1）" in page and "完成于 2021年3月10日" in page

    with app.app_context():  # the plan's 黄 window widened: 视频平台扩容 (due in 46 days) turns 黄
        db.session.add(
            ReminderPolicy(plan_id=db.session.get(Milestone, w["m_police"]).plan_id, status_soon_days=60)
        )
        db.session.commit()
    row = re.search(r"<tr>(?:(?!</tr>).)*视频平台扩容.*?</tr>", open_rows(client), re.S)[0]
    assert "黄" in row


def test_each_department_sees_its_own_and_a_new_co_department_link_shows(app, client):
    with app.app_context():
        w = build_world()
    login(client, "police")
    as_police = open_rows(client)
    other = app.test_client()
    login(other, "transport")
    as_transport = open_rows(other)
    assert "警务云建设" in as_police and "警务云建设" not in as_transport
    assert "公交大数据系统" in as_transport and "公交大数据系统" not in as_police

    with app.app_context():  # transport joins 警务云建设 as a co-department (a link row, Core)
        db.session.execute(
            milestone_co_department.insert().values(
                milestone_id=w["m_late"], department_id=w["transport_dept"]
            )
        )
        db.session.commit()
    row = re.search(r"<tr>(?:(?!</tr>).)*警务云建设.*?</tr>", open_rows(other), re.S)[0]
    assert "配合" in row


def test_the_date_moves_the_colours(app, client):
    with app.app_context():
        build_world()
    login(client, "police")
    row = re.search(r"<tr>(?:(?!</tr>).)*警航一体化.*?</tr>", open_rows(client), re.S)[0]
    assert "蓝" in row  # not started, not yet due
    app.config["STARPATH_AS_OF"] = date(2022, 1, 5)  # now past its due date (2021年12月31日)
    try:
        row = re.search(r"<tr>(?:(?!</tr>).)*警航一体化.*?</tr>", open_rows(client), re.S)[0]
        assert "红" in row
    finally:
        app.config["STARPATH_AS_OF"] = date(2021, 3, 15)


def test_a_notice_reaches_the_kept_page_and_its_form_works(app, client):
    from tests.conftest import CSRF_RE, csrf_from

    with app.app_context():
        w = build_world()
    login(client, "police")
    assert 'data-testid="my-notices"' not in client.get("/my").get_data(as_text=True)
    office = app.test_client()
    login(office, "office")
    url = f"/milestones/{w['m_police']}/notices"
    data = {
        "csrf_token": csrf_from(office, f"/milestones/{w['m_police']}"),
        "department_id": w["police_dept"],
    }
    data.update(text="请说明平台联网进度", reply_due="2021-03-19")
    assert office.post(url, data=data).status_code == 302

    page = client.get("/my").get_data(as_text=True)
    assert "请说明平台联网进度" in page and "签收" in page
    token = CSRF_RE.search(page)[1]
    action = re.search(r'action="(/notices/\d+/acknowledge)"', page)[1]
    version = re.search(r'name="version" value="(\d+)"', page)[1]
    assert client.post(action, data={"csrf_token": token, "version": version}).status_code == 302
    page = client.get("/my").get_data(as_text=True)
    assert action not in page and "签收" in page  # acknowledged: no form, the time shown
