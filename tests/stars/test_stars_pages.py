"""星级测算 pages: the target question answered first, the cheapest way to the target star,
the what-if form, recompute and step costs."""

import re
from datetime import date, datetime
from html import unescape

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.dates import cn_datetime
from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting import known
from app.forecasting.known import end_of, set_direct_value
from app.forecasting.snapshot import latest_run, store_snapshot
from app.indicators.values import standard_spec
from app.models import AuditEvent, ForecastRun, Indicator, IndicatorValue, Milestone, Plan, User
from app.stars.present import prob as prob_text
from tests.conftest import TEST_AS_OF, csrf_from, login
from tests.factories import build_world
from workflows.forecast_recompute import job_id
from workflows.queue import get_queue

CITY = "sd-city-2019"
SAMPLES = 2000
URL = "/plans/plan-a/stars"
WHAT_IF = f"{URL}/what-if"
# Left out of the direct entries: 1 and 3 (nothing entered: untracked), 5 (tracked by
# the plan's indicator i1) and 45 (the deduction, entered as 0 incidents).
SKIP = {"1", "3", "5", "45"}


def _plan(code="plan-a"):
    return db.session.scalar(select(Plan).where(Plan.code == code))


def _approved(ind, as_of, number, reviewed):
    row = IndicatorValue(
        indicator_id=ind.id, as_of=as_of, value_number=number, state="approved", reviewed_at=reviewed
    )
    db.session.add(row)
    return row


def _deliver(monkeypatch, declared=None):
    """Milestone m1 (视频平台升级) declares 联网率 90 % for i1 (standard 5): 8 points."""
    declared = {("m1", "i1"): [90]} if declared is None else declared

    def values(milestone, ind, as_of=None):
        return list(declared.get((milestone.key, ind.key), []))

    monkeypatch.setattr(known, "declared_deliveries", values)


@pytest.fixture
def world(app):
    """plan-a on the city standard at 337 points (three stars, 340 is four; target 4 stars
    on 2021-10-31): every indicator but 1, 3 and 5 entered directly at its four-star column
    (334 points), and i1 (standard 5, 联网率) at 70 % (3 points). 视频平台升级 (m_police,
    after the overdue 警务云建设) is linked to i1."""
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


@pytest.fixture
def delivering(world, monkeypatch):
    """The world with 视频平台升级 declaring 90 % for 联网率."""
    _deliver(monkeypatch)
    return world


def _store(app, as_of=TEST_AS_OF, code="plan-a"):
    with app.app_context():
        run, _ = store_snapshot(_plan(code), as_of, samples=SAMPLES)
        result, computed_at = run.result, run.computed_at
        db.session.remove()
    return result, computed_at


def prob(p):
    """A probability as the page's HTML shows it (“&lt; 0.1%”)."""
    return str(escape(prob_text(p)))


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _text(response):
    return response.get_data(as_text=True)


def _section(page, testid):
    return page.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


def _inside(html, testid, end):
    """The HTML after the opening tag carrying data-testid, up to `end`."""
    return html.split(f'data-testid="{testid}"', 1)[1].split(">", 1)[1].split(end, 1)[0]


