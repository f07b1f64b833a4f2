"""依赖关系图 in Chromium on the demo plans: the picture is drawn from graph.json
under the self-only CSP (no console errors, no CSP violations), the filters work,
the critical path is highlighted, and a click on a node opens the milestone."""

from playwright.sync_api import expect
from sqlalchemy import func, select

from app import clock
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Milestone, Plan

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def _load_demo(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        counts = {}
        for plan in db.session.scalars(select(Plan)):
            run, _ = store_snapshot(plan, clock.today(), samples=200)  # what the worker would store
            graph = run.result["graph"]
            counts[plan.code] = {
                "nodes": len(graph["milestones"]),
                "open": db.session.scalar(
                    select(func.count(Milestone.id)).where(
                        Milestone.plan_id == plan.id, Milestone.status != "done"
                    )
                ),
                "path": graph["critical_path"],
            }
        db.session.remove()
    return counts


def _page(browser, base, username):
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
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


def _drawn(page, count):
    canvas = page.locator("#graph")
    expect(canvas).to_have_attribute("data-rendered", "true")
    expect(canvas).to_have_attribute("data-node-count", str(count))
    assert page.evaluate("window.cy.nodes().not('.hidden').length") == count


def test_weihai_graph_draws_filters_and_opens_a_milestone(app, live_server, browser, shot):
    counts = _load_demo(app)["weihai-1313"]
    assert counts["nodes"] == 91
    page, errors = _page(browser, live_server, "wh-office")

    page.goto(f"{live_server}/plans/weihai-1313")
    page.get_by_role("link", name="依赖关系图").click()
    expect(page.get_by_role("heading", name="依赖关系图")).to_be_visible()
    expect(page.get_by_test_id("computed-at").first).to_contain_text("测算于")
    _drawn(page, 91)
    assert page.evaluate("window.cy.edges().not('.hidden').length") > 40
    # Every node was placed inside the canvas, none on top of another.
    boxes = page.evaluate(
        "window.cy.nodes().map(n => { const b = n.renderedBoundingBox(); return [b.x1, b.y1, b.x2, b.y2]; })"
    )
    assert len({(round(b[0]), round(b[1])) for b in boxes}) == 91
    assert page.evaluate("window.cy.zoom()") > 0.6, "91 milestones should still be legible when fitted"
    shot(page, "graph-01-weihai")
    page.locator("#graph").screenshot(path=str(_shots() / "graph-01-weihai-canvas.png"))

    page.select_option("#graph-filter", "open")
    _drawn(page, counts["open"])
    page.check("#graph-hide-isolated")
    isolated_hidden = int(page.locator("#graph").get_attribute("data-node-count"))
    assert 0 < isolated_hidden < counts["open"]
    page.locator("#graph").screenshot(path=str(_shots() / "graph-02-weihai-open.png"))
    page.uncheck("#graph-hide-isolated")

    # The eight milestones overdue since 2020-12-31 are behind (orange), and the critical path
    # names an overdue one (red), in the picture and in the table below it.
    overdue = page.evaluate("window.cy.nodes().filter(n => n.data('info').overdue).map(n => Number(n.id()))")
    assert len(overdue) == 8
    assert all(page.evaluate(f"window.cy.getElementById('{i}').hasClass('late')") for i in overdue)
    assert counts["path"] and set(counts["path"]) & set(overdue)
    critical = page.evaluate("window.cy.nodes('.critical').map(n => Number(n.id()))")
    assert sorted(critical) == sorted(counts["path"])
    label = page.evaluate(f"window.cy.getElementById('{overdue[0]}').data('label')")
    assert "逾期" in label and "余" not in label.split("\n")[1]
    expect(page.get_by_test_id("critical-path").locator("tbody tr")).to_have_count(len(counts["path"]))
    expect(page.get_by_test_id("overdue-count")).to_contain_text("8 个里程碑逾期")
    page.select_option("#graph-filter", "risk")
    assert int(page.locator("#graph").get_attribute("data-node-count")) >= 8
    page.select_option("#graph-filter", "critical")
    _drawn(page, len(counts["path"]))

    # Click a node (on the canvas) → its milestone page, with the 上下游 section.
    page.select_option("#graph-filter", "open")
    _drawn(page, counts["open"])
    node_id = page.evaluate(  # one with an open predecessor, so 阻碍本里程碑的 lists it
        "window.cy.nodes().not('.hidden').filter(n => n.incomers('node').not('.hidden').length > 0)[0].id()"
    )
    point = page.evaluate(
        "id => { const p = window.cy.getElementById(id).renderedPosition();"
        " const r = document.getElementById('graph').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        node_id,
    )
    page.mouse.click(point[0], point[1])
    page.wait_for_url(f"**/milestones/{node_id}")
    links = page.locator("#links")
    expect(links.get_by_role("heading", name="上下游")).to_be_visible()
    expect(links.get_by_test_id("upstream")).to_be_visible()
    expect(links.get_by_test_id("own-forecast")).to_contain_text("本里程碑预计完成")
    shot(page, "graph-03-weihai-milestone")

    assert page.evaluate("window.__csp") == []
    assert errors == []


def test_zhangqiu_critical_path_is_highlighted(app, live_server, browser, shot):
    counts = _load_demo(app)["zhangqiu-3n"]
    assert counts["path"], "the demo's 章丘 plan has a critical path"
    page, errors = _page(browser, live_server, "zq-office")
    page.goto(f"{live_server}/plans/zhangqiu-3n/graph")
    _drawn(page, counts["nodes"])
    critical = page.evaluate("window.cy.nodes('.critical').map(n => Number(n.id()))")
    assert sorted(critical) == sorted(counts["path"])
    width = page.evaluate("window.cy.nodes('.critical')[0].style('border-width')")
    assert float(width.rstrip("px")) >= 4
    table = page.get_by_test_id("critical-path")
    expect(table.locator("tbody tr")).to_have_count(len(counts["path"]))
    shot(page, "graph-04-zhangqiu")

    page.select_option("#graph-filter", "critical")
    _drawn(page, len(counts["path"]))
    assert page.evaluate("window.__csp") == []
    assert errors == []

    # Another region's plan answers 404, page and data alike.
    assert page.goto(f"{live_server}/plans/weihai-1313/graph").status == 404
    assert page.goto(f"{live_server}/plans/weihai-1313/graph.json").status == 404


def _shots():
    from tests.browser.conftest import SHOTS

    return SHOTS
