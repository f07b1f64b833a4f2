"""智慧社区 in Chromium, as a new user would: the 环翠楼街道 account assesses the last open
item of a community on a phone, with evidence; the plan office approves it; after the
recompute the coverage rate and the 星级测算 page have moved, and the matrix, the indicator
page and the stars page show the same number."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.communities import coverage
from app.engines import community as rules
from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Community, Plan, Region
from tests.browser.pages import LAPTOP, PHONE, login, no_sideways_scroll
from tests.conftest import TEST_AS_OF
from tests.test_functional import PDF

SAMPLES = 400


def _recompute(app):
    """What the worker does after the approval's request_recompute."""
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
        run, _ = store_snapshot(plan, TEST_AS_OF, samples=SAMPLES)
        result = run.result
        db.session.remove()
    return result


def _coverage(app):
    with app.app_context():
        region = db.session.scalar(select(Region).where(Region.name == "威海市"))
        state = coverage.region_state(region.id)
        db.session.remove()
        return state.smart, state.total, state.rate


def _journey_community(app):
    with app.app_context():
        region = db.session.scalar(select(Region).where(Region.name == "威海市"))
        state = coverage.region_state(region.id)
        [c] = [c for c in state.communities if state.met.get(c.id) == 24 and "25" not in state.cells[c.id]]
        db.session.remove()
        return c.id, c.name


def _stars_row(page, base):
    page.goto(base + "/plans/weihai-1313/stars")
    row = page.get_by_test_id("explanation").locator('tr[data-number="49"]')
    return row.locator("td").nth(3).inner_text(), int(page.get_by_test_id("explanation-total").inner_text())


def test_street_review_coverage_stars_journey(app, live_server, browser, shot, tmp_path):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    before = _recompute(app)
    smart, total, rate = _coverage(app)
    cid, name = _journey_community(app)

    # The plan office sees the matrix and the stars page before.
    office = browser.new_page(viewport=LAPTOP, locale="zh-CN")
    login(office, live_server, "wh-office")
    office.goto(live_server + "/communities")
    expect(office.get_by_test_id("region-rate")).to_have_text(f"{rules.fmt(rate)}%")
    expect(office.get_by_test_id("plan-coverage")).to_have_text(f"{rules.fmt(rate)}%")
    expect(office.get_by_test_id("rule")).to_contain_text("至少 25 项")
    shot(office, "community-01-matrix-before")
    value_before, total_before = _stars_row(office, live_server)
    assert value_before == f"{rules.fmt(rate)}%"
    assert total_before == before["current"]["total"]
    # The cheapest way to 4 stars raises 智慧社区覆盖率: the step names the communities it takes.
    [step] = [s for s in before["gap_target"]["steps"] if s["number"] == "49"]
    spec = next(i for i in load_standard("sd-city-2019")["indicators"] if i["number"] == "49")
    condition = spec["cells"][step["to_level"] - 1]["condition"]
    needed = rules.communities_needed(smart, total, condition["op"], condition["value"])
    way = office.get_by_test_id("plan-target")
    expect(way.get_by_test_id("community-step")).to_contain_text(
        f"即再建成 {needed} 个智慧社区（现有 {smart} / {total} 个社区"
    )
    shot(office, "community-02-stars-before")

    # The street account, on a phone: only its own communities; fills the last item with evidence.
    phone = browser.new_page(viewport=PHONE, locale="zh-CN")
    login(phone, live_server, "wh-street")
    phone.get_by_role("link", name="智慧社区").click()
    matrix = phone.get_by_test_id("matrix")
    expect(matrix.locator("tbody tr")).to_have_count(8)  # 环翠楼街道's eight communities only
    phone.get_by_role("link", name=name).click()
    expect(phone.get_by_test_id("progress")).to_contain_text("审核达标 24 / 25 项")
    no_sideways_scroll(phone)
    item = phone.locator("#item-25")
    item.locator('select[name="item-25-met"]').select_option("1")
    item.locator('textarea[name="item-25-note"]').fill("社区“一键呼叫”与AI 人脸门禁已上线")
    evidence = tmp_path / "创新应用验收单.pdf"
    evidence.write_bytes(PDF)
    item.locator('input[name="item-25-files"]').set_input_files(str(evidence))
    shot(phone, "community-03-street-form")
    phone.get_by_test_id("submit").click()
    expect(phone.get_by_role("alert").first).to_contain_text("已提交 1 项")
    expect(phone.locator("#item-25")).to_have_attribute("data-cell", "pending")
    expect(phone.locator("#item-25")).to_contain_text("创新应用验收单.pdf")
    shot(phone, "community-04-street-submitted")

    # The plan office approves the last item.
    office.goto(live_server + f"/communities/{cid}")
    office.get_by_test_id("approve-25").click()
    expected_rate = rules.coverage(smart + 1, total)
    expect(office.get_by_role("alert").first).to_contain_text(
        f"已认定为智慧社区；智慧社区覆盖率：{smart + 1}/{total} = {rules.fmt(expected_rate)}%"
    )
    expect(office.get_by_test_id("smart")).to_be_visible()
    shot(office, "community-05-approved")

    # After the recompute: the stars page moved, and the three pages agree.
    after = _recompute(app)
    assert after["values"]["49"] == expected_rate
    value_after, total_after = _stars_row(office, live_server)
    assert value_after == f"{rules.fmt(expected_rate)}%" != value_before
    assert total_after == after["current"]["total"] > total_before  # 30% reached: 12 points
    shot(office, "community-06-stars-after")
    office.goto(live_server + "/communities")
    expect(office.get_by_test_id("region-rate")).to_have_text(f"{rules.fmt(expected_rate)}%")
    expect(office.get_by_test_id("region-smart")).to_have_text(str(smart + 1))
    expect(office.get_by_test_id("plan-coverage")).to_have_text(f"{rules.fmt(expected_rate)}%")
    row = office.locator(f'tr[data-community="{name}"]')
    expect(row.locator("td.c-met")).to_have_count(25)
    shot(office, "community-07-matrix-after")
    office.get_by_role("link", name="指标页面").click()
    expect(office.locator("body")).to_contain_text(re.compile(re.escape(rules.fmt(expected_rate))))
    shot(office, "community-08-indicator")
    with app.app_context():
        assert db.session.get(Community, cid).name == name
