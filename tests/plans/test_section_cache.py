"""The plan tree's rendered section is kept per process (app/section_cache.py): it must
never show a row as it was before a change, and it is the same for every viewer."""

import re
from datetime import date

from sqlalchemy import insert

from app.extensions import db
from app.models import Department, Milestone, PlanNode, ProgressReport, ReminderPolicy
from app.models.plan import node_department
from tests.conftest import login
from tests.factories import build_world


def tree(client) -> str:
    page = client.get("/plans/plan-a").get_data(as_text=True)
    return re.search(r'<section class="tree" data-testid="plan-tree">(.*?)</section>', page, re.S).group(1)


def test_every_change_the_tree_shows_reaches_it_at_once(app, client):
    with app.app_context():
        world = build_world()
    login(client, "leader")
    first = tree(client)
    assert "视频平台升级" in first and "甲市公安局" in first
    assert tree(client) == first  # served again as it was

    with app.app_context():  # a milestone renamed
        db.session.get(Milestone, world["m_police"]).title = "视频平台扩容"
        db.session.commit()
    assert "视频平台扩容" in tree(client)

    with app.app_context():  # a department renamed (its row is not the plan's)
        db.session.get(Department, world["police_dept"]).name = "甲市公安局（改）"
        db.session.commit()
    assert "甲市公安局（改）" in tree(client)

    with app.app_context():  # a node names a department (a link row, written as the loader does)
        db.session.execute(
            insert(node_department), [{"node_id": world["node_a"], "department_id": world["transport_dept"]}]
        )
        db.session.commit()
    assert "甲市交通运输局" in re.search(r"<summary>(.*?)</summary>", tree(client), re.S).group(1)

    with app.app_context():  # a node retitled
        db.session.get(PlanNode, world["node_a"]).title = "智慧警务（新）"
        db.session.commit()
    assert "智慧警务（新）" in tree(client)

    with app.app_context():  # progress: the status and the count move
        m = db.session.get(Milestone, world["m_late"])
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 1)
        db.session.commit()
    assert "已完成 1" in tree(client)


def test_the_section_is_the_same_for_every_viewer(app, client):
    with app.app_context():
        build_world()
    login(client, "leader")
    as_leader = tree(client)
    other = app.test_client()
    login(other, "office")
    as_office = other.get("/plans/plan-a").get_data(as_text=True)
    assert as_leader in as_office
    assert "<form" not in as_leader  # nothing in it belongs to one user


# -- the 驾驶舱's plan-wide body is kept the same way -------------------------------------


def dashboard(client) -> str:
    page = client.get("/plans/plan-a/dashboard").get_data(as_text=True)
    return re.search(
        r'<section class="card headline-card".*?data-testid="by-department">.*?</section>', page, re.S
    )[0]


def red_list(client) -> str:
    return re.search(r'data-testid="red-section">(.*?)</section>', dashboard(client), re.S).group(1)


def test_every_change_the_dashboard_shows_reaches_it_at_once(app, client):
    with app.app_context():
        world = build_world()
    login(client, "leader")
    first = dashboard(client)
    assert "警务云建设" in red_list(client) and "甲市公安局" in red_list(client)
    assert dashboard(client) == first

    with app.app_context():  # the red milestone renamed
        db.session.get(Milestone, world["m_late"]).title = "警务云扩容"
        db.session.commit()
    assert "警务云扩容" in red_list(client)

    with app.app_context():  # its lead department renamed
        db.session.get(Department, world["police_dept"]).name = "甲市公安局（改）"
        db.session.commit()
    assert "甲市公安局（改）" in red_list(client)

    with app.app_context():  # a report's words: the red list shows the latest
        db.session.add(
            ProgressReport(
                milestone_id=world["m_late"],
                department_id=world["police_dept"],
                author_id=world["police"],
                kind="lead",
                text="机房已到货，正在安装",
                percent=60,
                claimed_status="in_progress",
                state="submitted",
            )
        )
        db.session.commit()
    assert "机房已到货，正在安装" in red_list(client)

    with app.app_context():  # the window of 黄 widened: the colour of a far milestone moves
        before = re.findall(r'data-count="(\d+)"', dashboard(client))
        plan_id = db.session.get(Milestone, world["m_late"]).plan_id
        db.session.add(ReminderPolicy(plan_id=plan_id, status_soon_days=400))
        db.session.commit()
    assert re.findall(r'data-count="(\d+)"', dashboard(client)) != before

    with app.app_context():  # done: it leaves the red list
        m = db.session.get(Milestone, world["m_late"])
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 1)
        db.session.commit()
    assert "警务云扩容" not in red_list(client)