def _plain(html):
    """The text of an HTML fragment, as a reader sees it."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


# -- probabilities from sampling -------------------------------------------------


def test_a_sampled_probability_is_never_shown_as_certain():
    assert prob_text(1.0) == "> 99.9%" and prob_text(0.9996) == "> 99.9%"
    assert prob_text(0.0) == "< 0.1%" and prob_text(0.0004) == "< 0.1%"
    assert prob_text(0.999) == "99.9%" and prob_text(0.001) == "0.1%" and prob_text(0.5) == "50.0%"


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


def test_the_target_question_is_answered_first(app, client, delivering):
    result, computed_at = _store(app)
    fc = result["forecast"]
    assert fc["current"]["total"] == 337 and result["target_stars"] == 4
    assert 0 < fc["p_target"] < 1
    login(client, "office")
    page = _text(client.get(URL))
    # The first card after the heading is the answer: which star, which date, P(target).
    first = page.split("<section", 1)[1].split("</section>", 1)[0]
    assert 'data-testid="answer"' in first
    question = _plain(first.split('class="question"', 1)[1].split("</p>", 1)[0])
    assert "到 2021年10月31日（考核日）能否达到 4 星" in question
    hits = round(fc["p_target"] * SAMPLES)
    assert f'data-testid="p-target">{prob(fc["p_target"])}<' in first
    assert f"{SAMPLES} 次模拟中 {hits} 次达到" in first
    assert first.index('data-testid="p-target"') < first.index('data-testid="median-gap"')
    # The median and its distance to the four-star band (340).
    median = _plain(_inside(first, "median-gap", "</li>"))
    if fc["p50"] < 340:
        assert f"中位数 {fc['p50']} 分" in median and f"还差 {340 - fc['p50']} 分" in median
    else:
        assert f"高出 {fc['p50'] - 340} 分" in median
    # When it was computed, on what data.
    stamp = _plain(_section(page, "answer").split('data-testid="stamp"', 1)[1].split("</p>", 1)[0])
    assert cn_datetime(computed_at) in stamp and "数据截至 2021年3月15日" in stamp
    assert f"{SAMPLES} 次蒙特卡洛模拟" in stamp
    assert "stale-notice" not in page


def test_the_ceiling_says_why_with_untracked_indicators_linked(app, client, delivering):
    result, _ = _store(app)
    fc = result["forecast"]
    assert fc["untracked"] == ["1", "3"] and fc["ceiling"] == {"total": 342, "stars": 4}
    login(client, "office")
    answer = _section(_text(client.get(URL)), "answer")
    line = _plain(_inside(answer, "ceiling-line", "</li>"))
    assert line.startswith("上限 342 分（4 星）") and "达到 4 星线（高出 2 分）" in line
    untracked = _inside(answer, "untracked", "</ul>")
    for number, name in (("1", "家庭光纤入户率"), ("3", "气象自动监测站覆盖率")):
        assert f'href="/plans/plan-a/standard-values#std-{number}"' in untracked
        assert f"第 {number} 项 {name}" in untracked
    # The direct entry page has the anchors the links point at.
    values_page = _text(client.get("/plans/plan-a/standard-values"))
    assert 'id="std-1"' in values_page and 'id="std-3"' in values_page
    # Points up to full marks are accounted for: untracked and capped indicators.
    why = _plain(_inside(answer, "why-sum", "</p>"))
    assert why == "满分 500 分 = 上限 342 分 + 未跟踪指标 20 分 + 封顶指标 138 分。"
    capped = _inside(answer, "capped", "</details>")
    row5 = re.search(r'<tr data-number="5">.*?</tr>', capped, re.S).group(0)
    assert "8 / 10" in _plain(row5) and "计划交付最多到 8 分" in _plain(row5)
    assert f'href="/indicators/{delivering["i1"]}"' in row5  # enter the tracked value there
    # A leader reads the same, without the office's entry links.
    login(client, "leader")
    answer = _section(_text(client.get(URL)), "answer")
    assert "第 1 项 家庭光纤入户率" in answer and "standard-values" not in answer


def test_figures_agree_with_the_explanation_and_the_direct_values_page(app, client, delivering):
    result, _ = _store(app)
    login(client, "office")
    page = _text(client.get(URL))
    total = result["forecast"]["current"]["total"]
    assert total == result["current"]["total"] == 337
    assert re.search(rf'data-testid="current-total">{total}<', page)
    assert re.search(rf'data-testid="explanation-total">{total}<', page)
    values_page = _text(client.get("/plans/plan-a/standard-values"))
    summary = _inside(values_page, "standard-summary", "</section>")
    assert re.search(rf"<b>{total}</b><span>当前得分</span>", summary)
    # The plan page names the same target.
    assert "目标 4 星（2021年10月31日）" in _text(client.get("/plans/plan-a"))
    # The distribution: every star level, never 0 % or 100 %.
    dist = _section(page, "distribution")
    for stars, p in enumerate(result["forecast"]["probabilities"]):
        assert re.search(rf'data-stars="{stars}">\s*<td>{stars} 星</td><td>{re.escape(prob(p))}</td>', dist)
    assert ">0.0%<" not in dist and ">100.0%<" not in dist


def test_the_cheapest_way_to_the_target_counts_steps_without_costs(app, client, delivering):
    result, _ = _store(app)
    gap = result["gap_target"]
    assert gap["target_stars"] == 4 and gap["points_needed"] == 3
    login(client, "office")
    page = _text(client.get(URL))
    way = _section(page, "plan-target")
    assert "达到 4 星的最低成本方案" in way
    assert f"总成本 {gap['cost']:g} 档" in _plain(way) and "按提升的档数计" in way
    assert not re.search(r"总成本 [\d.]+(?! 档)", _plain(way))  # a number always with its unit
    for step in gap["steps"]:
        row = _plain(re.search(rf'<tr data-number="{step["number"]}".*?</tr>', way, re.S).group(0))
        assert f"{step['from_level']} → {step['to_level']} 档" in row and f"+{step['points_gain']}" in row
    # Current three stars, target four: the next star is the target, so one plan only.
    assert 'data-testid="plan-next"' not in page and "冲击下一星级" not in page


def test_each_step_says_whether_a_milestone_already_delivers_it(app, client, delivering, monkeypatch):
    # By default the cheapest step is IPv6 (standard 10, entered directly): new work.
    result, _ = _store(app)
    assert [s["number"] for s in result["gap_target"]["steps"]] == ["10"]
    login(client, "office")
    way = _section(_text(client.get(URL)), "plan-target")
    row = re.search(r'<tr data-number="10".*?</tr>', way, re.S).group(0)
    assert "新增" in row and "计划中没有交付该指标的里程碑" in row and "已有" not in row
    assert "1 项全部是计划之外需要新增的工作" in _plain(way)
    # The office prices every other step at 10 人天: 联网率 2 → 3 is the way, and
    # 视频平台升级 already delivers 80 % (level 3, just what the step needs) for it.
    _deliver(monkeypatch, {("m1", "i1"): [80]})
    with app.app_context():
        plan = _plan()
        std = load_standard(CITY)
        plan.step_costs = {i["number"]: 10 for i in std["indicators"] if i["number"] not in ("5", "45")}
        plan.step_cost_unit = "人天"
        db.session.commit()
    result, _ = _store(app)
    steps = result["gap_target"]["steps"]
    assert [(s["number"], s["from_level"], s["to_level"]) for s in steps] == [("5", 2, 3)]
    p_done = result["forecast"]["indicators"]["5"]["deliveries"][0]["p_done"]
    way = _section(_text(client.get(URL)), "plan-target")
    row = re.search(r'<tr data-number="5".*?</tr>', way, re.S).group(0)
    assert "已有" in row and f'href="/milestones/{delivering["m_police"]}">视频平台升级</a>' in row
    assert "交付 6 分" in row and f"考核日前完成概率 <strong>{prob(p_done)}</strong>" in row
    assert "1 人天" in _plain(row)
    assert "其中 1 项计划中已有里程碑交付到该档" in _plain(way)
    assert "总成本 1 人天" in _plain(way)


def test_the_plan_is_priced_in_the_unit_the_office_names(app, client, delivering):
    login(client, "office")
    form = _cost_form(client, n2="3", n4="2.5", unit="人天")
    assert client.post(COSTS, data=form).status_code == 302
    result, _ = _store(app)
    assert result["cost_unit"] == "人天"
    way = _plain(_section(_text(client.get(URL)), "plan-target"))
    gap = result["gap_target"]
    assert f"总成本 {gap['cost']:g} 人天" in way and "档数" not in way
    for step in gap["steps"]:
        assert f"{step['cost']:g} 人天" in way


def test_the_target_star_comes_before_the_next_one_on_the_demo(app, client):
    """Weihai with its target raised to five stars: 3 stars today, the next star (4) is not
    the target (5), so the plan to five stars comes first and the one to four after it."""
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        _plan("weihai-1313").target_stars = 5
        db.session.commit()
    stored, _ = _store(app, code="weihai-1313")
    fc = stored["forecast"]
    assert fc["current"]["stars"] == 3 and stored["target_stars"] == 5
    login(client, "wh-office", "demo-pass-2021")
    page = _text(client.get("/plans/weihai-1313/stars"))
    target, nxt = page.index('data-testid="plan-target"'), page.index('data-testid="plan-next"')
    assert page.index('data-testid="answer"') < target < nxt
    way = _section(page, "plan-target")
    assert "达到 5 星的最低成本方案" in way
    assert f"还需 <strong>{stored['gap_target']['points_needed']} 分</strong>" in way
    nxt = _plain(_section(page, "plan-next"))
    assert "到下一星级（4 星）的最低成本方案" in nxt and "目标是 5 星，此方案只到 4 星" in nxt
    assert f"达到 4 星及以上的概率：{prob_text(sum(fc['probabilities'][4:]))}" in nxt
    # P(5 stars) is 0 in every sample: shown as below 0.1 %, with the sample count.
    answer = _section(page, "answer")
    if fc["p_target"] == 0:
        assert 'data-testid="p-target">&lt; 0.1%<' in answer and f"{SAMPLES} 次模拟中 0 次达到" in answer
    # Every untracked indicator is named and linked to its direct entry.
    for number in fc["untracked"]:
        assert f'href="/plans/weihai-1313/standard-values#std-{number}"' in answer


def test_when_the_next_star_is_the_target_one_plan_is_shown(app, client):
    """Weihai as loaded: 3 stars today, target 4: one plan, to four stars."""
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    stored, _ = _store(app, code="weihai-1313")
    assert stored["forecast"]["current"]["stars"] == 3 and stored["target_stars"] == 4
    login(client, "wh-office", "demo-pass-2021")
    page = _text(client.get("/plans/weihai-1313/stars"))
    assert "达到 4 星的最低成本方案" in _section(page, "plan-target")
    assert 'data-testid="plan-next"' not in page


def test_rests_on_departments_top_milestones_risks_and_assumptions(app, client, delivering):
    result, _ = _store(app)
    fc = result["forecast"]
    login(client, "office")
    page = _text(client.get(URL))
    top = _section(page, "top-milestones")
    assert fc["top_milestones"] and fc["top_milestones"][0]["id"] == "m1"
    assert f'href="/milestones/{delivering["m_police"]}">视频平台升级</a>' in top
    risk = _section(page, "at-risk")
    weak = [d for d in fc["indicators"]["5"]["deliveries"] if d["p_done"] < 0.5]
    assert bool(weak) == ('data-number="5"' in risk)
    departments = _section(page, "departments")
    for name, d in fc["departments"].items():
        assert name in departments and f"{d['on_time_rate'] * 100:.0f}%" in departments
    assumptions = _section(page, "assumptions")
    for line in fc["assumptions"]:
        assert f"<li>{line}</li>" in unescape(assumptions)


def test_viewers_and_scope(app, client, world):
    _store(app)
    for user in ("office", "leader", "admin", "province"):
        login(client, user)
        assert client.get(URL).status_code == 200, user
    login(client, "other_office")
    assert client.get(URL).status_code == 404
    page = _text(client.get("/plans/plan-b/stars"))  # its own plan, which has no standard
    assert "未指定评价标准" in page and 'data-testid="recompute"' not in page
    # Departments get what the plan pages give them, for the page and for the what-if.
    login(client, "police")
    expected = client.get("/plans/plan-a").status_code
    assert client.get(URL).status_code == expected
    token = csrf_from(client, "/notifications")
    assert client.post(WHAT_IF, data={"csrf_token": token}).status_code == expected


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


def test_a_run_of_an_older_engine_asks_for_a_recompute(app, client, world):
    _store(app)
    with app.app_context():
        run = latest_run(_plan())
        old = dict(run.result)
        del old["gap_target"]
        run.result = old
        db.session.commit()
    login(client, "office")
    page = _text(client.get(URL))
    assert "旧版测算引擎" in page and 'data-testid="recompute"' in page and 'id="what-if"' not in page


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


def _form_fields(page):
    """The what-if form's field names (inputs, selects, checkboxes) as the page renders them."""
    form = _inside(page, "what-if-form", "</form>")
    return set(re.findall(r'name="([^"]+)"', form))


