"""星级测算 pages: the stored run as users see it, recompute, step costs and the what-if panel."""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app.dates import cn_datetime
from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting.known import end_of, set_direct_value
from app.forecasting.snapshot import latest_run, store_snapshot
from app.models import AuditEvent, ForecastRun, Indicator, IndicatorValue, Plan, User
from tests.conftest import TEST_AS_OF, csrf_from, login
from tests.factories import build_world
from workflows.forecast_recompute import job_id
from workflows.queue import get_queue

CITY = "sd-city-2019"
SAMPLES = 2000
URL = "/plans/plan-a/stars"
# Left out of the direct entries: 1 and 3 (nothing entered), 5 (tracked by the plan's
# indicator i1) and 45 (the deduction, entered as 0 incidents).
SKIP = {"1", "3", "5", "45"}


def _plan(code="plan-a"):
    return db.session.scalar(select(Plan).where(Plan.code == code))


def _approved(ind, as_of, number, reviewed):
    row = IndicatorValue(
        indicator_id=ind.id, as_of=as_of, value_number=number, state="approved", reviewed_at=reviewed
    )
    db.session.add(row)
    return row


@pytest.fixture
def world(app):
    """plan-a on the city standard at 337 points (three stars, 340 is four): every indicator
    but 1, 3 and 5 entered directly at its four-star column (334 points), and i1 (standard 5, 联网率) at 70 %
    (3 points). 视频平台升级 (m_police, after the overdue 警务云建设) delivers 90 % (8 points),
    which lifts the plan to four stars."""
    with app.app_context():
        w = build_world()
        plan = _plan()
        plan.standard_code = CITY
        ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
        ind.standard_indicator = "5"
        office = db.session.get(User, w["office"])
        for spec in load_standard(CITY)["indicators"]:
            if spec["number"] not in SKIP:
                set_direct_value(plan, spec["number"], {"level": 4}, office, date(2021, 3, 1))
        set_direct_value(plan, "45", 0, office, date(2021, 3, 1))
        _approved(ind, date(2021, 3, 1), 70, datetime(2021, 3, 2, 9))
        db.session.commit()
        w.ids["plan_a"] = plan.id
        w.ids["i1"] = ind.id
        db.session.remove()
    return w


def _store(app, as_of=TEST_AS_OF, code="plan-a"):
    with app.app_context():
        run, _ = store_snapshot(_plan(code), as_of, samples=SAMPLES)
        result, computed_at = run.result, run.computed_at
        db.session.remove()
    return result, computed_at


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _text(response):
    return response.get_data(as_text=True)


def _meta_token(client, url=URL):
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', _text(client.get(url)))
    assert match
    return match.group(1)


def _pct(p):
    return f"{p * 100:.1f}%"


# -- the page ------------------------------------------------------------------


def test_without_a_run_the_page_says_not_yet_computed_and_computes_nothing(app, client, world):
    login(client, "office")
    page = _text(client.get(URL))
    assert "尚未测算" in page
    assert 'data-testid="recompute"' in page
    assert 'id="what-if"' not in page  # nothing to compare with yet
    assert _count(app, ForecastRun) == 0
    login(client, "leader")
    page = _text(client.get(URL))
    assert "尚未测算" in page and 'data-testid="recompute"' not in page


def test_the_page_shows_the_stored_run(app, client, world):
    result, computed_at = _store(app)
    fc = result["forecast"]
    assert result["current"]["total"] == 337 and result["current"]["stars"] == 3
    assert 0 < fc["p_target"] < 1 and fc["top_milestones"]
    login(client, "office")
    response = client.get(URL)
    assert response.status_code == 200
    page = _text(response)
    assert re.search(r'data-testid="current-total">337<', page)
    assert "当前 3 星" in page
    assert "距 4 星（340 分）还差 3 分" in page
    assert cn_datetime(computed_at) in page and "2021年3月15日" in page
    assert f'data-testid="p-target">{_pct(fc["p_target"])}<' in page
    assert f'data-testid="expected-total">{fc["expected_total"]:.1f}<' in page
    best, worst = fc["best_case"], fc["worst_case"]
    assert (best["total"], best["stars"], worst["total"], worst["stars"]) == (342, 4, 337, 3)
    assert 'data-testid="best-case">342 <small>4 星</small>' in page
    assert 'data-testid="worst-case">337 <small>3 星</small>' in page
    for stars, p in enumerate(fc["probabilities"]):
        assert re.search(rf'data-stars="{stars}">\s*<td>{stars} 星</td><td>{re.escape(_pct(p))}</td>', page)
    # Top milestones link to the milestone pages; the delivering one is first.
    top = page.split('data-testid="top-milestones"')[1].split("</section>")[0]
    assert f'href="/milestones/{world["m_police"]}">视频平台升级</a>' in top
    assert f'href="/milestones/{world["m_late"]}">警务云建设</a>' in top
    # The explanation table: value used, its source, level, points / max, the next level.
    row5 = re.search(r'<tr data-number="5".*?</tr>', page, re.S).group(0)
    assert "70%" in row5 and "计划指标：视频监控联网率" in row5 and "3 / 10" in row5 and "+3" in row5
    row2 = re.search(r'<tr data-number="2".*?</tr>', page, re.S).group(0)
    assert "等级 4" in row2 and "标准直填" in row2 and "8 / 10" in row2
    row1 = re.search(r'<tr data-number="1".*?</tr>', page, re.S).group(0)
    assert "未录入" in row1 and "0 / 10" in row1 and "+2" in row1
    stars = [i["number"] for i in load_standard(CITY)["indicators"] if i["star"]]
    for number in stars:
        row = re.search(rf'<tr data-number="{number}".*?</tr>', page, re.S).group(0)
        assert 'class="star-flag"' in row, number
    # Gap to the next star and at-risk indicators, in Chinese.
    gap = page.split('data-testid="gap"')[1].split("</section>")[0]
    assert "达到 <strong>4 星</strong> 还需 3 分" in gap
    for step in result["gap"]["steps"]:
        assert step["name"] in gap
    risk = page.split('data-testid="at-risk"')[1].split("</section>")[0]
    assert "视频监控联网率" in risk and "低于目标 8 分" in risk
    assert "stale-notice" not in page


