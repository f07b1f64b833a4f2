"""The 驾驶舱 in Chromium: a Weihai leader lands on it, reads the forecast and the red list
on the first screen of a laptop, clicks a count and sees its list; the province lands on
every area side by side, sorts, and drills down to a read-only dashboard; both on a phone."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.forecasting.snapshot import latest_run
from app.models import Plan
from app.stars.present import prob
from tests.browser.conftest import SHOTS
from tests.browser.pages import LAPTOP, PHONE
from tests.browser.pages import login as _login
from tests.browser.pages import no_sideways_scroll as _no_sideways_scroll


def _watch_errors(page):
    """Script errors and CSP refusals (the favicon's 404 is not one)."""
    errors = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _view(page, name):
    """What the user sees on the first screen, next to the full-page shots."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _demo(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0  # stores the runs too
    with app.app_context():
        run = latest_run(db.session.scalar(select(Plan).where(Plan.code == "weihai-1313")))
        result = run.result
        db.session.remove()
    return result


def test_leader_dashboard_in_chromium(app, live_server, browser, shot):
    result = _demo(app)
    page = browser.new_page(viewport=LAPTOP, locale="zh-CN")
    errors = _watch_errors(page)
    _login(page, live_server, "wh-leader")
    expect(page).to_have_url(f"{live_server}/plans/weihai-1313/dashboard")
    expect(page.get_by_role("heading", name="驾驶舱")).to_be_visible()
    expect(page.get_by_test_id("p-target")).to_have_text(prob(result["forecast"]["p_target"]))
    expect(page.get_by_test_id("p50")).to_have_text(f"{result['forecast']['p50']} 分")
    expect(page.get_by_test_id("week-change")).to_contain_text("据 2021年3月8日 测算")
    red_rows = page.get_by_test_id("red-list").locator('tr[data-testid="item"]')
    expect(red_rows.first).to_be_visible()
    # above the fold on a laptop: the headline and the start of the red list
    for locator in (page.get_by_test_id("p-target"), red_rows.first):
        box = locator.bounding_box()
        assert box["y"] + box["height"] <= LAPTOP["height"], "must be on the first screen"
    expect(red_rows.first.get_by_test_id("item-late")).to_have_text("74 天")
    _view(page, "dashboard-01-leader-first-screen")
    shot(page, "dashboard-02-leader-full")

    # a node opens to its children
    group = page.get_by_test_id("node-counts").get_by_test_id("count-group").first
    group.locator("summary").click()
    expect(group.locator(".crow.depth-1, .crow-group.depth-1").first).to_be_visible()

    # a count leads to its list, with as many rows as it said
    red_count = page.get_by_test_id("plan-counts").locator("a.c-red")
    n = int(red_count.inner_text())
    red_count.click()
    expect(page.get_by_test_id("list-title")).to_contain_text("红")
    expect(page.get_by_test_id("list").locator('tr[data-testid="item"]')).to_have_count(n)
    expect(page.get_by_test_id("list-count")).to_have_text(str(n))
    shot(page, "dashboard-03-red-list")
    # and from the list to the milestone page, where 督办 is issued
    page.get_by_test_id("list").get_by_test_id("item-title").first.click()
    expect(page.get_by_role("heading", name="督办")).to_be_visible()
    assert errors == [], errors

    phone = browser.new_page(viewport=PHONE, locale="zh-CN")
    _login(phone, live_server, "wh-leader")
    expect(phone.get_by_test_id("p-target")).to_be_visible()
    box = phone.get_by_test_id("p-target").bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]
    _no_sideways_scroll(phone)
    _view(phone, "dashboard-04-phone-first-screen")
    phone.get_by_test_id("red-list").locator('tr[data-testid="item"]').nth(1).scroll_into_view_if_needed()
    _view(phone, "dashboard-04b-phone-red-list")
    phone.get_by_test_id("by-node").scroll_into_view_if_needed()
    _view(phone, "dashboard-04c-phone-counts")
    shot(phone, "dashboard-05-phone-full")


def test_province_in_chromium(app, live_server, browser, shot):
    _demo(app)
    page = browser.new_page(viewport=LAPTOP, locale="zh-CN")
    errors = _watch_errors(page)
    _login(page, live_server, "province")
    expect(page).to_have_url(f"{live_server}/province")
    rows = page.get_by_test_id("province").locator('tr[data-testid="area"]')
    expect(rows).to_have_count(2)
    shot(page, "dashboard-06-province")

    page.get_by_test_id("sort-score").click()
    expect(page).to_have_url(f"{live_server}/province?sort=score&dir=asc")
    scores = [int(s) for s in page.get_by_test_id("area-score").all_inner_texts()]
    assert scores == sorted(scores)
    page.get_by_test_id("sort-score").click()
    expect(page).to_have_url(f"{live_server}/province?sort=score&dir=desc")
    scores = [int(s) for s in page.get_by_test_id("area-score").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    expect(page.get_by_test_id("sort-score")).to_contain_text("▼")

    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    assert download.value.suggested_filename == "province-2021-03-15.xlsx"

    page.locator('tr[data-plan="zhangqiu-3n"]').get_by_test_id("drill").click()
    expect(page).to_have_url(f"{live_server}/plans/zhangqiu-3n/dashboard")
    expect(page.get_by_test_id("red-list")).to_be_visible()
    expect(page.get_by_test_id("act")).to_have_count(0)  # read-only: no 督办 buttons
    expect(page.locator("main form")).to_have_count(0)
    shot(page, "dashboard-07-province-drilldown")
    assert errors == [], errors

    phone = browser.new_page(viewport=PHONE, locale="zh-CN")
    _login(phone, live_server, "province")
    expect(phone.get_by_test_id("province")).to_be_visible()
    _no_sideways_scroll(phone)
    shot(phone, "dashboard-08-province-phone")