def _what_if(client, fields, token=None):
    data = {"csrf_token": token or csrf_from(client, URL)}
    data.update(fields)
    return client.post(WHAT_IF, data=data)


def _assumed(page, row):
    """The what-if column's raw value of a comparison row."""
    match = re.search(rf'<tr data-row="{row}".*?data-raw="([^"]+)"', page, re.S)
    assert match, row
    return float(match.group(1))


def _rows(app):
    return [_count(app, model) for model in (ForecastRun, AuditEvent, IndicatorValue, Indicator, Milestone)]


def test_the_form_has_a_field_group_per_input_and_never_asks_for_json(app, client, delivering):
    _store(app)
    login(client, "office")
    page = _text(client.get(URL))
    fields = _form_fields(page)
    std = load_standard(CITY)
    for ind in std["indicators"]:
        n, spec = ind["number"], standard_spec(std, ind)
        expected = {f"w{n}-{f.name}" for f in spec.fields} | ({f"w{n}-level"} if spec.levels else set())
        assert expected and {f for f in fields if f.startswith(f"w{n}-")} == expected, n
        if ind["input"] == "coverage_intact":  # the parts of a compound indicator, each a field
            assert expected == {f"w{n}-coverage", f"w{n}-intact", f"w{n}-level"}
        if ind["input"] == "level-only":
            assert expected == {f"w{n}-level"}
        if ind["input"] == "deduction":
            assert expected == {f"w{n}-value"}
    assert {"done", "late", "csrf_token"} <= fields
    form = _inside(page, "what-if-form", "</form>")
    assert 'method="post"' in page.split('data-testid="what-if-form"', 1)[0].rsplit("<form", 1)[1]
    assert "JSON" not in form and "<textarea" not in form
    # Open milestones only, by key, each with both checkboxes.
    for key in ("m1", "m2", "m3", "m4"):
        assert f'name="done" value="{key}"' in form and f'name="late" value="{key}"' in form
    assert 'value="b1"' not in form  # another plan's milestone


