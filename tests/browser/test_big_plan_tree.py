"""A big plan in Chromium: the tree opens closed, a node loads its inside when opened
(plan_tree.js, under the self-only CSP), its milestones page on the server; the graph
comes by node and a click zooms into one; the predecessor picker offers matches as you type."""

from playwright.sync_api import expect

from app.extensions import db
from app.models import PlanNode
from tests.browser.conftest import SHOTS
from tests.factories import PASSWORD
from tests.plans.test_big_plan import build

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def _page(browser, base):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors = []

    def console(message):  # failed loads are checked by their responses, below
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def response(r):
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            errors.append(f"{r.status} {r.url}")

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(WATCH_CSP)
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("office")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    return page, errors


def test_big_plan_tree_expands_a_node_on_demand(app, live_server, browser, shot):
    _w, t = build(app, 600)
    with app.app_context():
        leaf = db.session.get(PlanNode, t["leaves"][0])
        leaf_id, root_id = leaf.id, leaf.parent_id
    page, errors = _page(browser, live_server)
    page.goto(f"{live_server}/plans/plan-a")
    root = page.locator(f"#node-{root_id}")
    expect(root).to_be_visible()
    assert page.locator("details.node[open]").count() == 0  # closed
    root.locator("summary > strong").first.click()  # not the counts' links
    child = page.locator(f"#node-{leaf_id}")
    expect(child).to_be_visible()
    child.locator("summary > strong").first.click()
    rows = page.locator(f'[data-testid="node-milestones-{leaf_id}"] tr')
    expect(rows).to_have_count(50)
    pager = page.locator(f'[data-testid="node-pager-{leaf_id}"]').first
    expect(pager).to_contain_text("第 1 / 3 页")
    shot(page, "big-plan-01-tree-expanded")
    pager.get_by_role("link", name="下一页").click()
    expect(page.locator(f'[data-testid="node-pager-{leaf_id}"]').first).to_contain_text("第 2 / 3 页")
    assert page.evaluate("window.__csp") == [] and errors == []

    # The graph: by node, a click zooms into a node.
    page.goto(f"{live_server}/plans/plan-a/graph")
    canvas = page.locator("#graph")
    expect(canvas).to_have_attribute("data-rendered", "true")
    assert int(canvas.get_attribute("data-node-count")) <= 10
    expect(page.locator("#graph-status")).to_contain_text("按节点汇总")
    page.locator("#graph").screenshot(path=str(SHOTS / "big-plan-02-graph-by-node.png"))
    page.goto(f"{live_server}/plans/plan-a/graph?node={leaf_id}")
    expect(canvas).to_have_attribute("data-rendered", "true")
    assert int(canvas.get_attribute("data-node-count")) >= 100
    shot(page, "big-plan-03-graph-zoomed")

    # The predecessor picker: matches from the server as you type.
    page.goto(f"{live_server}/milestones/{t['lone']}")
    page.locator("summary", has_text="添加前置里程碑").click()
    box = page.get_by_test_id("predecessor-input")
    box.fill("大计划里程碑001")
    expect(page.locator("#predecessor-options option")).to_have_count(10)
    value = page.locator("#predecessor-options option").first.get_attribute("value")
    box.fill(value)
    page.get_by_role("button", name="添加依赖").click()
    expect(page.locator(".flash.success")).to_contain_text("已添加前置里程碑")
    assert page.evaluate("window.__csp") == [] and errors == []
