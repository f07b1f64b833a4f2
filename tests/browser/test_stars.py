"""The 星级测算 page in Chromium: the target question answered first, then a what-if
filled in the form (one indicator value and one milestone) and its result next to the
stored run; the same on a phone."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.engines.scoring import score
from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Plan
from app.stars.present import prob
from tests.browser.conftest import SHOTS
from tests.browser.pages import login as _login
from tests.conftest import TEST_AS_OF

URL = "/plans/weihai-1313/stars"
SAMPLES = 2000


def _watch_errors(page):
    """Script errors and CSP refusals (HTTP errors such as the expected 400 are not counted)."""
    errors = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _view(page, name):
    """What the user sees now (the viewport), next to the full-page shots."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _stored(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
        run, _ = store_snapshot(plan, TEST_AS_OF, samples=SAMPLES)  # what the worker would do
        result = run.result
        db.session.remove()
    return result


def _answer_first(page, result, height):
    fc = result["forecast"]
    answer = page.get_by_test_id("answer")
    expect(answer.locator(".question")).to_have_text("到 2021年10月31日（考核日）能否达到 4 星？")
    expect(page.get_by_test_id("p-target")).to_have_text(prob(fc["p_target"]))
    hits = round(fc["p_target"] * SAMPLES)
    expect(page.get_by_test_id("p-target-count")).to_have_text(f"{SAMPLES} 次模拟中 {hits} 次达到")
    box = page.get_by_test_id("p-target").bounding_box()
    assert box["y"] + box["height"] < height, "P(target) must be on the first screen"
    expect(page.get_by_test_id("median-gap")).to_contain_text(f"中位数 {fc['p50']} 分")
    expect(page.get_by_test_id("ceiling")).to_have_text(
        f"{fc['ceiling']['total']} 分（{fc['ceiling']['stars']} 星）"
    )
    expect(page.get_by_test_id("as-of")).to_have_text("数据截至 2021年3月15日")


def test_stars_page_and_what_if_in_chromium(app, live_server, browser, shot):
    result = _stored(app)
    fc = result["forecast"]
    total = fc["current"]["total"]
    gained = (
        score(result["standard"], {"1": 95})["indicators"]["1"]["points"]
        - (result["current"]["indicators"]["1"]["points"])
    )
    assert result["values"]["1"] < 95 and gained > 0

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors = _watch_errors(page)
    _login(page, live_server, "wh-office")
    page.goto(live_server + URL)
    expect(page.get_by_role("heading", name="星级测算")).to_be_visible()
    _answer_first(page, result, 900)
    # Why the ceiling is where it is: every untracked indicator links to its direct entry.
    untracked = page.get_by_test_id("untracked").locator("a")
    expect(untracked).to_have_count(len(fc["untracked"]))
    expect(untracked.first).to_have_attribute(
        "href", f"/plans/weihai-1313/standard-values#std-{fc['untracked'][0]}"
    )
    expect(page.get_by_test_id("plan-target").get_by_role("heading")).to_have_text("达到 4 星的最低成本方案")
    expect(page.get_by_test_id("target-cost")).to_contain_text("档")
    shot(page, "stars-01-answer")

    # What-if: raise 家庭光纤入户率 to 95 % and assume the first open milestone done.
    form = page.get_by_test_id("what-if-form")
    form.locator("summary", has_text="基础设施").click()
    page.get_by_label("数值（%）").first.fill("95")
    first_done = form.locator('input[name="done"]').first
    title = first_done.get_attribute("aria-label").removeprefix("假设完成：")
    first_done.check()
    page.get_by_role("button", name="计算假设情形").click()
    wi = page.get_by_test_id("what-if-result")
    expect(wi).to_be_visible()
    expect(wi).to_contain_text("假设、未保存")
    expect(wi.get_by_test_id("what-if-assumptions")).to_contain_text(
        "第 1 项 家庭光纤入户率：假设今天测得 95%"
    )
    expect(wi.get_by_test_id("what-if-assumptions")).to_contain_text(f"里程碑“{title}”假设今天完成")
    current = wi.locator('tr[data-row="current"] td.assumed-col')
    expect(current).to_have_attribute("data-raw", str(total + gained))
    p_row = wi.locator('tr[data-row="p_target"]')
    expect(p_row.locator("th")).to_contain_text("2021年10月31日达到 4 星及以上的概率")
    expect(p_row.locator("td").first).to_have_text(prob(fc["p_target"]))  # the stored run, next to it
    assert page.url.endswith("/stars/what-if#what-if-result")
    expect(wi.locator("h3").first).to_be_in_viewport()  # the browser lands on the result
    expect(page.locator("#wi-1-value")).to_have_value("95")  # the form keeps what was typed
    expect(form.locator('input[name="done"]').first).to_be_checked()
    _view(page, "stars-02-what-if")

    # A bad value is refused, naming the indicator; the input stays.
    page.locator("#wi-1-value").fill("-5")
    page.get_by_role("button", name="计算假设情形").click()
    expect(page.get_by_test_id("what-if-errors")).to_contain_text(
        "标准第 1 项（家庭光纤入户率）：数值不能为负数"
    )
    expect(page.locator("#wi-1-value")).to_have_value("-5")
    expect(page.locator("#wi-1")).to_have_class("wi-ind has-error filled")
    _view(page, "stars-03-what-if-error")
    assert errors == [], errors  # no CSP violations, no script errors

    # On a phone the answer still comes first and nothing overflows horizontally.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _login(phone, live_server, "wh-office")
    phone.goto(live_server + URL)
    _answer_first(phone, result, 844)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    shot(phone, "stars-04-phone")
    _view(phone, "stars-04-phone-first-screen")
    form = phone.get_by_test_id("what-if-form")
    form.locator("summary", has_text="基础设施").click()
    phone.get_by_label("数值（%）").first.fill("95")
    phone.get_by_role("button", name="计算假设情形").click()
    expect(phone.get_by_test_id("what-if-result")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the what-if result is {width}px wide on a 390px phone"
    _view(phone, "stars-05-phone-what-if")
