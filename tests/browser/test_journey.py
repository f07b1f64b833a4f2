"""The whole journey in a real browser: a department reports with a file,
the plan office approves, the milestone shows the new percent and history."""

from playwright.sync_api import expect

from app.extensions import db
from tests.browser.pages import login
from tests.factories import PASSWORD, build_world


def _login(page, base, username):
    login(page, base, username, PASSWORD)


def _logout(page):
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="登录星途")).to_be_visible()


def test_report_and_approve_in_chromium(app, live_server, browser, shot, tmp_path):
    with app.app_context():
        world = build_world()
        db.session.remove()
    evidence = tmp_path / "验收报告.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    _login(page, live_server, "police")
    expect(page.get_by_role("heading", name="我的工作")).to_be_visible()
    expect(page.get_by_text("逾期 15 天")).to_be_visible()
    shot(page, "01-my-work")

    page.get_by_role("link", name="视频平台升级").click()
    expect(page.get_by_role("heading", name="视频平台升级")).to_be_visible()
    page.get_by_role("link", name="汇报进展").click()
    page.get_by_label("完成百分比（%）").fill("60")
    page.get_by_label("当前状态").select_option("in_progress")
    page.get_by_label("进展说明").fill("平台主体已部署，完成 3 个分局接入")
    page.get_by_label("佐证材料（可多选）").set_input_files(str(evidence))
    shot(page, "02-report-form")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("汇报已提交，等待统筹部门审核。")).to_be_visible()
    expect(page.get_by_role("link", name="验收报告.pdf")).to_be_visible()
    _logout(page)

    _login(page, live_server, "office")  # lands on its plan's 驾驶舱, which says what waits
    page.get_by_test_id("pending-review").get_by_role("link").click()
    expect(page.get_by_role("heading", name="待审核的进展汇报（1）")).to_be_visible()
    page.get_by_role("link", name="视频平台升级").click()
    shot(page, "03-review")
    page.get_by_role("button", name="通过").click()
    expect(page.get_by_text("已通过，里程碑进度已更新。")).to_be_visible()

    page.goto(f"{live_server}/milestones/{world['m_police']}")
    expect(page.get_by_test_id("milestone-percent")).to_contain_text("60%")
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("进度更新为 60%（进行中）")
    expect(history).to_contain_text("通过甲市公安局的牵头汇报")
    shot(page, "04-milestone-after-approval")

    # The same page on a phone: nothing overflows the viewport horizontally.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _login(phone, live_server, "police")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    shot(phone, "05-phone-my-work")
