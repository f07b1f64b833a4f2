"""The 驾驶舱 on the demo: the first page of each role, the forecast headline equal to the
stored run, the red list first (order and content), every count a link to a list of
exactly that many rows, the province view with the same scores as 星级测算 and its xlsx,
and the scoping (other region 404, department 403, province reads only)."""

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for
from openpyxl import load_workbook
from sqlalchemy import select

from app.dashboard.runs import median_stars
from app.dates import cn_date
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.forecasting.snapshot import latest_run
from app.models import AuditEvent, ForecastRun, Milestone, Plan
from app.stars.present import prob
from app.status import plan_status
from tests.conftest import TEST_AS_OF, csrf_from
from tests.dashboard.conftest import WH, ZQ
from tests.dashboard.html import parse


def _plan(code):
    return db.session.scalar(select(Plan).where(Plan.code == code))


def _login(client, username):
    if client.get("/login").status_code == 302:
        client.post("/logout", data={"csrf_token": csrf_from(client, "/notifications")})
    token = csrf_from(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
        follow_redirects=True,
    )


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return parse(response.get_data(as_text=True))


# -- landing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username, first_page",
    [
        ("wh-leader", f"/plans/{WH}/dashboard"),
        ("zq-leader", f"/plans/{ZQ}/dashboard"),
        ("wh-office", f"/plans/{WH}/dashboard"),
        ("zq-office", f"/plans/{ZQ}/dashboard"),
        ("province", "/province"),
        ("wh-police", "/my"),
        ("admin", "/admin/users"),
    ],
)
def test_first_page_after_log_in(demo, client, username, first_page):
    response = _login(client, username)
    assert response.status_code == 200
    assert response.request.path == first_page
    assert client.get("/", follow_redirects=True).request.path == first_page  # the brand link too


def test_nav_links_per_role(demo, client):
    def nav(username):
        _login(client, username)
        page = parse(client.get("/notifications").get_data(as_text=True))
        return {a.norm_text(): a["href"] for a in page.find("nav").find_all("a")}

    assert nav("wh-leader")["驾驶舱"] == "/dashboard" and "全省" not in nav("wh-leader")
    assert nav("wh-office")["驾驶舱"] == "/dashboard"
    assert nav("province")["全省"] == "/province" and "驾驶舱" not in nav("province")
    police = nav("wh-police")
    assert "驾驶舱" not in police and "全省" not in police and police["我的工作"] == "/my"
    # the plan tree stays reachable
    assert nav("wh-leader")["行动计划"] == "/plans"
    assert client.get(f"/plans/{WH}").status_code == 200


def test_plan_office_sees_what_waits_for_review(demo, client):
    page = parse(_login(client, "wh-office").get_data(as_text=True))
    queue = client.get("/review").get_data(as_text=True)
    reports = re.search(r"待审核的进展汇报（(\d+)）", queue).group(1)
    values = re.search(r"待审核指标值（(\d+)）", queue).group(1)
    link = page.one("pending-review").find("a")
    assert link["href"] == "/review"
    assert link.norm_text() == f"待审核：{reports} 份进展汇报、{values} 个指标值 →"
    _login(client, "wh-leader")  # the leading group does not review
    assert _page(client, f"/plans/{WH}/dashboard").by_testid("pending-review") == []


def test_region_with_several_plans_chooses(demo, app, client):
    with app.app_context():
        other = Plan(
            region_id=_plan(WH).region_id,
            code="weihai-extra",
            title="威海市补充计划",
            period_start=TEST_AS_OF,
            period_end=TEST_AS_OF + timedelta(days=365),
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    try:
        page = parse(_login(client, "wh-leader").get_data(as_text=True))
        links = [a["href"] for a in page.one("plans").find_all("a") if "/dashboard" in a["href"]]
        assert f"/plans/{WH}/dashboard" in links and "/plans/weihai-extra/dashboard" in links
        assert f"/plans/{ZQ}/dashboard" not in links
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Plan, other_id))
            db.session.commit()


# -- the headline --------------------------------------------------------------------