def test_what_if_round_trip_shows_the_result_and_writes_nothing(app, client, delivering):
    stored, _ = _store(app)
    login(client, "leader")
    before = _rows(app)
    response = _what_if(client, {"w5-value": "90"})
    assert response.status_code == 200
    page = _text(response)
    result = page.split('data-testid="what-if-result"', 1)[1].split('data-testid="what-if-form"', 1)[0]
    assert "假设、未保存" in result and "没有保存任何数据" in result
    assert "第 5 项 城市重点公共区域视频监控联网率：假设今天测得 90%" in _plain(result)
    # 342 points today; by the target date the measured value may still drift below 90 %.
    assert _assumed(page, "current") == 342
    assert stored["forecast"]["p_target"] < _assumed(page, "p_target") > 0.95
    row = _plain(result.split('data-row="p_target"', 1)[1].split("</tr>", 1)[0])
    assert prob_text(stored["forecast"]["p_target"]) in row and prob_text(_assumed(page, "p_target")) in row
    changed = _inside(result, "what-if-changed", "</table>")
    assert "70% → 90%" in _plain(changed) and "3 → 8" in _plain(changed)
    # The stored run stays next to it, and the input stays in the form.
    assert prob(stored["forecast"]["p_target"]) in result
    assert 'name="w5-value" type="text" inputmode="decimal" value="90"' in page
    assert _rows(app) == before

    milestones = _text(_what_if(client, {"done": "m2"}))
    assert "里程碑“警务云建设”假设今天完成" in milestones
    assert re.search(r'name="done" value="m2" id="wi-done-\d+" aria-label="[^"]+" checked', milestones)
    late = _text(_what_if(client, {"late": "m2"}))
    # 警务云 holds up 视频平台: late, only drift can still bring four stars, as the stored run said.
    m2 = next(m for m in stored["forecast"]["top_milestones"] if m["id"] == "m2")
    assert _assumed(late, "p_target") == m2["p_target_if_late"] < stored["forecast"]["p_target"]
    assert _rows(app) == before