def test_viewers_and_scope(app, client, world):
    _store(app)
    for user in ("office", "leader", "admin", "province"):
        login(client, user)
        assert client.get(URL).status_code == 200, user
    login(client, "other_office")
    assert client.get(URL).status_code == 404
    page = _text(client.get("/plans/plan-b/stars"))  # its own plan, which has no standard
    assert "未指定评价标准" in page and 'data-testid="recompute"' not in page
    # Departments get what the plan pages give them, for the page and for the what-if panel.
    login(client, "police")
    expected = client.get("/plans/plan-a").status_code
    assert client.get(URL).status_code == expected
    token = csrf_from(client, "/notifications")
    assert _what_if(client, {}, token).status_code == expected


def test_page_load_never_computes(app, client, world, monkeypatch):
    _store(app)

    def refuse(*args, **kwargs):
        raise AssertionError("the page must not compute")

    monkeypatch.setattr("app.forecasting.snapshot.compute_snapshot", refuse)
    monkeypatch.setattr("app.forecasting.snapshot.forecast", refuse)
    monkeypatch.setattr("app.forecasting.whatif.forecast", refuse)
    login(client, "office")
    assert client.get(URL).status_code == 200
    assert _count(app, ForecastRun) == 1


def test_notice_when_newer_data_or_an_older_date(app, client, world):
    _store(app, as_of=date(2021, 3, 10))
    login(client, "office")
    page = _text(client.get(URL))
    assert 'data-testid="stale-notice"' in page and "测算所用数据截至 2021年3月10日" in page
    _store(app)
    assert 'data-testid="stale-notice"' not in _text(client.get(URL))
    with app.app_context():
        seen = latest_run(_plan()).data_time  # the direct values' approval, today
        later = seen + (end_of(TEST_AS_OF) - seen) / 2  # approved after the run, still today
        _approved(db.session.get(Indicator, world["i1"]), date(2021, 3, 14), 75, later)
        db.session.commit()
    page = _text(client.get(URL))
    assert f"测算后有新审核通过的数据（{cn_datetime(later)}）" in page
    assert "测算结果可能已过时" in page
    client.post(f"{URL}/recompute", data={"csrf_token": csrf_from(client, URL)})
    assert "重新测算已在队列中" in _text(client.get(URL))


# -- recompute -----------------------------------------------------------------


def test_recompute_queues_a_job_and_computes_nothing(app, client, world):
    login(client, "office")
    response = client.post(f"{URL}/recompute", data={"csrf_token": csrf_from(client, URL)})
    assert response.status_code == 302 and response.location.endswith(URL)
    with app.app_context():
        assert get_queue("default").job_ids == [job_id(world["plan_a"])]
    assert _count(app, ForecastRun) == 0
    assert "已提交重新测算" in _text(client.get(URL))


def test_recompute_refused_without_csrf_or_permission(app, client, world):
    login(client, "office")
    assert client.post(f"{URL}/recompute").status_code == 400
    for user, status in (("leader", 403), ("admin", 403), ("province", 403), ("other_office", 404)):
        login(client, user)
        token = csrf_from(client, "/notifications")
        assert client.post(f"{URL}/recompute", data={"csrf_token": token}).status_code == status, user
    with app.app_context():
        assert get_queue("default").job_ids == []