@pytest.mark.parametrize("code", [WH, ZQ])
def test_headline_is_the_stored_run(demo, app, client, code):
    _login(client, "province")
    page = _page(client, f"/plans/{code}/dashboard")
    with app.app_context():
        run = latest_run(_plan(code))
        result, as_of = run.result, run.as_of
        week = db.session.scalar(
            select(ForecastRun)
            .where(ForecastRun.plan_id == run.plan_id, ForecastRun.as_of <= TEST_AS_OF - timedelta(days=7))
            .order_by(ForecastRun.as_of.desc())
        )
        before = week.result
    fc = result["forecast"]
    assert as_of == TEST_AS_OF
    assert page.one("p-target").norm_text() == prob(fc["p_target"])
    assert page.one("target-stars").norm_text() == f"{result['target_stars']} 星"
    assert page.one("target-date").norm_text() == cn_date(result["target_date"])
    assert page.one("p50").norm_text() == f"{fc['p50']} 分"
    assert page.one("median-stars").norm_text() == f"{median_stars(fc['probabilities'])} 星"
    cur = result["current"]
    assert page.one("current").norm_text() == f"{cur['total']} 分（{cur['stars']} 星）"
    rests = page.one("rests-on")
    assert "据 2021年3月15日 数据测算" in rests.norm_text()
    assert rests.find("a")["href"] == f"/plans/{code}/stars"
    # the change since last week compares with the demo's run of 2021年3月8日
    change = page.one("week-change").norm_text()
    assert "据 2021年3月8日 测算" in change
    dp50 = fc["p50"] - before["forecast"]["p50"]
    assert (f"得分中位数 {dp50:+d} 分" if dp50 else "得分中位数 ±0 分") in change


def test_probabilities_as_people_read_them():
    assert prob(0.0003) == "< 0.1%" and prob(0.9997) == "> 99.9%" and prob(0.375) == "37.5%"
    assert median_stars([0, 0, 0.0003, 0.9997, 0, 0]) == 3
    assert median_stars([0, 0, 0.5, 0.5, 0, 0]) == 3
    assert median_stars([0, 0, 0.6, 0.4, 0, 0]) == 2


def test_no_week_old_run_said_plainly(demo, app, client):
    with app.app_context():
        plan = _plan(ZQ)
        kept = [
            (r.id, r.as_of)
            for r in db.session.scalars(select(ForecastRun).where(ForecastRun.plan_id == plan.id))
            if r.as_of < TEST_AS_OF
        ]
        for rid, _ in kept:  # hide the earlier runs for a moment
            db.session.get(ForecastRun, rid).as_of = TEST_AS_OF + timedelta(days=400)
        db.session.commit()
    try:
        _login(client, "zq-leader")
        text = _page(client, f"/plans/{ZQ}/dashboard").one("week-change").norm_text()
        assert text == "没有数据截至 2021年3月8日 或更早的另一次测算，无法与一周前比较。"
    finally:
        with app.app_context():
            for rid, as_of in kept:
                db.session.get(ForecastRun, rid).as_of = as_of
            db.session.commit()


# -- the red list first ----------------------------------------------------------------


def _points_at_stake(cell_text):
    return sum(int(x) for x in re.findall(r"\+(\d+)分", cell_text))


@pytest.mark.parametrize("code, leader", [(WH, "wh-leader"), (ZQ, "zq-leader")])
def test_red_list_order_and_content(demo, app, client, code, leader):
    _login(client, leader)
    page = _page(client, f"/plans/{code}/dashboard")
    rows = page.one("red-list").find_all("tr", data_testid="item")
    with app.app_context():
        ps = plan_status(_plan(code), TEST_AS_OF)
        expected = ps.red_list()
        assert [int(r["data-milestone"]) for r in rows] == [e.milestone.id for e in expected]
        assert len(rows) == ps.counts.red > 0
        keys = []
        for tr, e in zip(rows, expected, strict=True):
            m = e.milestone
            cell = {td.get("data-testid"): td for td in tr.find_all("td")}
            assert cell["item-department"].norm_text() == m.lead_department.name
            late = cell["item-late"].norm_text()
            assert late == (f"{e.status.days_late} 天" if e.status.days_late else "未逾期")
            report = cell["item-report"].norm_text()
            if e.latest_report is not None:
                r = e.latest_report
                assert report == f"{r.text} {cn_date(r.submitted_at or r.reviewed_at)}"
            else:
                assert report == "尚无汇报"
            down = cell["item-downstream"]
            if e.downstream:
                assert down.find("b").norm_text() == f"{len(e.downstream)} 项"
                hrefs = [a["href"] for a in down.find_all("a")]
                assert hrefs == [f"/milestones/{d.id}" for d in e.downstream]
            else:
                assert down.norm_text() == "无"
            points = cell["item-points"].norm_text()
            assert points == ("，".join(f"标准第{p['number']}项 +{p['points']}分" for p in e.points) or "—")
            p = cell["item-p"].norm_text()
            assert p == (prob(e.p_finish) if e.p_finish is not None else "—")
            assert tr.find("a", data_testid="item-title")["href"] == f"/milestones/{m.id}"
            assert tr.find("a", data_testid="act")["href"] == f"/milestones/{m.id}"  # 督办 there
            days = int(late.split()[0]) if late != "未逾期" else 0
            keys.append((-days, -_points_at_stake(points)))
    # what the reader sees is in order: the longest overdue first, then the most points
    assert keys == sorted(keys)
    # the red list comes before the yellow one and before the counts
    html = client.get(f"/plans/{code}/dashboard").get_data(as_text=True)
    assert html.index('data-testid="red-section"') < html.index('data-testid="yellow-section"')
    assert html.index('data-testid="yellow-section"') < html.index('data-testid="by-node"')


