"""依赖关系图 and 上下游: the structure and due dates come from the tables as they are now,
lateness, slack and the critical path from app.engines.schedule on today's date, forecast
finish dates from the latest stored run while it still describes the plan (never is the
Monte Carlo forecast computed on page load)."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app import clock
from app.dates import cn_date
from app.extensions import db
from app.forecasting import snapshot
from app.forecasting.snapshot import latest_run, store_snapshot
from app.models import Dependency, Milestone, Plan
from tests.conftest import login
from tests.factories import build_world

SAMPLES = 200  # the graph part of a run does not depend on the Monte Carlo sample count


def _tight_world():
    """build_world's chain m_late -> m_police -> m_far made tight (as of TEST_AS_OF 2021-03-15,
    target 2021-10-31). The latest finish that harms nothing, worked by hand:
    m_far (due 4-10): 4-10; m_police (due 4-05): min(4-05, m_far's 4-10 - 10 lag) = 3-31;
    m_late (due 2-28, overdue 15 days): min(2-28, m_police's 3-31) = 2-28.
    Slack = that latest finish - the forecast's median finish (stored in the run), so the
    overdue m_late and everything waiting for it are behind: the critical path is
    m_late, m_police, m_far."""
    world = build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    plan.standard_code = "sd-city-2019"
    police = db.session.get(Milestone, world["m_police"])
    police.due_date = police.baseline_due_date = date(2021, 4, 5)
    far = db.session.get(Milestone, world["m_far"])
    far.due_date = far.baseline_due_date = date(2021, 4, 10)
    dep = db.session.scalar(select(Dependency).where(Dependency.predecessor_id == police.id))
    dep.lag_days = 10
    db.session.commit()
    return world, plan


@pytest.fixture
def stored(app):
    """The tight world with a run stored, as the recompute worker would."""
    with app.app_context():
        world, plan = _tight_world()
        run, new = store_snapshot(plan, clock.today(), samples=SAMPLES)
        assert new
        result = run.result
        db.session.remove()
    return world, result


LATEST = {"m_late": date(2021, 2, 28), "m_police": date(2021, 3, 31), "m_far": date(2021, 4, 10)}


def _expected(world, result):
    """{milestone id: (median finish, slack by hand)} from the stored forecast."""
    ids = result["keys"]
    finish = {ids[row["id"]]: row["forecast_finish"] for row in result["forecast"]["milestones"]}
    return {
        world[k]: (finish[world[k]], (latest - date.fromisoformat(finish[world[k]])).days)
        for k, latest in LATEST.items()
    }


def _forbid_forecasting(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a page computed the forecast")

    monkeypatch.setattr(snapshot, "compute_snapshot", refuse)
    monkeypatch.setattr(snapshot, "forecast", refuse)
    monkeypatch.setattr(snapshot, "graph_summary", refuse)


def test_graph_json_matches_the_stored_run(client, stored, monkeypatch):
    world, result = stored
    graph = result["graph"]
    _forbid_forecasting(monkeypatch)
    login(client, "office")
    data = client.get("/plans/plan-a/graph.json").get_json()

    assert data["computed"] is True and data["computed_at"]
    assert data["basis"] == "stored" and data["today"] == "2021-03-15"
    assert data["target_date"] == "2021-10-31"
    chain = [world["m_late"], world["m_police"], world["m_far"]]
    assert graph["critical_path"] == data["critical_path"] == chain

    nodes = {n["id"]: n for n in data["nodes"]}
    assert set(nodes) == {world[k] for k in ("m_police", "m_late", "m_transport", "m_far")}
    for mid, node in nodes.items():
        entry = graph["milestones"][str(mid)]
        assert node["forecast_finish"] == entry["forecast_finish"]
        assert node["slack_days"] == entry["slack_days"]
        assert node["critical"] == entry["critical"]
        assert node["late"] == entry["late"] and node["overdue"] == entry["overdue"]
        assert node["url"] == f"/milestones/{mid}"
    late, police = nodes[world["m_late"]], nodes[world["m_police"]]
    for mid, (finish, slack) in _expected(world, result).items():
        assert (nodes[mid]["forecast_finish"], nodes[mid]["slack_days"]) == (finish, slack)
        assert slack < 0 and nodes[mid]["critical"] and nodes[mid]["at_risk"]
    assert late["overdue"] and late["days_to_due"] == -15 and late["late"]
    assert police["department"] == "甲市公安局" and police["due"] == "2021-04-05"
    transport = nodes[world["m_transport"]]
    assert not transport["critical"] and transport["slack_days"] is not None

    edges = {(e["pred"], e["succ"]): e for e in data["edges"]}
    assert set(edges) == {(world["m_late"], world["m_police"]), (world["m_police"], world["m_far"])}
    assert edges[(world["m_late"], world["m_police"])]["critical"] is True
    far_edge = edges[(world["m_police"], world["m_far"])]
    assert far_edge["critical"] is True and far_edge["lag_days"] == 10 and far_edge["inferred"] is False


def test_graph_page_lists_the_critical_path_in_order(client, stored, monkeypatch):
    world, result = stored
    expected = _expected(world, result)
    _forbid_forecasting(monkeypatch)
    login(client, "leader")
    page = client.get("/plans/plan-a/graph")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "测算于" in html and "数据截至 2021年3月15日" in html
    assert "取自最近一次测算" in html
    table = html[html.index('data-testid="critical-path"') :]
    table = table[: table.index("</table>")]
    assert table.index("警务云建设") < table.index("视频平台升级") < table.index("警航一体化")
    assert "公交大数据系统" not in table
    for finish, slack in expected.values():
        assert cn_date(date.fromisoformat(finish)) in table and f"落后 {-slack} 天" in table
    assert "逾期 15 天" in table
    assert "已经落后" in html and 'data-testid="overdue-count"' in html
    # The picture is drawn by the external script from graph.json; no inline script.
    assert 'data-src="/plans/plan-a/graph.json"' in html
    assert "vendor/cytoscape/cytoscape.min.js" in html and "graph.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert ' style="' not in html


def test_pages_recompute_when_the_plan_changed_after_the_run(client, stored, app, monkeypatch):
    """After a data change the stored run no longer describes the plan: the pages work the
    schedule out again from the current rows (not the Monte Carlo forecast) and say why."""
    world, _ = stored
    with app.app_context():
        late = db.session.get(Milestone, world["m_late"])
        late.status, late.percent, late.actual_finish = "done", 100, date(2021, 3, 10)
        db.session.commit()
    _forbid_forecasting(monkeypatch)
    login(client, "office")
    data = client.get("/plans/plan-a/graph.json").get_json()
    assert data["basis"] == "recomputed" and "进展有更新" in data["basis_note"]
    node = next(n for n in data["nodes"] if n["id"] == world["m_late"])
    assert node["status"] == "done" and node["forecast_finish"] == "2021-03-10"
    assert not node["late"] and not node["overdue"] and not node["critical"]
    assert data["critical_path"] == [world["m_police"], world["m_far"]]
    police = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    assert "2021年4月5日" in police and "在关键路径上" in police and "进展有更新" in police


def test_milestone_page_shows_upstream_and_downstream(client, stored):
    world, result = stored
    expected = {
        mid: (cn_date(date.fromisoformat(f)), f"落后 {-s} 天")
        for mid, (f, s) in _expected(world, result).items()
    }
    login(client, "office")
    html = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    section = html[html.index('id="links"') :]
    section = section[: section.index("</section>")]
    assert "测算于" in section and "查看依赖关系图" in section
    own = section[section.index('data-testid="own-forecast"') :]
    own = own[: own.index("</p>")]
    day, behind = expected[world["m_police"]]
    assert day in own and behind in own and "在关键路径上" in own

    up = section[section.index('data-testid="upstream"') : section.index('data-testid="downstream"')]
    assert f'href="/milestones/{world["m_late"]}"' in up and "警务云建设" in up
    day, behind = expected[world["m_late"]]
    assert "直接" in up and day in up and behind in up and "关键路径" in up
    assert "逾期 15 天" in up and "晚于期限" in up
    down = section[section.index('data-testid="downstream"') :]
    day, behind = expected[world["m_far"]]
    assert "警航一体化" in down and day in down and behind in down
    assert "视频平台升级" not in up + down

    # m_far: transitively held up by both, nearest first.
    html = client.get(f"/milestones/{world['m_far']}").get_data(as_text=True)
    up = html[html.index('data-testid="upstream"') :]
    up = up[: up.index("</table>")]
    assert "直接" in up and "间接（第 2 层）" in up
    assert up.index("视频平台升级") < up.index("警务云建设")  # latest forecast finish first
    assert 'data-testid="downstream-empty"' in html


def test_upstream_the_user_cannot_open_is_listed_without_a_link(client, stored):
    """transport co-works on m_police but may not open police's m_late."""
    world, _ = stored
    login(client, "transport")
    html = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    up = html[html.index('data-testid="upstream"') :]
    up = up[: up.index("</table>")]
    assert "警务云建设" in up and f"/milestones/{world['m_late']}" not in up
    assert "查看依赖关系图" not in html  # a department cannot open plan-wide pages


def test_no_run_yet_still_shows_the_schedule(client, app):
    """Without a stored run the pages still decide overdue, slack and the critical path
    (by the rule, from the due dates) and say that nothing has been computed yet."""
    with app.app_context():
        world, plan = _tight_world()
        assert latest_run(plan) is None
    login(client, "office")
    data = client.get("/plans/plan-a/graph.json").get_json()
    assert data["computed"] is False and data["computed_at"] is None and data["basis"] == "rule"
    assert data["critical_path"] == [world["m_late"], world["m_police"], world["m_far"]]
    assert len(data["nodes"]) == 4 and len(data["edges"]) == 2
    late = next(n for n in data["nodes"] if n["id"] == world["m_late"])
    assert late["overdue"] and late["late"] and late["slack_days"] == -33

    html = client.get("/plans/plan-a/graph").get_data(as_text=True)
    assert "尚未测算 — 计划办可在" in html and "提交测算" in html
    assert "按完成期限与前置里程碑推算" in html
    assert 'data-testid="critical-path"' in html

    html = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    section = html[html.index('id="links"') :]
    section = section[: section.index("</section>")]
    assert "尚未测算" in section and 'data-testid="own-forecast"' in section
    assert "警务云建设" in section and "警航一体化" in section  # the walk needs no run


def test_done_milestone_blocks_nothing(client, stored, app):
    world, _ = stored
    with app.app_context():
        m = db.session.get(Milestone, world["m_police"])
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 12)
        db.session.commit()
    login(client, "office")
    html = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    assert 'data-testid="links-done"' in html and 'data-testid="upstream"' not in html


@pytest.mark.parametrize(
    "username,code,status",
    [
        ("other_office", "plan-a", 404),  # another region's plan
        ("other", "plan-a", 403),  # a department, and of another region
        ("police", "plan-a", 403),  # a department has no plan-wide pages
        ("leader", "plan-a", 200),
        ("province", "plan-b", 200),
        ("other_office", "plan-b", 200),
        ("office", "no-such-plan", 404),
    ],
)
def test_graph_pages_have_the_plan_pages_scope(client, stored, username, code, status):
    login(client, username)
    assert client.get(f"/plans/{code}").status_code == status
    assert client.get(f"/plans/{code}/graph").status_code == status
    assert client.get(f"/plans/{code}/graph.json").status_code == status


def test_anonymous_is_sent_to_login(client, stored):
    response = client.get("/plans/plan-a/graph.json")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_plan_page_links_to_the_graph_and_stars(client, stored, app):
    login(client, "office")
    html = client.get("/plans/plan-a").get_data(as_text=True)
    assert 'href="/plans/plan-a/graph"' in html
    assert ('href="/plans/plan-a/stars"' in html) == ("stars.page" in app.view_functions)


@pytest.fixture
def demo(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    yield
    app.extensions.pop("starpath_demo", None)  # the banner flag is cached per process


def test_demo_weihai_graph_is_complete(client, app, demo):
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
        run, _ = store_snapshot(plan, clock.today(), samples=SAMPLES)
        graph = run.result["graph"]
        n_ms = db.session.scalar(select(func.count(Milestone.id)).where(Milestone.plan_id == plan.id))
        n_deps = db.session.scalar(select(func.count(Dependency.id)).where(Dependency.plan_id == plan.id))
        assert latest_run(plan).id == run.id  # the page reads this run, not demo load's
    login(client, "wh-office", "demo-pass-2021")
    data = client.get("/plans/weihai-1313/graph.json").get_json()
    assert data["basis"] == "stored"
    assert len(data["nodes"]) == n_ms == len(graph["milestones"]) == 91
    assert len(data["edges"]) == n_deps == len(graph["edges"])
    assert {(e["pred"], e["succ"]) for e in data["edges"]} == {(e["pred"], e["succ"]) for e in graph["edges"]}
    for node in data["nodes"]:
        entry = graph["milestones"][str(node["id"])]
        assert (node["forecast_finish"], node["critical"]) == (entry["forecast_finish"], entry["critical"])
        assert node["slack_days"] == (None if node["status"] == "done" else entry["slack_days"])
    assert sum(n["critical"] for n in data["nodes"]) == len(graph["critical_path"])
    # The demo's eight overdue milestones (due 2020-12-31) are behind, never "余量 227 天",
    # and the critical path names an overdue one.
    overdue = [n for n in data["nodes"] if n["overdue"]]
    assert len(overdue) == 8
    assert all(n["slack_days"] < 0 and n["late"] and n["at_risk"] for n in overdue)
    assert data["critical_path"] and any(n["critical"] for n in overdue)
    html = client.get("/plans/weihai-1313/graph").get_data(as_text=True)
    assert 'data-testid="no-critical-path"' not in html and "8 个里程碑逾期" in html
    assert client.get("/plans/zhangqiu-3n/graph.json").status_code == 404  # another region
