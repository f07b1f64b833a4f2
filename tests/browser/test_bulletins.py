"""周报通报 in Chromium on the demo: the list (the demo's weekly bulletin), an on-demand
bulletin issued and run by the worker, the printable page (print media on A4) and the
Excel download; the same list and bulletin on a phone."""

import io

from openpyxl import load_workbook
from playwright.sync_api import expect
from rq import SimpleWorker

from app.extensions import db
from tests.browser.conftest import SHOTS
from tests.browser.pages import login as _login
from workflows.worker import build_worker

LIST = "/plans/weihai-1313/bulletins"


def _watch_errors(page):
    """Script errors, CSP refusals and failed requests (the browser's favicon probe aside)."""
    errors = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def response(r):
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            errors.append(f"{r.status} {r.url}")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", response)
    return errors


def test_bulletins_in_chromium(app, live_server, browser, shot):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors = _watch_errors(page)
    _login(page, live_server, "wh-leader")
    page.goto(live_server + LIST)
    expect(page.get_by_role("heading", name="周报通报")).to_be_visible()
    rows = page.get_by_test_id("bulletins").locator("tbody tr")
    expect(rows).to_have_count(1)  # the demo's weekly bulletin of 2021-03-15
    expect(rows.first).to_contain_text("2021年3月15日")
    expect(rows.first).to_contain_text("周报")
    shot(page, "bulletins-01-list")

    page.get_by_role("button", name="立即生成临时通报").click()
    expect(page.get_by_role("alert")).to_contain_text("已提交生成临时通报")
    expect(page.get_by_test_id("job-state")).to_contain_text("临时通报已在队列中")
    with app.app_context():  # what the worker does
        build_worker(app, ["default"], worker_class=SimpleWorker).work(burst=True)
        db.session.remove()
    page.reload()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("临时通报")
    expect(rows.first).to_contain_text("威海市智慧城市建设领导小组")
    expect(page.get_by_test_id("job-state")).to_have_count(0)
    red = rows.first.locator("td").nth(2).inner_text()

    rows.first.get_by_role("link", name="2021年3月15日").click()
    bulletin = page.get_by_test_id("bulletin")
    expect(bulletin.get_by_role("heading", level=1)).to_contain_text("临时通报")
    expect(page.get_by_test_id("counts")).to_contain_text(f"红 {red}")
    expect(page.get_by_test_id("p-target")).to_be_visible()
    expect(page.get_by_test_id("no-previous")).to_be_visible()  # the weekly one is of this week
    items = bulletin.locator("table.items tbody tr.row-red")
    expect(items).to_have_count(int(red))
    expect(page.get_by_role("button", name="打印 / 另存为 PDF")).to_be_visible()
    shot(page, "bulletins-02-page")

    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="打印 / 另存为 PDF")).to_be_hidden()
    shot(page, "bulletins-03-print")
    pdf = page.pdf(format="A4", print_background=True)
    (SHOTS / "bulletins-03-print.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.get_by_test_id("xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    assert wb.sheetnames == ["概况", "红黄事项", "考评"]
    overview = {r[0]: r[1] for r in wb["概况"].iter_rows(values_only=True) if r and r[0]}
    assert overview["红"] == int(red)
    p_target = page.get_by_test_id("p-target").inner_text()
    assert overview["到 2021年10月31日 达到 4 星的概率"] == p_target
    assert sum(1 for r in wb["红黄事项"].iter_rows(min_row=2, values_only=True) if r[0] == "红") == int(red)

    # the 考评 page the bulletin's table comes from
    page.goto(live_server + "/plans/weihai-1313/assessment")
    expect(page.get_by_test_id("assessment")).to_be_visible()
    page.get_by_role("link", name="逾期未完成").click()
    assert "sort=" in page.url
    shot(page, "bulletins-04-assessment")
    page.goto(live_server + "/plans/weihai-1313/assessment?view=monthly")
    shot(page, "bulletins-05-monthly")
    assert errors == []

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    _login(phone, live_server, "wh-leader")
    phone.goto(live_server + LIST)
    expect(phone.get_by_test_id("bulletins")).to_be_visible()
    shot(phone, "bulletins-06-phone-list")
    newest = phone.get_by_test_id("bulletins").locator("tbody tr").first
    newest.get_by_role("link", name="2021年3月15日").click()
    expect(phone.get_by_test_id("p-target")).to_be_visible()
    shot(phone, "bulletins-07-phone-page")
    phone.goto(live_server + "/plans/weihai-1313/assessment")
    shot(phone, "bulletins-08-phone-assessment")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