def test_raising_a_value_to_at_least_the_latest_never_lowers_p_target(app, client, delivering):
    _store(app)
    login(client, "office")
    base = _assumed(_text(_what_if(client, {})), "p_target")
    for value in ("70", "72.5", "80", "89.9", "90", "100"):  # the latest is 70
        page = _text(_what_if(client, {"w5-value": value}))
        assert _assumed(page, "p_target") >= base, value
        assert _assumed(page, "expected") >= _assumed(_text(_what_if(client, {})), "expected"), value
    for key in ("m1", "m2", "m3", "m4"):
        assert _assumed(_text(_what_if(client, {"done": key})), "p_target") >= base, key


def test_what_if_errors_name_the_indicator_and_keep_the_input(app, client, delivering):
    _store(app)
    login(client, "office")
    token = csrf_from(client, URL)
    before = _rows(app)
    cases = [
        (
            {"w5-value": "-3"},
            "标准第 5 项（城市重点公共区域视频监控联网率）：数值不能为负数，收到 -3",
            'value="-3"',
        ),
        (
            {"w5-value": "abc"},
            "标准第 5 项（城市重点公共区域视频监控联网率）：数值（%）必须是数字，收到“abc”",
            'value="abc"',
        ),
        ({"w4-coverage": "95"}, "请填写视频监控摄像机完好率（%）", 'value="95"'),
        (
            {"w5-value": "80", "w5-level": "3"},
            "请填写数值或选择达到的档次，二者只选其一",
            '<option value="3" selected>',
        ),
        ({"done": "b1"}, "里程碑 b1 不属于计划 plan-a", None),
        ({"done": "m1", "late": "m1"}, "里程碑“视频平台升级”不能同时假设为完成和延误", 'value="m1"'),
    ]
    for fields, words, kept in cases:
        response = _what_if(client, fields, token)
        assert response.status_code == 400, fields
        page = _text(response)
        errors = _inside(page, "what-if-errors", "</div>")
        assert words in unescape(errors), (fields, _plain(errors))
        assert 'data-testid="what-if-result"' not in page
        if kept:
            assert kept in page, fields
    # The group with the error opens and is marked.
    page = _text(_what_if(client, {"w5-value": "-3"}, token))
    assert re.search(r'<fieldset class="wi-ind has-error filled" id="wi-5"', page)
    assert _rows(app) == before