def test_red_list_demo_facts(demo, client):
    """What a Weihai leader reads first on the demo, and Zhangqiu's points at stake."""
    _login(client, "wh-leader")
    first = _page(client, f"/plans/{WH}/dashboard").one("red-list").find("tr", data_testid="item")
    cells = {td.get("data-testid"): td.norm_text() for td in first.find_all("td")}
    assert cells["item-late"] == "74 天"
    assert "推进中，部分内容尚未完成。" in cells["item-report"]
    _login(client, "zq-leader")
    first = _page(client, f"/plans/{ZQ}/dashboard").one("red-list").find("tr", data_testid="item")
    cells = {td.get("data-testid"): td.norm_text() for td in first.find_all("td")}
    assert cells["item-points"] == "标准第1项 +4分，标准第2项 +8分，标准第7项 +4分"
    assert cells["item-department"] == "区工业和信息化局"


# -- every count is a link to exactly that many rows --------------------------------------


def _count_links(page):
    out = []
    for a in page.by_testid("count"):
        assert a.tag == "a" and a.get("href"), "a count that is not a link"
        assert a.norm_text() == a["data-count"]
        out.append((a["href"], int(a["data-count"])))
    return out


def _check_links(client, links):
    cache = {}
    for href, n in links:
        if href not in cache:
            page = _page(client, href)
            rows = page.find_all("tr", data_testid="item")
            shown = int(page.one("list-count").norm_text())
            assert shown == len(rows), href
            cache[href] = (len(rows), rows)
        got, rows = cache[href]
        assert got == n, f"{href}: the count says {n}, the list has {got}"
        colour = parse_qs(urlsplit(href).query).get("colour", [None])[0]
        if colour:
            assert all(r.has_class(f"c-{colour}") for r in rows), href
    return cache


@pytest.mark.parametrize("code, leader", [(WH, "wh-leader"), (ZQ, "zq-leader")])
def test_every_count_links_to_that_many_rows(demo, app, client, code, leader):
    _login(client, leader)
    page = _page(client, f"/plans/{code}/dashboard")
    links = _count_links(page)
    with app.app_context():
        ps = plan_status(_plan(code), TEST_AS_OF)
        nodes = sum(1 for c in ps.by_node.values() if c.total)
        total = ps.counts.total
    # the plan strip, every node with milestones, every lead department: 5 counts each
    assert len(links) == 5 * (1 + nodes + len(ps.by_department))
    strip = _count_links(page.one("plan-counts"))
    assert strip[-1][1] == total and sum(n for _, n in strip[:-1]) == total
    cache = _check_links(client, links)
    # the lists are the milestones themselves: the plan's total list names each once
    ids = [int(r["data-milestone"]) for r in cache[strip[-1][0]][1]]
    assert len(ids) == len(set(ids)) == total


def test_province_counts_link_to_lists(demo, client):
    _login(client, "province")
    links = _count_links(_page(client, "/province"))
    assert len(links) == 8  # two areas, four colours
    _check_links(client, links)


def test_list_filter_errors_are_named(demo, client):
    _login(client, "wh-leader")
    for query, words in [
        ("colour=pink", "颜色“pink”无效"),
        ("node=abc", "节点编号“abc”不是数字"),
        ("node=999999", "节点 999999 不属于计划"),
        ("department=999999", "部门 999999 在计划"),
    ]:
        response = client.get(f"/plans/{WH}/dashboard/list?{query}")
        assert response.status_code == 400 and words in response.get_data(as_text=True), query


