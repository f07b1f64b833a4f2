"""A big plan's pages carry only what they show: the tree opens closed and loads a node on
demand (paged), the milestone page's predecessor picker searches (≤ 20 matches), graph.json
and gantt.json come aggregated by node until zoomed. Sizes and query counts must not grow
with the number of milestones in the plan (150 against 400 here)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Department, Dependency, Milestone, Plan, PlanNode
from app.plans import graph_zoom
from tests.conftest import csrf_from, login
from tests.factories import build_world


def grow(world, n: int) -> dict:
    """Add n milestones to plan-a under a small tree (2 roots × 3 children), in chains of 5
    inside each node. Returns the ids of the tree and of one milestone with no dependency."""
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    police = db.session.scalar(select(Department).where(Department.name == "甲市公安局"))
    roots, leaves = [], []
    for r in range(2):
        root = PlanNode(plan_id=plan.id, key=f"big-{r}", kind="system", title=f"体系{r}", position=10 + r)
        db.session.add(root)
        db.session.flush()
        roots.append(root.id)
        for c in range(3):
            leaf = PlanNode(
                plan_id=plan.id,
                parent_id=root.id,
                key=f"big-{r}-{c}",
                kind="task",
                title=f"任务{r}-{c}",
                position=c,
            )
            db.session.add(leaf)
            db.session.flush()
            leaves.append(leaf.id)
    made = []
    for i in range(n):
        due = date(2021, 1, 1) + timedelta(days=i % 700)
        m = Milestone(
            plan_id=plan.id,
            node_id=leaves[i % len(leaves)],
            key=f"big-m{i}",
            title=f"大计划里程碑{i:04d}",
            due_date=due,
            baseline_due_date=due,
            lead_department_id=police.id,
        )
        db.session.add(m)
        made.append(m)
    db.session.flush()
    by_leaf = {}
    for m in made:
        by_leaf.setdefault(m.node_id, []).append(m)
    for ms in by_leaf.values():
        for a, b in zip(ms, ms[1:], strict=False):
            if ms.index(b) % 5:
                db.session.add(Dependency(plan_id=plan.id, predecessor_id=a.id, successor_id=b.id))
    lone = Milestone(
        plan_id=plan.id,
        node_id=leaves[0],
        key="big-lone",
        title="独立里程碑",
        due_date=date(2021, 6, 1),
        baseline_due_date=date(2021, 6, 1),
        lead_department_id=police.id,
    )
    db.session.add(lone)
    db.session.commit()
    return {"roots": roots, "leaves": leaves, "lone": lone.id, "plan_id": plan.id, "first": made[0].id}


def build(app, n):
    with app.app_context():
        w = build_world()
        db.session.commit()
        return w, grow(w, n)


def measure(app, client, url) -> tuple[int, int, str]:
    """(response size, SQL statements, text) of one GET."""
    count = [0]

    def on_execute(*_args):
        count[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200, url
    return len(response.data), count[0], response.get_data(as_text=True)


def reset(app):
    from tests.conftest import empty_tables

    with app.app_context():
        empty_tables()


def test_tree_and_milestone_pages_do_not_grow_with_the_plan(app, client):
    sizes = {}
    for n in (150, 400):  # above OPEN_ALL_MAX: a small plan shows its whole tree
        _w, t = build(app, n)
        login(client, "office")
        tree = measure(app, client, "/plans/plan-a")
        tree_again = measure(app, client, "/plans/plan-a")
        ms = measure(app, client, f"/milestones/{t['lone']}")
        node = measure(app, client, f"/plans/plan-a/nodes/{t['leaves'][0]}/children")
        sizes[n] = (tree, tree_again, ms, node)
        assert f"<b>{n + 5}</b><span>里程碑</span>" in tree[2]  # the totals count every milestone
        assert "大计划里程碑" not in tree[2]  # closed: no milestone rows on the page
        assert 'data-testid="predecessor-input"' in ms[2]
        assert "大计划里程碑0003" not in ms[2]  # the picker lists nothing until asked
        client.post("/logout", data={"csrf_token": csrf_from(client, "/notifications")})
        reset(app)
    small, big = sizes[150], sizes[400]
    assert big[3][2].count("<tr>") == 50  # the node's own milestones: one page of them
    for i, name in enumerate(("tree", "tree (cached)", "milestone")):
        assert big[i][0] - small[i][0] < 300, (name, small[i][0], big[i][0])  # a few digits more
        assert big[i][1] <= small[i][1], (name, small[i][1], big[i][1])  # no more queries
    assert big[1][1] < big[0][1]  # the summary is kept while the plan does not change


def test_node_fragment_is_paged_and_focus_works_without_javascript(app, client):
    _w, t = build(app, 130)  # 22 on each leaf: one page; the first leaf holds the lone one too
    with app.app_context():
        leaf = t["leaves"][0]
        for i in range(60):  # push the first leaf over one page
            db.session.add(
                Milestone(
                    plan_id=t["plan_id"],
                    node_id=leaf,
                    key=f"extra-{i}",
                    title=f"追加里程碑{i:03d}",
                    due_date=date(2022, 1, 1),
                    baseline_due_date=date(2022, 1, 1),
                    lead_department_id=db.session.scalar(select(Milestone.lead_department_id).limit(1)),
                )
            )
        db.session.commit()
    login(client, "office")
    root = client.get(f"/plans/plan-a/nodes/{t['roots'][0]}/children").get_data(as_text=True)
    assert f'id="node-{leaf}"' in root and "大计划里程碑" not in root  # children closed
    first = client.get(f"/plans/plan-a/nodes/{leaf}/children").get_data(as_text=True)
    assert first.count("<tr>") == 50 and "第 1 / 2 页" in first
    second = client.get(f"/plans/plan-a/nodes/{leaf}/children?page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in second and 0 < second.count("<tr>") <= 50
    page = client.get(f"/plans/plan-a?node={leaf}&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in page and f'id="node-{t["roots"][0]}" data-node="{t["roots"][0]}" open' in page
    # Another plan's node, or a node id that does not exist: 404.
    with app.app_context():
        other = db.session.scalar(select(PlanNode.id).join(Plan).where(Plan.code == "plan-b"))
    assert client.get(f"/plans/plan-a/nodes/{other}/children").status_code == 404
    assert client.get("/plans/plan-a/nodes/999999/children").status_code == 404
    login(client, "other_office")  # region B: plan-a is out of scope
    assert client.get(f"/plans/plan-a/nodes/{leaf}/children").status_code == 404


def test_small_plan_shows_its_whole_tree(app, client):
    _w, t = build(app, 40)
    login(client, "office")
    page = client.get("/plans/plan-a").get_data(as_text=True)
    assert page.count("大计划里程碑") == 40 and 'data-src="' not in page.split('data-testid="plan-tree"')[1]


def test_tree_counts_follow_changes(app, client):
    _w, t = build(app, 150)
    login(client, "office")
    before = client.get("/plans/plan-a").get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Milestone, t["lone"])
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 5, 1)
        db.session.commit()
    after = client.get("/plans/plan-a").get_data(as_text=True)
    assert before != after
    assert "已完成</span>" in after


def test_predecessor_picker_searches_the_same_plan(app, client):
    w, t = build(app, 60)
    login(client, "office")
    url = f"/milestones/{t['lone']}/predecessor-options"
    found = client.get(url, query_string={"q": "大计划里程碑00"}).get_json()
    assert 0 < len(found) <= 20
    assert all(f["title"].startswith("大计划里程碑00") for f in found)
    assert len(client.get(url).get_json()) == 20  # no text: the first 20, never all
    assert client.get(url, query_string={"q": f"#{t['first']}"}).get_json()[0]["id"] == t["first"]
    assert client.get(url, query_string={"q": "乙县一网通办"}).get_json() == []  # another plan
    assert client.get(url, query_string={"q": "100%_"}).get_json() == []  # wildcards are literal
    # Control characters are dropped, not sent to the database (a NUL is a 500 on PostgreSQL).
    nul = client.get(url, query_string={"q": "大计划里程碑00\x00"})
    assert nul.status_code == 200 and nul.get_json() == found
    # The no-JS form: a number, "#id 标题" as the picker fills it, or a code.
    token = csrf_from(client, f"/milestones/{t['lone']}")
    post = f"/milestones/{t['lone']}/dependencies"
    r = client.post(post, data={"csrf_token": token, "predecessor_id": f"#{t['first']} 随便", "lag_days": 0})
    assert r.status_code == 302
    r = client.post(
        post, data={"csrf_token": token, "predecessor_id": "big-m1", "lag_days": 0}, follow_redirects=True
    )
    assert "已添加前置里程碑" in r.get_data(as_text=True)
    r = client.post(
        post,
        data={"csrf_token": token, "predecessor_id": str(w["m_other"]), "lag_days": 0},
        follow_redirects=True,
    )
    assert "找不到该前置里程碑" in r.get_data(as_text=True)  # plan-b's milestone
    with app.app_context():
        preds = set(
            db.session.scalars(select(Dependency.predecessor_id).where(Dependency.successor_id == t["lone"]))
        )
        assert len(preds) == 2
    login(client, "police")  # a department user cannot edit the plan
    assert client.get(url).status_code in (403, 404)


@pytest.fixture
def small_detail(monkeypatch):
    monkeypatch.setattr(graph_zoom, "DETAIL_MAX", 40)


def test_graph_and_gantt_aggregate_by_node_until_zoomed(app, client, small_detail):
    sizes = {}
    for n in (100, 400):
        _w, t = build(app, n)
        login(client, "office")
        graph = client.get("/plans/plan-a/graph.json").get_json()
        assert graph["level"] == "nodes"
        assert {x["node_id"] for x in graph["nodes"]} >= set(t["roots"])
        assert sum(x["total"] for x in graph["nodes"]) == n + 5  # every milestone counted
        gantt = client.get("/plans/plan-a/gantt.json").get_json()
        assert gantt["level"] == "nodes" and all(r["kind"] == "summary" for r in gantt["rows"])
        zoomed = client.get(f"/plans/plan-a/graph.json?node={t['roots'][0]}").get_json()
        leaf = client.get(f"/plans/plan-a/graph.json?node={t['leaves'][1]}").get_json()
        gleaf = client.get(f"/plans/plan-a/gantt.json?node={t['leaves'][1]}").get_json()
        assert leaf["level"] == "milestones" or n > 200
        assert client.get("/plans/plan-a/graph.json?node=abc").status_code == 404
        assert client.get("/plans/plan-a/graph?node=999999").status_code == 404
        page = client.get(f"/plans/plan-a/graph?node={t['roots'][0]}")
        assert page.status_code == 200
        sizes[n] = [len(client.get(u).data) for u in ("/plans/plan-a/graph", "/plans/plan-a/gantt")]
        sizes[n] += [len(str(graph)), len(str(gantt)), len(str(zoomed))]
        del gleaf
        client.post("/logout", data={"csrf_token": csrf_from(client, "/notifications")})
        reset(app)
    for small, big in zip(sizes[100], sizes[400], strict=True):
        assert big - small < 400, sizes
