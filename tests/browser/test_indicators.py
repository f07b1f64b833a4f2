"""Indicator values in a real browser: a department enters a value, the plan office
approves it, and the indicator shows the approved value and its points."""

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Department, Indicator, Plan
from tests.browser.pages import login
from tests.factories import PASSWORD, build_world


def _login(page, base, username):
    login(page, base, username, PASSWORD)


def _logout(page):
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="登录星途")).to_be_visible()


def test_enter_and_approve_a_value_in_chromium(app, live_server, browser, shot):
    with app.app_context():
        world = build_world()
        db.session.scalar(select(Plan).where(Plan.code == "plan-a")).standard_code = "sd-city-2019"
        ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
        ind.standard_indicator = "5"
        ind.four_star_due = date(2021, 10, 31)
        ind.departments = [db.session.get(Department, world["police_dept"])]
        db.session.commit()
        ind_id = ind.id
        db.session.remove()

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    _login(page, live_server, "police")
    page.get_by_role("link", name="甲市行动计划").click()
    expect(page.get_by_role("heading", name="甲市行动计划 指标数值")).to_be_visible()
    shot(page, "ind-01-list")
    page.get_by_role("link", name="视频监控联网率").click()
    expect(page.get_by_role("heading", name="视频监控联网率")).to_be_visible()
    # A refused value names the indicator and the problem; the form keeps what was typed.
    page.get_by_label("数据截至日期").fill("2021-03-10")
    page.get_by_label("数值（%）").fill("-3")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_test_id("value-errors")).to_contain_text(
        "指标“视频监控联网率”（标准第 5 项）：数值不能为负数"
    )
    shot(page, "ind-02-refused")
    page.get_by_label("数值（%）").fill("86.5")
    page.get_by_label("数据来源").fill("市公安局 2021 年 3 月统计报表")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("数值已提交，等待统筹部门审核。")).to_be_visible()
    expect(page.get_by_test_id("value-history")).to_contain_text("待审核")
    shot(page, "ind-03-submitted")
    _logout(page)

    _login(page, live_server, "office")
    page.goto(f"{live_server}/review")
    expect(page.get_by_role("heading", name="待审核指标值（1）")).to_be_visible()
    shot(page, "ind-04-queue")
    page.get_by_test_id("value-queue").get_by_role("link", name="视频监控联网率").click()
    expect(page.get_by_test_id("pending-values")).to_contain_text("86.5%")
    shot(page, "ind-05-review")
    page.get_by_role("button", name="确认数值").click()
    expect(page.get_by_text("已确认指标“视频监控联网率”的数值")).to_be_visible()
    expect(page.get_by_role("heading", name="待审核指标值（0）")).to_be_visible()

    page.goto(f"{live_server}/indicators/{ind_id}")
    expect(page.get_by_test_id("latest-value")).to_contain_text("86.5%")
    expect(page.get_by_test_id("latest-value")).to_contain_text("按标准得 6 分")
    expect(page.get_by_test_id("value-history")).to_contain_text("已确认")
    shot(page, "ind-06-approved")

    page.goto(f"{live_server}/plans/plan-a/standard-values")
    page.get_by_text("录入第 1 项数值").click()
    page.locator("#std-1").get_by_label("数值（%）").fill("92")
    page.locator("#std-1").get_by_role("button", name="录入并确认").click()
    expect(page.get_by_test_id("direct-1")).to_contain_text("92%")
    shot(page, "ind-07-standard-values")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _login(phone, live_server, "office")
    phone.goto(f"{live_server}/indicators/{ind_id}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    shot(phone, "ind-08-phone")