# -- the province view ------------------------------------------------------------------


def _area_rows(page):
    out = {}
    for tr in page.one("province").find_all("tr", data_testid="area"):
        cells = {td.get("data-testid"): td.norm_text() for td in tr.find_all("td") if td.get("data-testid")}
        out[tr["data-plan"]] = cells
    return out


def test_province_sees_both_areas_as_on_their_stars_pages(demo, client):
    _login(client, "province")
    page = _page(client, "/province")
    rows = _area_rows(page)
    assert set(rows) == {WH, ZQ}
    assert rows[WH]["area-region"] == "威海市" and rows[ZQ]["area-region"] == "章丘区"
    for code in (WH, ZQ):
        stars = _page(client, f"/plans/{code}/stars")
        assert rows[code]["area-score"] == stars.one("current-total").norm_text()
        line = stars.one("current-line").norm_text()
        assert f"（{rows[code]['area-stars']}）" in line
        assert rows[code]["area-p"] == stars.one("p-target").norm_text()
        # the trend compares with the demo's run a month before (2021年2月13日)
        assert rows[code]["area-trend-score"] != "无可比测算"
    rests = page.one("rests-on").norm_text()
    assert "按 2021年3月15日 计算" in rests and "2021年2月13日 或更早" in rests
    # drill-down into the area's dashboard, read-only
    drill = [a["href"] for a in page.by_testid("drill")]
    assert set(drill) == {f"/plans/{WH}/dashboard", f"/plans/{ZQ}/dashboard"}
    for href in drill:
        dash = _page(client, href)
        assert (
            dash.by_testid("act") == []
            and dash.find("form", method="post") is None
            or all(f.get("action") == "/logout" for f in dash.find_all("form"))
        )


def test_province_trend_matches_month_old_run(demo, app, client):
    _login(client, "province")
    rows = _area_rows(_page(client, "/province"))
    with app.app_context():
        for code in (WH, ZQ):
            plan = _plan(code)
            month = db.session.scalar(
                select(ForecastRun).where(
                    ForecastRun.plan_id == plan.id, ForecastRun.as_of == TEST_AS_OF - timedelta(days=30)
                )
            )
            now = latest_run(plan)
            delta = now.result["current"]["total"] - month.result["current"]["total"]
            assert rows[code]["area-trend-score"] == (f"{delta:+d} 分" if delta else "±0 分")


@pytest.mark.parametrize(
    "key, value",
    [
        ("score", lambda r: int(r["area-score"])),
        ("overdue", lambda r: int(r["area-overdue"])),
        ("region", lambda r: r["area-region"]),
    ],
)
def test_province_sorts_server_side(demo, client, key, value):
    _login(client, "province")
    for direction in ("asc", "desc"):
        page = _page(client, f"/province?sort={key}&dir={direction}")
        rows = list(_area_rows(page).values())
        values = [value(r) for r in rows]
        assert values == sorted(values, reverse=direction == "desc"), (key, direction)
        assert page.one(f"sort-{key}").norm_text().endswith("▲" if direction == "asc" else "▼")
    # an unknown column is the default order, not an error
    assert client.get("/province?sort=__class__&dir=sideways").status_code == 200


def test_province_xlsx_has_the_page_rows(demo, client):
    _login(client, "province")
    page_rows = _area_rows(_page(client, "/province?sort=score&dir=desc"))
    response = client.get("/province.xlsx?sort=score&dir=desc")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    title = ws.cell(1, 1).value
    assert "按 2021年3月15日 计算" in title and "2021年2月13日 或更早" in title
    header = [c.value for c in ws[2]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=3)]
    assert [r["区域"] for r in rows] == [p["area-region"] for p in page_rows.values()]
    for r, p in zip(rows, page_rows.values(), strict=True):
        assert str(r["当前得分"]) == p["area-score"]
        assert f"{r['当前星级']} 星" == p["area-stars"]
        assert r["达到目标星级的概率"] == p["area-p"]
        assert r["逾期"] == int(p["area-overdue"])
        assert r["得分变化（较30天前）"] == p["area-trend-score"]
        assert r["概率变化（较30天前）"] == p["area-trend-p"]
        assert r["测算数据截至"].date() == TEST_AS_OF