def test_the_dashboard_body_is_the_same_for_every_viewer_who_may_act(app, client):
    with app.app_context():
        build_world()
    login(client, "leader")
    as_leader = dashboard(client)
    other = app.test_client()
    login(other, "office")
    assert dashboard(other) == as_leader  # both may issue 督办
    assert "<form" not in as_leader


def test_a_viewer_who_may_not_act_gets_no_act_links_and_leaves_them_to_those_who_may(app, client):
    with app.app_context():
        build_world()
    login(client, "province")  # reads every plan, issues no 督办
    assert 'data-testid="act"' not in dashboard(client)
    leader = app.test_client()
    login(leader, "leader")
    assert 'data-testid="act"' in dashboard(leader)


# -- graph.json and gantt.json are kept as serialised documents ---------------------------


def _doc_rows(client, url: str) -> dict:
    doc = client.get(url).get_json()
    rows = doc.get("nodes") or doc.get("rows")
    return {r["id"]: r for r in rows}


def test_every_change_reaches_the_graph_and_gantt_documents_at_once(app, client):
    with app.app_context():
        world = build_world()
    login(client, "leader")
    for url in (
        "/plans/plan-a/graph.json",
        "/plans/plan-a/gantt.json",
        "/plans/plan-a/gantt.json?by=department",
    ):
        first = client.get(url).get_data()
        assert client.get(url).get_data() == first  # served again as it was
        with app.app_context():
            m = db.session.get(Milestone, world["m_police"])
            m.title = m.title + "（改）"
            db.session.commit()
            title = m.title
        assert _doc_rows(client, url)[world["m_police"]]["title"] == title, url

        with app.app_context():  # the due date moves a week: the document's due moves with it
            m = db.session.get(Milestone, world["m_police"])
            m.due_date = date(2021, 4, 1)
            db.session.commit()
        assert _doc_rows(client, url)[world["m_police"]]["due"] == "2021-04-01", url
        with app.app_context():
            db.session.get(Milestone, world["m_police"]).due_date = date(2021, 3, 25)
            db.session.commit()

    with app.app_context():  # the lead department renamed: the grouping by department shows it
        db.session.get(Department, world["police_dept"]).name = "甲市公安局（新）"
        db.session.commit()
    groups = client.get("/plans/plan-a/gantt.json?by=department").get_json()["groups"]
    assert "甲市公安局（新）" in [g["label"] for g in groups]


def test_the_lists_behind_the_counts_follow_the_rows_and_refuse_a_bad_filter_every_time(app, client):
    with app.app_context():
        world = build_world()
    login(client, "leader")
    red = client.get("/plans/plan-a/dashboard/list?colour=red").get_data(as_text=True)
    assert "警务云建设" in red and "<title>红 · " in red
    with app.app_context():
        m = db.session.get(Milestone, world["m_late"])
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 1)
        db.session.commit()
    assert "警务云建设" not in client.get("/plans/plan-a/dashboard/list?colour=red").get_data(as_text=True)
    for _ in range(2):  # a refused filter is answered afresh, never kept
        bad = client.get("/plans/plan-a/dashboard/list?colour=purple")
        assert bad.status_code == 400 and "颜色“purple”无效" in bad.get_data(as_text=True)


def test_the_graph_page_follows_the_rows(app, client):
    with app.app_context():
        world = build_world()
    login(client, "leader")
    first = client.get("/plans/plan-a/graph").get_data(as_text=True)
    assert "警务云建设" in first and "逾期 15 天" in first
    with app.app_context():  # renamed, and finished: off the late list
        m = db.session.get(Milestone, world["m_late"])
        m.title = "警务云建设（二期）"
        db.session.commit()
    assert "警务云建设（二期）" in client.get("/plans/plan-a/graph").get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Milestone, world["m_late"])
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 1)
        db.session.commit()
    page = client.get("/plans/plan-a/graph").get_data(as_text=True)
    assert "逾期 15 天" not in page
