"""甘特图: gantt.json carries baseline against current due dates, the dependencies, the
critical chain of the stored forecast run, today's date, estimated starts by the forecast
engine's rule, and a grouping by plan node or lead department; a fixed number of queries."""

import re
from datetime import date

import pytest
from sqlalchemy import event, select

from app import clock
from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Dependency, Extension, Milestone, Plan, PlanNode
from tests.conftest import login
from tests.factories import build_world


def _world():
    """build_world's chain m_late -> m_police -> m_far, made tight (as in test_graph_pages),
    with m_police extended from 2021-03-25 to 2021-04-05 and m_transport moved to a child
    node (智慧警务 › 交通子项)."""
    world = build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    plan.standard_code = "sd-city-2019"
    police = db.session.get(Milestone, world["m_police"])
    db.session.add(
        Extension(
            milestone=police,
            old_due=police.due_date,
            new_due=date(2021, 4, 5),
            reason="设备到货延迟",
            granted_by_id=world["office"],
        )
    )
    police.due_date = date(2021, 4, 5)  # baseline stays 2021-03-25
    far = db.session.get(Milestone, world["m_far"])
    far.due_date = far.baseline_due_date = date(2021, 4, 10)
    dep = db.session.scalar(select(Dependency).where(Dependency.predecessor_id == police.id))
    dep.lag_days = 10
    root = db.session.scalar(select(PlanNode).where(PlanNode.plan_id == plan.id))
    child = PlanNode(plan_id=plan.id, key="n1-1", kind="project", title="交通子项", parent=root, position=1)
    db.session.add(child)
    db.session.flush()
    db.session.get(Milestone, world["m_transport"]).node_id = child.id
    db.session.commit()
    world.ids.update(root=root.id, child=child.id)
    return world, plan


@pytest.fixture
def stored(app):
    with app.app_context():
        world, plan = _world()
        run, _ = store_snapshot(plan, clock.today(), samples=200)
        graph = run.result["graph"]
        db.session.remove()
    return world, graph


def test_gantt_json_baseline_dependencies_critical_chain_and_today(client, stored):
    world, graph = stored
    login(client, "leader")
    data = client.get("/plans/plan-a/gantt.json").get_json()

    assert data["today"] == "2021-03-15" and data["target_date"] == "2021-10-31"
    assert data["basis"] == "stored" and data["computed"] is True
    chain = [world["m_late"], world["m_police"], world["m_far"]]
    assert data["critical_path"] == graph["critical_path"] == chain

    rows = {r["id"]: r for r in data["rows"]}
    assert set(rows) == {world[k] for k in ("m_police", "m_late", "m_transport", "m_far")}
    police = rows[world["m_police"]]
    assert police["baseline_due"] == "2021-03-25" and police["due"] == "2021-04-05"
    assert police["extended"] is True
    assert police["extensions"] == [{"old_due": "2021-03-25", "new_due": "2021-04-05"}]
    assert rows[world["m_far"]]["extended"] is False
    for mid, row in rows.items():
        entry = graph["milestones"][str(mid)]
        assert row["critical"] == entry["critical"] == (mid in chain)
        assert row["forecast_finish"] == entry["forecast_finish"]
        assert row["url"] == f"/milestones/{mid}"

    # Starts by the forecast engine's rule: the latest earlier predecessor's due date, else due - 180.
    assert police["start"] == "2021-02-28"  # m_late's due date
    assert rows[world["m_far"]]["start"] == "2021-04-05"  # m_police's (extended) due date
    assert rows[world["m_late"]]["start"] == "2020-09-01"  # 2021-02-28 - 180 days
    late = rows[world["m_late"]]
    assert late["overdue"] and late["days_to_due"] == -15 and not late["done"]
    # Bars take the 三色 the other pages show.
    assert (late["colour"], late["colour_label"]) == ("red", "红") and late["reasons"][0] == "逾期 15 天"
    page = client.get("/plans/plan-a").get_data(as_text=True)
    for mid, row in rows.items():
        assert f'<a href="/milestones/{mid}">' in page
        tree_row = page.split(f'<a href="/milestones/{mid}">')[1].split("</tr>")[0]
        assert f'data-colour="{row["colour"]}"' in tree_row, mid

    edges = {(e["pred"], e["succ"]): e for e in data["edges"]}
    assert set(edges) == {(world["m_late"], world["m_police"]), (world["m_police"], world["m_far"])}
    assert edges[(world["m_police"], world["m_far"])]["lag_days"] == 10
    assert all(e["critical"] for e in edges.values())
    assert data["range"]["start"] <= "2020-09-01" and data["range"]["end"] >= "2021-10-31"