# -- scoping ------------------------------------------------------------------------------


def test_scoping(demo, client):
    _login(client, "zq-leader")
    for url in (f"/plans/{WH}/dashboard", f"/plans/{WH}/dashboard/list?colour=red"):
        assert client.get(url).status_code == 404
    assert client.get("/province").status_code == 403
    assert client.get("/province.xlsx").status_code == 403
    _login(client, "wh-police")
    for url in (f"/plans/{WH}/dashboard", f"/plans/{WH}/dashboard/list", "/dashboard", "/province"):
        assert client.get(url).status_code == 403, url
    _login(client, "wh-office")
    assert client.get("/province").status_code == 403
    assert client.get(f"/plans/{ZQ}/dashboard").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client, "/notifications")})
    response = client.get(f"/plans/{WH}/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_leader_may_act_province_may_not(demo, client):
    _login(client, "wh-leader")
    assert _page(client, f"/plans/{WH}/dashboard").by_testid("act")
    _login(client, "province")
    page = _page(client, f"/plans/{WH}/dashboard")
    assert page.by_testid("act") == []
    assert [f.get("action") for f in page.find_all("form")] == ["/logout"]
    assert _page(client, f"/plans/{WH}/dashboard/list?colour=red").by_testid("act") == []


def test_province_cannot_post_anything(demo, app, client):
    """Every state-changing route, with a valid CSRF token and real ids: 403, 404 or 405,
    and nothing written."""
    _login(client, "province")
    token = csrf_from(client, "/notifications")
    with app.app_context():
        ids = {
            "code": WH,
            "milestone_id": db.session.scalar(select(Milestone.id).limit(1)),
        }
        before = db.session.scalar(select(db.func.count(AuditEvent.id)))
    # the user's own: log-out, password change, reminder settings, marking notifications read; the what-if
    # form computes and saves nothing
    own = {
        "auth.login",
        "auth.logout",
        "auth.change_password",
        "notify.my_settings",
        "mywork.mark_read",
        "stars.what_if_view",
        "auth.api_tokens",  # the user's own API tokens (the API then reads as the user does)
        "auth.revoke_api_token",
    }
    tried = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in own:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: ids.get(a, 1) for a in rule.arguments})
        response = client.post(url, data={"csrf_token": token})
        # the API takes no session at all: 401 before anything (its own tests use tokens)
        refused = (401,) if url.startswith("/api/") else (403, 404, 405)
        assert response.status_code in refused, (rule.endpoint, url, response.status_code)
        tried += 1
    assert tried >= 10
    with app.app_context():
        assert db.session.scalar(select(db.func.count(AuditEvent.id))) == before
    # the dashboard routes take no POST at all
    for url in (f"/plans/{WH}/dashboard", f"/plans/{WH}/dashboard/list", "/province", "/province.xlsx"):
        assert client.post(url, data={"csrf_token": token}).status_code == 405


def test_a_long_colour_list_is_cut_on_the_dashboard_and_paged_in_full(demo, app, client, monkeypatch):
    """A plan of thousands of milestones must not put them all on one page: the 驾驶舱 shows
    the first of each colour with a link to the whole list; the list pages, every red row
    once, in the red list's order."""
    from app.dashboard import routes

    monkeypatch.setattr(routes, "DASH_ITEMS", 5)
    monkeypatch.setattr(routes, "LIST_PAGE", 7)
    _login(client, "wh-leader")
    page = _page(client, f"/plans/{WH}/dashboard")
    with app.app_context():
        expected = [r.milestone.id for r in plan_status(_plan(WH), TEST_AS_OF).red_list()]
    assert len(expected) > 7
    rows = page.one("red-list").find_all("tr", data_testid="item")
    assert [int(r["data-milestone"]) for r in rows] == expected[:5]
    more = page.one("red-more")
    assert f"查看全部 {len(expected)} 项" in more.norm_text()
    href = more.find_all("a")[0]["href"]
    seen, url = [], href
    for _ in range(10):
        listing = _page(client, url)
        assert listing.one("list-count").norm_text() == str(len(expected))
        seen += [int(r["data-milestone"]) for r in listing.find_all("tr", data_testid="item")]
        nxt = [a for a in listing.one("pager").find_all("a") if "下一页" in a.norm_text()]
        if not nxt:
            break
        url = nxt[0]["href"]
    assert seen == expected
