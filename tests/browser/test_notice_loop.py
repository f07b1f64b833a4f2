"""The 督办 loop in Chromium: the issuer's 复核 sends an answer back, the department sees
the reason on 我的工作; desktop and phone width (390 px)."""

from datetime import date

from playwright.sync_api import expect

from app.extensions import db
from app.models import Department, Milestone, Notice, User
from tests.browser.pages import login
from tests.factories import PASSWORD, build_world
from workflows import notice_review


def _login(page, base, username):
    login(page, base, username, PASSWORD)


def test_review_and_send_back(app, live_server, browser, shot):
    with app.app_context():
        w = build_world()
        get = db.session.get
        police, leader = get(User, w["police"]), get(User, w["leader"])
        dept = get(Department, w["police_dept"])
        answered = notice_review.issue(
            get(Milestone, w["m_late"]), dept, leader, "请说明延误原因", date(2021, 3, 19)
        )
        notice_review.answer(answered, police, "设备到货延迟，预计4月10日完成。")
        late = notice_review.issue(
            get(Milestone, w["m_police"]), dept, leader, "请报送联调计划", date(2021, 3, 16)
        )
        db.session.commit()
        get(Notice, late.id).reply_due = date(2021, 3, 12)
        db.session.commit()
        answered_id = answered.id

    for name, viewport in (
        ("desktop", {"width": 1280, "height": 900}),
        ("phone", {"width": 390, "height": 844}),
    ):
        page = browser.new_page(viewport=viewport)
        _login(page, live_server, "leader")
        page.goto(f"{live_server}/notices")
        expect(page.get_by_test_id("notice-counts")).to_contain_text("红 1")
        shot(page, f"notices-list-{name}")
        page.close()

    page = browser.new_page(viewport={"width": 390, "height": 844})
    _login(page, live_server, "leader")
    page.goto(f"{live_server}/milestones/{w['m_late']}#notice-{answered_id}")
    item = page.get_by_test_id(f"notice-{answered_id}")
    item.locator("summary", has_text="复核").click()
    item.locator("textarea[name=note]").fill("请附到货证明")
    item.get_by_role("button", name="退回重新办理").click()
    expect(page.get_by_test_id(f"notice-{answered_id}")).to_contain_text("已退回，需重新办理")
    shot(page, "notice-milestone-returned-phone")
    page.context.clear_cookies()
    _login(page, live_server, "police")
    page.goto(f"{live_server}/my")
    expect(page.get_by_test_id("my-notices")).to_contain_text("退回原因：请附到货证明")
    shot(page, "notice-mywork-phone")
    page.close()