def test_what_if_needs_csrf_and_scope(app, client, world):
    _store(app)
    login(client, "office")
    assert client.post(WHAT_IF, data={"w5-value": "90"}).status_code == 400
    assert client.post(WHAT_IF, data={"w5-value": "90", "csrf_token": "forged"}).status_code == 400
    login(client, "other_office")
    token = csrf_from(client, "/notifications")
    assert client.post(WHAT_IF, data={"w5-value": "90", "csrf_token": token}).status_code == 404
    assert client.post("/plans/nope/stars/what-if", data={"csrf_token": token}).status_code == 404


# -- step costs ----------------------------------------------------------------


COSTS = f"{URL}/costs"


def _cost_form(client, unit=None, **fields):
    page = _text(client.get(COSTS))
    data = dict(re.findall(r'name="(cost-\d+)" value="([^"]*)"', page))
    data["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data["version"] = re.search(r'name="version" type="hidden" value="([^"]*)"', page).group(1)
    chosen = re.search(r'<option value="([^"]*)" selected>', page)
    data["unit"] = chosen.group(1) if unit is None and chosen else unit or ""
    data.update({f"cost-{k[1:]}": v for k, v in fields.items()})
    return data


def _costs_and_audits(app):
    with app.app_context():
        plan = _plan()
        audits = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "plan.step_costs")
        )
        return plan.step_costs, plan.step_cost_unit, audits


def test_step_costs_are_saved_with_their_unit_audited_and_recomputed(app, client, world):
    stored, _ = _store(app)
    first = stored["gap_target"]["steps"][0]["number"]
    login(client, "office")
    response = client.post(COSTS, data=_cost_form(client, unit="万元", **{f"n{first}": "50", "n3": "2.5"}))
    assert response.status_code == 302
    costs, unit, audits = _costs_and_audits(app)
    assert costs == {first: 50, "3": 2.5} and unit == "万元" and audits == 1
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.step_costs"))
        assert "成本单位 未设置 → 万元" in event.summary and f"第 {first} 项 1 → 50" in event.summary
        assert event.region_id == world["region_a"]
        assert event.before == {"step_costs": {}, "unit": None}
        assert event.after == {"step_costs": costs, "unit": "万元"}
        assert get_queue("default").job_ids == [job_id(world["plan_a"])]
    page = _text(client.get(URL))
    assert "提升成本已保存" in page and "测算后计划设置（如提升成本）有修改" in page
    # The worker's recompute picks a cheaper way to four stars, priced in 万元.
    new, _ = _store(app)
    assert first not in [s["number"] for s in new["gap_target"]["steps"]]
    assert new["gap_target"]["cost"] < 50 and new["cost_unit"] == "万元"
    page = _text(client.get(URL))
    assert f"总成本 {new['gap_target']['cost']:g} 万元" in _plain(_section(page, "plan-target"))
    assert f"第 {first} 项" in page.split('data-testid="step-costs"')[1]
    assert '<option value="万元" selected>' in _text(client.get(COSTS))


def test_step_costs_validation_is_all_or_nothing(app, client, world):
    login(client, "office")
    response = client.post(COSTS, data=_cost_form(client, unit="人天", n1="3", n3="-2", n7="abc", n8="0"))
    assert response.status_code == 400
    page = _text(response)
    assert "第 3 项（气象自动监测站覆盖率）的提升成本必须是大于 0 的数" in page
    assert "第 7 项（电子警察监控点覆盖率）的提升成本“abc”不是数字" in page
    assert "第 8 项（200M以上固定宽带用户占比）的提升成本必须是大于 0 的数" in page
    assert 'value="abc"' in page and '<option value="人天" selected>' in page  # what was typed stays
    unknown = _cost_form(client, unit="人天")
    unknown["cost-45"] = "2"  # the deduction has no level steps
    unknown["cost-77"] = "2"
    page = _text(client.post(COSTS, data=unknown))
    assert "没有可设置提升成本的第 45 项" in page and "没有可设置提升成本的第 77 项" in page
    # Costs need a unit; a unit must be one the form offers.
    page = _text(client.post(COSTS, data=_cost_form(client, unit="", n2="3")))
    assert "请选择成本单位（人天或万元）" in page
    page = _text(client.post(COSTS, data=_cost_form(client, unit="美元", n2="3")))
    assert "成本单位只能是人天或万元" in page
    assert _costs_and_audits(app) == ({}, None, 0)
    with app.app_context():
        assert get_queue("default").job_ids == []


def test_step_costs_optimistic_lock_and_permissions(app, client, world):
    login(client, "office")
    stale = _cost_form(client, unit="人天", n2="4")
    assert client.post(COSTS, data=_cost_form(client, unit="人天", n2="3")).status_code == 302
    response = client.post(COSTS, data=stale)
    assert response.status_code == 409 and "提升成本已被他人修改" in _text(response)
    assert _costs_and_audits(app) == ({"2": 3}, "人天", 1)
    # A change of unit alone is a change too (and moves the lock).
    unit_only = _cost_form(client, unit="万元")
    assert client.post(COSTS, data=unit_only).status_code == 302
    assert _costs_and_audits(app) == ({"2": 3}, "万元", 2)
    assert client.post(COSTS, data=unit_only).status_code == 409
    no_csrf = _cost_form(client, n2="5")
    del no_csrf["csrf_token"]
    assert client.post(COSTS, data=no_csrf).status_code == 400
    assert _costs_and_audits(app) == ({"2": 3}, "万元", 2)
    for user, status in (("leader", 403), ("admin", 403), ("other_office", 404)):
        login(client, user)
        assert client.get(COSTS).status_code == status, user
        token = csrf_from(client, "/notifications")
        data = {"csrf_token": token, "cost-2": "9", "unit": "人天"}
        assert client.post(COSTS, data=data).status_code == status
    assert _costs_and_audits(app) == ({"2": 3}, "万元", 2)


# -- the real plans ------------------------------------------------------------


def test_demo_plans_with_attainment(app, client):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    stored, _ = _store(app, code="zhangqiu-3n")
    login(client, "zq-office", "demo-pass-2021")
    page = _text(client.get("/plans/zhangqiu-3n/stars"))
    assert re.search(rf'data-testid="current-total">{stored["current"]["total"]}<', page)
    assert "到 2021年12月31日（考核日）能否达到 4 星" in _plain(_section(page, "answer"))
    attainment = page.split('data-testid="attainment"')[1].split("</section>")[0]
    four = stored["attainment"]["bands"]["4"]
    assert four["weighted"] is True
    row = re.search(r'<tr data-band="4">.*?</tr>', attainment, re.S).group(0)
    assert f"{four['attainment_pct']:g}%" in row and "按计划权重" in row
    assert "电子证照使用率" in attainment
    assert client.get("/plans/weihai-1313/stars").status_code == 404


def test_on_the_assessment_date_the_answer_is_settled_not_sampled(app, client, delivering):
    result, _ = _store(app, as_of=date(2021, 10, 31))
    fc = result["forecast"]
    assert fc["p_target"] == 0.0 and fc["p50"] == fc["current"]["total"] == 337
    login(client, "office")
    answer = _section(_text(client.get(URL)), "answer")
    assert 'data-testid="p-target">未达到<' in answer and "考核日已到，按最新值确定，不再模拟" in answer
    assert "模拟中" not in answer and "蒙特卡洛" not in answer


def test_what_if_against_a_stale_run_shows_todays_baseline_too(app, client, delivering):
    _store(app, as_of=date(2021, 3, 10))
    login(client, "office")
    page = _text(_what_if(client, {"w5-value": "90"}))
    result = _inside(page, "what-if-result", 'data-testid="what-if-form"')
    assert "<th>最新数据，不加假设</th>" in result and "测算后数据有更新" in result


def test_what_if_without_a_stored_run_computes_nothing(app, client, world):
    login(client, "office")
    response = _what_if(client, {"w5-value": "90"}, csrf_from(client, URL))
    assert response.status_code == 302 and response.location.endswith(URL)
    assert "尚无存储的星级测算结果" in _text(client.get(URL))
    assert _count(app, ForecastRun) == 0


def test_a_plan_of_many_open_milestones_lists_the_earliest_and_finds_the_rest(
    app, client, delivering, monkeypatch
):
    """The milestone table of the what-if form does not carry every open milestone of a big
    plan: the earliest due, a search box for the others, and an assumed one is never dropped."""
    from app.stars import whatif_form

    monkeypatch.setattr(whatif_form, "WHATIF_MILESTONES", 2)
    _store(app)
    login(client, "leader")

    def keys(page):
        form = _inside(page, "what-if-form", "</form>")
        return re.findall(r'name="done" value="([^"]+)"', form)

    page = _text(client.get(URL))
    assert keys(page) == ["m2", "m1"]  # due 2021-02-28, 2021-03-25 of four open ones
    assert "（4 个未完成，按到期日排序）" in page and 'data-testid="what-if-find"' in page
    assert keys(_text(client.get(URL + "?wi_q=公交"))) == ["m3"]
    assert "没有名称或编号含" in _text(client.get(URL + "?wi_q=不存在的里程碑"))
    posted = _text(_what_if(client, {"done": "m4"}))
    assert keys(posted) == ["m2", "m1", "m4"]
    assert re.search(r'name="done" value="m4" id="wi-done-\d+" aria-label="[^"]+" checked', posted)
    found = _text(_what_if(client, {"done": "m4", "wi_q": "公交"}))
    assert keys(found) == ["m3", "m4"]


def test_the_opened_form_follows_the_plans_rows_and_each_viewer_keeps_a_token_of_their_own(
    app, client, delivering
):
    """The fields of the form as opened are kept per process (app/section_cache.py): a
    milestone renamed or finished, or a new run, shows at once; the CSRF token is not kept."""
    _store(app)
    login(client, "office")
    form = _inside(_text(client.get(URL)), "what-if-form", "</form>")
    assert "警务云建设" in form and 'value="m2"' in form
    with app.app_context():
        m = db.session.scalar(select(Milestone).where(Milestone.key == "m2"))
        m.title = "警务云扩容"
        db.session.commit()
    form = _inside(_text(client.get(URL)), "what-if-form", "</form>")
    assert "警务云扩容" in form and "警务云建设" not in form
    with app.app_context():  # finished: no longer an open milestone to assume
        m = db.session.scalar(select(Milestone).where(Milestone.key == "m2"))
        m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 10)
        db.session.commit()
    assert 'value="m2"' not in _inside(_text(client.get(URL)), "what-if-form", "</form>")

    other = app.test_client()
    login(other, "leader")
    token = re.search(r'name="csrf_token" value="([^"]+)"', _text(other.get(URL))).group(1)
    mine = re.search(r'name="csrf_token" value="([^"]+)"', _text(client.get(URL))).group(1)
    assert token != mine
    assert _what_if(other, {}, token=token).status_code == 200


def test_a_new_run_shows_at_once_in_every_part_drawn_from_the_run(app, client, delivering):
    """The parts drawn from the stored run alone are kept per run (app/section_cache.py):
    a newer run with another current total replaces them at once."""
    first, _ = _store(app)
    login(client, "office")
    page = _text(client.get(URL))
    assert re.search(rf'data-testid="explanation-total">{first["current"]["total"]}<', page)
    with app.app_context():  # 联网率 (standard 5) measured higher: more points today
        ind = db.session.get(Indicator, delivering["i1"])
        _approved(ind, date(2021, 3, 10), 95, datetime(2021, 3, 11, 9))
        db.session.commit()
    second, _ = _store(app)
    assert second["current"]["total"] != first["current"]["total"]
    page = _text(client.get(URL))
    assert re.search(rf'data-testid="explanation-total">{second["current"]["total"]}<', page)
    dist = _section(page, "distribution")
    for stars, p in enumerate(second["forecast"]["probabilities"]):
        assert re.search(rf'data-stars="{stars}">\s*<td>{stars} 星</td><td>{re.escape(prob(p))}</td>', dist)