def test_recompute_says_so_when_the_queue_is_down(app, client, world, monkeypatch):
    monkeypatch.setattr("app.stars.routes.request_recompute", lambda plan_id: None)
    login(client, "office")
    client.post(f"{URL}/recompute", data={"csrf_token": csrf_from(client, URL)})
    assert "任务队列暂时不可用，未能提交重新测算" in _text(client.get(URL))


# -- what-if -------------------------------------------------------------------


def _what_if(client, body, token=None, url=URL):
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(f"{url}/what-if", json=body, headers=headers)


def _rows(app):
    return [_count(app, model) for model in (ForecastRun, AuditEvent, IndicatorValue, Indicator)]


def test_what_if_rescores_and_writes_nothing(app, client, world):
    stored, _ = _store(app)
    login(client, "leader")
    token = _meta_token(client)
    before = _rows(app)
    plain = _what_if(client, {}, token).get_json()
    assert plain["baseline_matches_stored"] is True
    assert plain["what_if"] == plain["baseline"] == plain["stored"]
    assert plain["stored"]["forecast"]["p_target"] == stored["forecast"]["p_target"]

    data = _what_if(client, {"values": {"5": 90}}, token).get_json()
    assert data["what_if"]["total"] == 342 and data["what_if"]["stars"] == 4
    assert data["what_if"]["forecast"]["p_target"] == 1.0
    assert data["what_if"]["forecast"]["probabilities"][4] == 1.0
    assert data["changed"] == [
        {
            "number": "5",
            "name": "城市重点公共区域视频监控联网率",
            "star": False,
            "value_before": "70%",
            "value_after": "90%",
            "level_before": 2,
            "level_after": 4,
            "points_before": 3,
            "points_after": 8,
        }
    ]
    lower = _what_if(client, {"values": {"2": {"level": 0}}}, token).get_json()
    assert lower["what_if"]["total"] == 329
    assert lower["what_if"]["forecast"]["p_target"] < plain["what_if"]["forecast"]["p_target"]
    assert _rows(app) == before


def test_what_if_milestones_done_never_lower_p_target(app, client, world):
    _store(app)
    login(client, "office")
    token = _meta_token(client)
    base = _what_if(client, {}, token).get_json()["what_if"]["forecast"]["p_target"]
    for key in ("m_police", "m_late", "m_transport", "m_far"):
        data = _what_if(client, {"done": [world[key]]}, token).get_json()
        assert data["what_if"]["forecast"]["p_target"] >= base, key
        assert data["overrides"]["done"] == [world[key]]
    done = _what_if(client, {"done": [world["m_police"]]}, token).get_json()["what_if"]
    assert done["forecast"]["p_target"] == 1.0 and done["total"] == 337  # now unchanged; at the date 4 stars
    late = _what_if(client, {"late": [world["m_late"]]}, token).get_json()["what_if"]
    assert late["forecast"]["p_target"] == 0.0  # 警务云 holds up 视频平台, the only way to four stars
    both = _what_if(client, {"done": [str(world["m_late"])], "late": [world["m_police"]]}, token)
    assert both.status_code == 200 and both.get_json()["what_if"]["forecast"]["p_target"] == 0.0


def test_what_if_refuses_bad_requests(app, client, world):
    _store(app)
    login(client, "office")
    token = _meta_token(client)
    before = _rows(app)
    cases = [
        ({"done": [world["m_other"]]}, f"里程碑 {world['m_other']} 不属于计划 plan-a"),
        ({"late": [999999]}, "里程碑 999999 不属于计划 plan-a"),
        ({"values": {"5": -3}}, "indicator 5"),
        ({"values": {"5": -3}}, "negative"),
        ({"values": {"29": 80}}, 'descriptive indicator: expected {"level": 0-5}'),
        ({"values": {"99": 1}}, "unknown indicator number"),
        ({"values": {"5": "abc"}}, "must be a number"),
        ({"done": [world["m_police"]], "late": [world["m_police"]]}, "不能同时假设为完成和延误"),
        ({"done": "all"}, "应为里程碑编号的列表"),
        ({"extra": 1}, "未知字段"),
        ([1, 2], "JSON 对象"),
    ]
    for body, words in cases:
        response = _what_if(client, body, token)
        assert response.status_code == 400, body
        assert words in response.get_json()["error"], (body, response.get_json())
    raw = client.post(f"{URL}/what-if", data="not json", headers={"X-CSRFToken": token})
    assert raw.status_code == 400
    assert _rows(app) == before


def test_what_if_needs_csrf_and_scope(app, client, world):
    _store(app)
    login(client, "office")
    assert _what_if(client, {"values": {"5": 90}}).status_code == 400
    assert _what_if(client, {"values": {"5": 90}}, "forged").status_code == 400
    login(client, "other_office")
    token = csrf_from(client, "/notifications")
    assert _what_if(client, {"values": {"5": 90}}, token).status_code == 404


