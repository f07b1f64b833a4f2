"""甘特图 and 指标走势图 in Chromium on the demo plans, as the leading group: drawn by the
vendored ECharts under the self-only CSP (no console errors, no CSP violations), zoom by
year and quarter, grouping by node and department, the today line and the critical bars
drawn; then the indicator charts, also at phone width."""

from datetime import date, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Extension, Milestone, Plan, User
from tests.browser.conftest import SHOTS

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""

# What zrender has on the canvas: the critical bars (dark red frame) and the texts drawn.
DRAWN = """() => {
  const list = window.ganttChart.getZr().storage.getDisplayList(true);
  const critical = list.filter(e => e.type === 'rect' && e.style && e.style.stroke === '#7f1d1d'
    && e.style.lineWidth >= 2).length;
  const baseline = list.filter(e => e.type === 'rect' && e.style && e.style.fill === '#6b7280').length;
  const texts = list.filter(e => e.style && typeof e.style.text === 'string').map(e => e.style.text);
  return {critical, baseline, texts};
}"""


def _load_demo(app):
    """The demo plans, one Weihai milestone extended by 61 days, a run stored per plan.
    ({plan code: the run's graph}, the extended milestone's id)."""
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        m = db.session.scalars(
            select(Milestone)
            .join(Plan)
            .where(Plan.code == "weihai-1313", Milestone.status != "done", Milestone.due_date > clock.today())
            .order_by(Milestone.due_date, Milestone.id)
        ).first()
        office = db.session.scalar(select(User).where(User.username == "wh-office"))
        new_due = m.due_date + timedelta(days=61)
        db.session.add(
            Extension(
                milestone=m, old_due=m.due_date, new_due=new_due, reason="测试", granted_by_id=office.id
            )
        )
        m.due_date = new_due
        db.session.commit()
        extended = m.id
        paths = {}
        for plan in db.session.scalars(select(Plan)):
            run, _ = store_snapshot(plan, clock.today(), samples=200)  # what the worker would store
            paths[plan.code] = run.result["graph"]
        db.session.remove()
    return paths, extended


def _page(browser, base, username, width=1440, height=900):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    errors = []

    def console(message):
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(WATCH_CSP)
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page, errors


def _rendered(page, by, rows):
    canvas = page.locator("#gantt")
    expect(canvas).to_have_attribute("data-rendered", "true")
    expect(canvas).to_have_attribute("data-by", by)
    expect(canvas).to_have_attribute("data-row-count", str(rows))


def _window(page):
    """The x window (ms) of the time slider."""
    return page.evaluate(
        "(() => { const z = window.ganttChart.getOption().dataZoom[0];"
        " return [z.startValue, z.endValue]; })()"
    )


def _ms(d: date) -> int:
    return (d - date(1970, 1, 1)).days * 86400000


