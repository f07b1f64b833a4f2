"""The journeys of issue 10 in Chromium, on the demo: the leading group lands on the
驾驶舱, opens the first red item and issues a 督办; the department sees it on 我的工作,
签收 and 反馈 with evidence; the issuer is told, accepts, and the 督办 is 办结; the week's
通报 downloads and opens with the red items and the forecast. The province compares
both areas on one page and takes an area's 自评 pack. Desktop and phone width."""

import io
import zipfile

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Milestone, Notice, Notification, User
from tests.browser.pages import LAPTOP, PHONE
from tests.browser.pages import login as _login
from tests.browser.pages import no_sideways_scroll as _no_sideways_scroll

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_leader_issues_a_notice_the_department_answers_and_the_issuer_closes(app, live_server, browser, shot):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    page = browser.new_page(viewport=LAPTOP, locale="zh-CN")

    # 1. The leader lands on the dashboard: the forecast, then the red items.
    _login(page, live_server, "wh-leader")
    assert page.url.endswith("/plans/weihai-1313/dashboard")
    expect(page.get_by_test_id("p-target")).to_be_visible()
    first = page.get_by_test_id("red-section").get_by_test_id("item").first
    expect(first).to_be_visible()
    title = first.get_by_test_id("item-title").inner_text()
    department = first.get_by_test_id("item-department").inner_text()
    shot(page, "journey-01-leader-dashboard")

    # 2. Open it and issue a 督办 to its lead department.
    first.get_by_test_id("item-title").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_test_id("milestone-tricolour")).to_contain_text("红")
    page.get_by_text("发出督办单").click()
    page.get_by_label("督办部门").select_option(label=department)
    page.get_by_label("督办事项").fill("请于三日内说明延误原因、剩余工作量和完成时间。")
    page.get_by_label("答复期限").fill("2021-03-19")
    page.get_by_role("button", name="发出督办").click()
    expect(page.get_by_role("alert")).to_contain_text("督办单已发出")
    with app.app_context():
        m = db.session.scalar(select(Milestone).where(Milestone.title == title))
        notice = db.session.scalar(
            select(Notice).where(Notice.milestone_id == m.id).order_by(Notice.id.desc())
        )
        assert notice.state == "issued" and notice.department.name == department
        officer = db.session.scalar(
            select(User).where(User.department_id == notice.department_id, User.role == "department")
        )
        notice_id, username, milestone_id = notice.id, officer.username, m.id
        db.session.remove()
    expect(page.get_by_test_id(f"notice-{notice_id}")).to_contain_text("已交办")
    shot(page, "journey-02-notice-issued")

    # 3. The department sees it at once on 我的工作 (phone), 签收, then 反馈 with evidence.
    page.set_viewport_size(PHONE)
    _login(page, live_server, username)
    assert page.url.endswith("/my")
    mine = page.get_by_test_id(f"my-notice-{notice_id}")
    expect(mine).to_contain_text(title)
    _no_sideways_scroll(page)
    shot(page, "journey-03-department-my-work-phone")
    mine.get_by_role("button", name="签收").click()
    expect(page.get_by_test_id(f"my-notice-{notice_id}")).to_contain_text("已签收")
    page.get_by_test_id(f"my-notice-{notice_id}").get_by_role("link", name="反馈办理情况").click()
    page.get_by_label("办理情况（反馈内容）").fill("剩余 140 个站点因选址协调滞后，4 月底前全部完成。")
    page.set_input_files(
        "input[type=file]", files=[{"name": "进度说明.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="提交反馈").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    shot(page, "journey-04-department-answered-phone")

    # 4. The issuer is told, reviews on the milestone page and accepts: 办结.
    page.set_viewport_size(LAPTOP)
    _login(page, live_server, "wh-leader")
    with app.app_context():
        leader = db.session.scalar(select(User).where(User.username == "wh-leader"))
        texts = db.session.scalars(select(Notification.text).where(Notification.user_id == leader.id)).all()
        assert any(title in t and "反馈" in t for t in texts), texts
        db.session.remove()
    page.goto(f"{live_server}/milestones/{milestone_id}#notice-{notice_id}")
    item = page.get_by_test_id(f"notice-{notice_id}")
    expect(item).to_contain_text("剩余 140 个站点")
    expect(item.get_by_role("link", name="进度说明.pdf")).to_be_visible()
    item.locator("summary", has_text="复核").click()
    item.get_by_role("button", name="通过并办结").click()
    expect(page.get_by_test_id(f"notice-{notice_id}")).to_contain_text("已办结")
    shot(page, "journey-05-notice-closed")
    with app.app_context():
        assert db.session.get(Notice, notice_id).state == "closed"
        db.session.remove()

    # 5. The week's 通报: it downloads and opens with the red items and the forecast.
    page.goto(f"{live_server}/plans/weihai-1313/bulletins")
    rows = page.get_by_test_id("bulletins").locator("tbody tr")
    rows.first.get_by_role("link", name="2021年3月15日").click()
    p_target = page.get_by_test_id("p-target").inner_text()
    with page.expect_download() as info:
        page.get_by_test_id("xlsx").click()
    wb = load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
    overview = {r[0]: r[1] for r in wb["概况"].iter_rows(values_only=True) if r and r[0]}
    assert overview["到 2021年10月31日 达到 4 星的概率"] == p_target
    items = [r for r in wb["红黄事项"].iter_rows(min_row=2, values_only=True) if r[0] == "红"]
    assert overview["红"] == len(items) > 0
    assert any(title in (cell or "") for r in items for cell in r if isinstance(cell, str))
    shot(page, "journey-06-bulletin")


def test_province_compares_the_areas_and_takes_a_pack(app, live_server, browser, shot):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    for name, viewport in (("desktop", LAPTOP), ("phone", PHONE)):
        page = browser.new_page(viewport=viewport, locale="zh-CN")
        _login(page, live_server, "province")
        assert page.url.endswith("/province")
        areas = page.get_by_test_id("area")
        expect(areas).to_have_count(2)
        expect(page.get_by_text("威海市新型智慧城市建设三年行动计划").first).to_be_visible()
        expect(page.get_by_text("章丘").first).to_be_visible()
        _no_sideways_scroll(page)
        shot(page, f"journey-07-province-{name}")
        page.close()

    page = browser.new_page(viewport=LAPTOP, locale="zh-CN")
    _login(page, live_server, "province")
    for code in ("weihai-1313", "zhangqiu-3n"):
        response = page.request.get(f"{live_server}/plans/{code}/self-assessment.zip?kind=mid")
        assert response.status == 200
        with zipfile.ZipFile(io.BytesIO(response.body())) as pack:
            assert "自评材料索引.xlsx" in pack.namelist()
    # Read-only: the drill-down has no forms.
    page.goto(f"{live_server}/plans/weihai-1313/dashboard")
    expect(page.get_by_test_id("p-target")).to_be_visible()
    assert page.locator("main form").count() == 0
    shot(page, "journey-08-province-drilldown")