# -- step costs ----------------------------------------------------------------


COSTS = f"{URL}/costs"


def _cost_form(client, **fields):
    page = _text(client.get(COSTS))
    data = dict(re.findall(r'name="(cost-\d+)" value="([^"]*)"', page))
    data["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data["version"] = re.search(r'name="version" type="hidden" value="([^"]*)"', page).group(1)
    data.update({f"cost-{k[1:]}": v for k, v in fields.items()})
    return data


def _costs_and_audits(app):
    with app.app_context():
        plan = _plan()
        audits = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "plan.step_costs")
        )
        return plan.step_costs, audits


def test_step_costs_are_saved_audited_and_recomputed(app, client, world):
    stored, _ = _store(app)
    first = stored["gap"]["steps"][0]["number"]
    login(client, "office")
    response = client.post(COSTS, data=_cost_form(client, **{f"n{first}": "50", "n3": "2.5"}))
    assert response.status_code == 302
    costs, audits = _costs_and_audits(app)
    assert costs == {first: 50, "3": 2.5} and audits == 1
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.step_costs"))
        assert f"第 {first} 项 1 → 50" in event.summary and event.region_id == world["region_a"]
        assert event.before == {"step_costs": {}} and event.after == {"step_costs": costs}
        assert get_queue("default").job_ids == [job_id(world["plan_a"])]
    page = _text(client.get(URL))
    assert "提升成本已保存" in page and "测算后计划设置（如提升成本）有修改" in page
    # The worker's recompute picks a cheaper way to four stars.
    new, _ = _store(app)
    assert first not in [s["number"] for s in new["gap"]["steps"]]
    assert new["gap"]["cost"] < 50
    assert f"第 {first} 项" in _text(client.get(URL)).split('data-testid="step-costs"')[1]


def test_step_costs_validation_is_all_or_nothing(app, client, world):
    login(client, "office")
    response = client.post(COSTS, data=_cost_form(client, n1="3", n3="-2", n7="abc", n8="0"))
    assert response.status_code == 400
    page = _text(response)
    assert "第 3 项（气象自动监测站覆盖率）的提升成本必须是大于 0 的数" in page
    assert "第 7 项（电子警察监控点覆盖率）的提升成本“abc”不是数字" in page
    assert "第 8 项（200M以上固定宽带用户占比）的提升成本必须是大于 0 的数" in page
    assert 'value="abc"' in page  # what was typed stays in the form
    unknown = _cost_form(client)
    unknown["cost-45"] = "2"  # the deduction has no level steps
    unknown["cost-77"] = "2"
    page = _text(client.post(COSTS, data=unknown))
    assert "没有可设置提升成本的第 45 项" in page and "没有可设置提升成本的第 77 项" in page
    assert _costs_and_audits(app) == ({}, 0)
    with app.app_context():
        assert get_queue("default").job_ids == []


def test_step_costs_optimistic_lock_and_permissions(app, client, world):
    login(client, "office")
    stale = _cost_form(client, n2="4")
    assert client.post(COSTS, data=_cost_form(client, n2="3")).status_code == 302
    response = client.post(COSTS, data=stale)
    assert response.status_code == 409 and "提升成本已被他人修改" in _text(response)
    assert _costs_and_audits(app) == ({"2": 3}, 1)
    no_csrf = _cost_form(client, n2="5")
    del no_csrf["csrf_token"]
    assert client.post(COSTS, data=no_csrf).status_code == 400
    assert _costs_and_audits(app) == ({"2": 3}, 1)
    for user, status in (("leader", 403), ("admin", 403), ("other_office", 404)):
        login(client, user)
        assert client.get(COSTS).status_code == status, user
        token = csrf_from(client, "/notifications")
        assert client.post(COSTS, data={"csrf_token": token, "cost-2": "9"}).status_code == status
    assert _costs_and_audits(app) == ({"2": 3}, 1)


# -- the real plans ------------------------------------------------------------


def test_demo_plans_with_attainment(app, client):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    stored, _ = _store(app, code="zhangqiu-3n")
    login(client, "zq-office", "demo-pass-2021")
    page = _text(client.get("/plans/zhangqiu-3n/stars"))
    assert re.search(rf'data-testid="current-total">{stored["current"]["total"]}<', page)
    attainment = page.split('data-testid="attainment"')[1].split("</section>")[0]
    four = stored["attainment"]["bands"]["4"]
    assert four["weighted"] is True
    row = re.search(r'<tr data-band="4">.*?</tr>', attainment, re.S).group(0)
    assert f"{four['attainment_pct']:g}%" in row and "按计划权重" in row
    assert "电子证照使用率" in attainment
    assert client.get("/plans/weihai-1313/stars").status_code == 404