def test_gantt_zoom_grouping_today_and_critical_chain(app, live_server, browser, shot):
    graphs, extended = _load_demo(app)
    graph = graphs["weihai-1313"]
    path, rows = graph["critical_path"], len(graph["milestones"])
    assert path and rows == 91
    page, errors = _page(browser, live_server, "wh-leader")
    page.goto(f"{live_server}/plans/weihai-1313")
    page.get_by_role("link", name="甘特图").click()
    expect(page.get_by_role("heading", name="甘特图")).to_be_visible()
    _rendered(page, "node", rows)
    expect(page.get_by_test_id("gantt-legend")).to_contain_text("今天（2021年3月15日）")

    # The critical chain of the stored run is what is drawn in dark red.
    assert page.locator("#gantt").get_attribute("data-critical-count") == str(len(path))
    drawn = page.evaluate(DRAWN)
    assert drawn["critical"] == len(path)
    assert drawn["baseline"] == 1  # the one extended milestone's baseline
    expect(page.get_by_test_id("extended").locator(f"tr[data-milestone='{extended}']")).to_have_count(1)
    # The today line, labelled with the pinned date.
    assert "今天 2021年3月15日" in drawn["texts"]
    line = page.evaluate("window.ganttChart.getOption().series[0].markLine.data[0].xAxis")
    assert line == _ms(date(2021, 3, 15))
    assert any(t.endswith("年") for t in drawn["texts"])  # year bands
    start, end = _window(page)
    assert start < _ms(date(2020, 1, 1)) and end > _ms(date(2022, 12, 31))
    # Hover a critical bar: its tooltip (rich text on the canvas) names it.
    k = page.evaluate(
        "window.ganttChart.getOption().series[0].data.findIndex((d, i) => {"
        " const t = window.ganttChart.getOption().yAxis[0].axisLabel.formatter(i, i);"
        " return t.startsWith('{c|'); })"
    )
    assert k >= 0
    page.evaluate(f"window.ganttChart.dispatchAction({{type: 'showTip', seriesIndex: 0, dataIndex: {k}}})")
    page.wait_for_timeout(300)
    texts = page.evaluate(DRAWN)["texts"]
    assert "关键路径" in texts and any(t.startswith("完成期限：") for t in texts), texts[-8:]
    shot(page, "gantt-01-weihai-year")

    # 按季度: a 15-month window from the quarter before today's, quarter bands.
    page.get_by_test_id("zoom-quarter").click()
    expect(page.locator("#gantt")).to_have_attribute("data-zoom", "quarter")
    assert _window(page) == [_ms(date(2020, 10, 1)), _ms(date(2022, 1, 1))]
    assert any("季度" in t for t in page.evaluate(DRAWN)["texts"])
    expect(page.get_by_test_id("zoom-quarter")).to_have_attribute("aria-pressed", "true")
    page.locator("#gantt").screenshot(path=str(SHOTS / "gantt-02-weihai-quarter.png"))

    # 按牵头部门: the same milestones under department headers; zoom kept.
    page.get_by_test_id("by-department").click()
    _rendered(page, "department", rows)
    assert "by=department" in page.url
    data = page.evaluate("fetch('/plans/weihai-1313/gantt.json?by=department').then(r => r.json())")
    labels = page.evaluate("window.ganttChart.getOption().yAxis[0].data.length")
    assert labels == rows + len(data["groups"])
    assert page.evaluate(DRAWN)["critical"] == len(path)
    assert _window(page) == [_ms(date(2020, 10, 1)), _ms(date(2022, 1, 1))]
    page.locator("#gantt").screenshot(path=str(SHOTS / "gantt-03-weihai-department-quarter.png"))

    page.get_by_test_id("zoom-year").click()
    expect(page.locator("#gantt")).to_have_attribute("data-zoom", "year")
    assert _window(page)[0] < _ms(date(2020, 1, 1))
    page.get_by_test_id("by-node").click()
    _rendered(page, "node", rows)
    shot(page, "gantt-04-weihai-node-year")

    # The indicator charts, from the plan page.
    page.goto(f"{live_server}/plans/weihai-1313")
    page.get_by_role("link", name="指标走势图").click()
    expect(page.get_by_role("heading", name="指标走势图")).to_be_visible()
    first = page.locator(".ind-chart").first
    first.scroll_into_view_if_needed()  # drawn as they come into view
    expect(first).to_have_attribute("data-rendered", "true")
    charts = page.locator(".ind-chart").count()
    assert charts > 10
    shot_viewport(page, "charts-01-weihai")
    # Scroll through: every chart gets drawn; some with target lines.
    for k in range(charts):
        page.locator(".ind-chart").nth(k).scroll_into_view_if_needed()
    expect(page.locator(".ind-chart[data-rendered='true']")).to_have_count(charts)
    with_targets = page.evaluate(
        "[...document.querySelectorAll('.ind-chart')].filter(e => Number(e.dataset.targets) > 0).length"
    )
    assert with_targets > 5
    assert page.get_by_test_id("no-chart").count() > 0  # e.g. the descriptive ones say why

    assert page.evaluate("window.__csp") == []
    assert errors == []


def shot_viewport(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_gantt_and_charts_at_phone_width(app, live_server, browser, shot):
    graph = _load_demo(app)[0]["zhangqiu-3n"]
    page, errors = _page(browser, live_server, "zq-leader", width=390, height=844)
    page.goto(f"{live_server}/plans/zhangqiu-3n/gantt")
    _rendered(page, "node", len(graph["milestones"]))
    box = page.locator("#gantt").bounding_box()
    assert box["width"] <= 390
    shot(page, "gantt-05-zhangqiu-phone")
    page.get_by_test_id("zoom-quarter").click()
    expect(page.locator("#gantt")).to_have_attribute("data-zoom", "quarter")
    page.locator("#gantt").screenshot(path=str(SHOTS / "gantt-06-zhangqiu-phone-quarter.png"))

    page.goto(f"{live_server}/plans/zhangqiu-3n/indicator-charts")
    page.locator(".ind-chart").first.scroll_into_view_if_needed()
    expect(page.locator(".ind-chart").first).to_have_attribute("data-rendered", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot_viewport(page, "charts-02-zhangqiu-phone")
    # A compound indicator: one line per part, a legend naming the parts.
    parts = page.locator(".ind-chart").nth(1)
    parts.scroll_into_view_if_needed()
    expect(parts).to_have_attribute("data-rendered", "true")
    parts.screenshot(path=str(SHOTS / "charts-03-zhangqiu-phone-parts.png"))
    assert page.evaluate("window.__csp") == []
    assert errors == []