def test_gantt_groups_by_node_and_by_department(client, stored):
    world, _ = stored
    login(client, "leader")
    data = client.get("/plans/plan-a/gantt.json").get_json()
    assert data["by"] == "node"
    root, child = f"n{world['root']}", f"n{world['child']}"
    assert data["groups"] == [
        {"id": root, "label": "智慧警务", "level": 0, "parent": None},
        {"id": child, "label": "交通子项", "level": 1, "parent": root},
    ]
    group = {r["id"]: r["group"] for r in data["rows"]}
    assert group[world["m_transport"]] == child and group[world["m_police"]] == root

    data = client.get("/plans/plan-a/gantt.json?by=department").get_json()
    assert data["by"] == "department"
    police, transport = f"d{world['police_dept']}", f"d{world['transport_dept']}"
    assert [g["id"] for g in data["groups"]] == [police, transport]  # in the order entered
    assert [g["label"] for g in data["groups"]] == ["甲市公安局", "甲市交通运输局"]
    group = {r["id"]: r["group"] for r in data["rows"]}
    assert group == {
        world["m_police"]: police,
        world["m_late"]: police,
        world["m_far"]: police,
        world["m_transport"]: transport,
    }
    # anything else falls back to the node grouping
    assert client.get("/plans/plan-a/gantt.json?by=nonsense").get_json()["by"] == "node"


def test_gantt_page_links_data_and_lists_extensions(client, stored):
    world, _ = stored
    login(client, "leader")
    plan_page = client.get("/plans/plan-a").get_data(as_text=True)
    assert 'href="/plans/plan-a/gantt"' in plan_page and 'href="/plans/plan-a/indicator-charts"' in plan_page
    html = client.get("/plans/plan-a/gantt?by=department").get_data(as_text=True)
    assert 'data-src="/plans/plan-a/gantt.json"' in html and 'data-by="department"' in html
    assert 'data-today-label="2021年3月15日"' in html and "今天（2021年3月15日）" in html
    assert "vendor/echarts/echarts.min.js" in html and "gantt.js" in html
    table = html[html.index('data-testid="extended"') :]
    table = table[: table.index("</table>")]
    assert "视频平台升级" in table and "2021年3月25日" in table and "2021年4月5日" in table
    assert "警航一体化" not in table
    # CSP: no inline script, no inline style
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert ' style="' not in html


@pytest.mark.parametrize("path", ["/plans/plan-b/gantt", "/plans/plan-b/gantt.json"])
def test_gantt_of_another_region_is_404(client, app, path):
    with app.app_context():
        build_world()
    login(client, "leader")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/plans/plan-a/gantt", "/plans/plan-a/gantt.json"])
def test_gantt_is_403_for_a_department_user(client, app, path):
    with app.app_context():
        build_world()
    login(client, "police")
    assert client.get(path).status_code == 403


def _add_milestones(plan_id, n, police_id, node_id, start, granted_by):
    prev = None
    for k in range(n):
        due = date.fromordinal(start.toordinal() + 7 * k)
        m = Milestone(
            plan_id=plan_id,
            node_id=node_id,
            key=f"x{start.year}-{k}",
            title=f"批量里程碑{k}",
            due_date=due,
            baseline_due_date=due,
            lead_department_id=police_id,
        )
        db.session.add(m)
        db.session.flush()
        if prev is not None:
            db.session.add(Dependency(plan_id=plan_id, predecessor_id=prev.id, successor_id=m.id))
            db.session.add(
                Extension(milestone=m, old_due=due, new_due=due, reason="x", granted_by_id=granted_by)
            )
        prev = m
    db.session.commit()


def test_gantt_json_makes_the_same_number_of_queries_whatever_the_size(client, app):
    with app.app_context():
        world = build_world()
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        node_id = db.session.scalar(select(PlanNode.id).where(PlanNode.plan_id == plan.id))
        plan_id = plan.id
    login(client, "leader")

    def count(by):
        seen = []

        def hook(conn, cursor, statement, *args):
            seen.append(statement)

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", hook)
            try:
                assert client.get(f"/plans/plan-a/gantt.json?by={by}").status_code == 200
            finally:
                event.remove(db.engine, "before_cursor_execute", hook)
        return len(seen)

    with app.app_context():
        _add_milestones(plan_id, 5, world["police_dept"], node_id, date(2021, 1, 4), world["office"])
    small = {by: count(by) for by in ("node", "department")}
    with app.app_context():
        _add_milestones(plan_id, 60, world["police_dept"], node_id, date(2022, 1, 3), world["office"])
    large = {by: count(by) for by in ("node", "department")}
    assert small == large
