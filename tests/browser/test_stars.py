"""The 星级测算 page in Chromium: the stored run, then the what-if panel against it."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Plan
from tests.conftest import TEST_AS_OF

DEMO_PASSWORD = "demo-pass-2021"
URL = "/plans/weihai-1313/stars"


def _login(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def _watch_errors(page):
    """Script errors and CSP refusals (HTTP errors such as the expected 400 are not counted)."""
    errors = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_stars_page_and_what_if_in_chromium(app, live_server, browser, shot):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
        run, _ = store_snapshot(plan, TEST_AS_OF, samples=2000)  # what the worker would do
        result = run.result
        db.session.remove()
    total = result["current"]["total"]
    step = result["gap"]["steps"][0]  # the cheapest way to the next star: one level step

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors = _watch_errors(page)
    _login(page, live_server, "wh-office")
    page.goto(live_server + URL)
    expect(page.get_by_role("heading", name="星级测算")).to_be_visible()
    expect(page.get_by_test_id("current-total")).to_have_text(str(total))
    expect(page.get_by_test_id("computed-at")).to_contain_text("年")
    expect(page.get_by_test_id("as-of")).to_have_text("2021年3月15日")
    shot(page, "stars-01-page")

    # What-if: raise the gap's indicator to its target level.
    panel = page.get_by_test_id("what-if")
    panel.scroll_into_view_if_needed()
    page.locator("#wi-indicator").select_option(step["number"])
    page.locator("#wi-kind").select_option("level")
    page.locator("#wi-value").fill(str(step["to_level"]))
    page.get_by_role("button", name="加入假设").click()
    table = page.get_by_test_id("what-if-result")
    expect(table).to_be_visible()
    first_row = table.locator("tbody tr").first
    expect(first_row.locator("td").last).to_have_text(str(total + step["points_gain"]))
    expect(first_row.locator("td").first).to_have_text(str(total))
    expect(page.locator("#wi-changed")).to_contain_text(step["name"])
    shot(page, "stars-02-what-if-value")

    # A bad value is explained, and the previous overrides stay.
    page.locator("#wi-indicator").select_option("1")
    page.locator("#wi-kind").select_option("number")
    page.locator("#wi-value").fill("-5")
    page.get_by_role("button", name="加入假设").click()
    expect(page.locator("#wi-error")).to_contain_text("indicator 1")
    page.get_by_role("button", name="移除假设：1. 家庭光纤入户率").click()
    expect(first_row.locator("td").last).to_have_text(str(total + step["points_gain"]))

    # Force the first open milestone done: the forecast never gets worse.
    page.locator("select.wi-force").first.select_option("done")
    p_row = table.locator("tbody tr").nth(3)
    expect(p_row.locator("th")).to_contain_text("概率")
    page.wait_for_load_state("networkidle")
    shot(page, "stars-03-what-if-milestone")

    page.get_by_role("button", name="清除全部假设").click()
    expect(table).to_be_hidden()
    assert errors == [], errors  # no CSP violations, no script errors

    # On a phone nothing overflows the viewport horizontally (wide tables scroll in their cards).
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _login(phone, live_server, "wh-office")
    phone.goto(live_server + URL)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    shot(phone, "stars-04-phone")
