"""Every object URL answers 404 outside the user's region and department."""

import io
import re

import pytest

from app.extensions import db
from app.models import (
    ApiToken,
    Department,
    Dependency,
    Evidence,
    Indicator,
    IndicatorValue,
    Notice,
    ProgressReport,
    User,
)
from tests.conftest import csrf_from, login
from tests.factories import add_communities, build_world
from tests.test_functional import PDF


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        # A submitted report with evidence and an open notice on the transport milestone.
        r = ProgressReport(
            milestone_id=w["m_transport"],
            department_id=w["transport_dept"],
            author_id=w["transport"],
            kind="lead",
            text="进展",
            percent=30,
            claimed_status="in_progress",
            state="submitted",
        )
        db.session.add(r)
        db.session.flush()
        e = Evidence(
            report_id=r.id,
            milestone_id=w["m_transport"],
            uploaded_by_id=w["transport"],
            original_name="a.pdf",
            stored_name="x" * 40,
            sha256="0" * 64,
            size=10,
            content_type="application/pdf",
        )
        n = Notice(
            milestone_id=w["m_transport"],
            department_id=w["transport_dept"],
            issued_by_id=w["leader"],
            text="请加快",
            reply_due=w_date(),
        )
        d = Dependency(
            plan_id=r.milestone.plan_id, predecessor_id=w["m_police"], successor_id=w["m_transport"]
        )
        # An indicator the transport department answers for, with a submitted value.
        ind = Indicator(plan_id=r.milestone.plan_id, key="i2", name="公交电子站牌覆盖率", unit="%")
        ind.departments = [db.session.get(Department, w["transport_dept"])]
        value = IndicatorValue(
            indicator=ind, as_of=w_date(), value_number=30, state="submitted", entered_by_id=w["transport"]
        )
        db.session.add_all([e, n, d, ind, value])
        from app.api import tokens

        api_token_row, _secret = tokens.create(db.session.get(User, w["transport"]), "对接", 30)
        db.session.commit()
        w.ids.update(
            report=r.id,
            evidence=e.id,
            notice=n.id,
            dependency=d.id,
            indicator=ind.id,
            indicator_value=value.id,
            api_token=api_token_row.id,
            bulletin=_bulletin(r.milestone.plan_id),
        )
        return add_communities(w)


def _bulletin(plan_id):
    from app.models import Bulletin

    b = Bulletin(plan_id=plan_id, kind="on_demand", week=w_date(), as_of=w_date(), data={})
    db.session.add(b)
    db.session.commit()
    return b.id


def w_date():
    from datetime import date

    return date(2021, 4, 1)


def object_urls(w):
    """Every route that names an object, pointed at the transport milestone's objects."""
    m, r = w["m_transport"], w["report"]
    return [
        ("GET", f"/milestones/{m}"),
        ("GET", f"/milestones/{m}/report"),
        ("POST", f"/milestones/{m}/report"),
        ("POST", f"/milestones/{m}/notices"),
        ("POST", f"/milestones/{m}/dependencies"),
        ("GET", f"/milestones/{m}/predecessor-options"),
        ("POST", f"/dependencies/{w['dependency']}/delete"),
        ("GET", f"/milestones/{m}/extend"),
        ("POST", f"/milestones/{m}/extend"),
        ("GET", f"/milestones/{m}/edit"),
        ("POST", f"/milestones/{m}/edit"),
        ("GET", f"/reports/{r}/edit"),
        ("POST", f"/reports/{r}/edit"),
        ("GET", f"/review/reports/{r}"),
        ("POST", f"/review/reports/{r}/approve"),
        ("POST", f"/review/reports/{r}/return"),
        ("GET", f"/evidence/{w['evidence']}"),
        ("GET", f"/notices/{w['notice']}/answer"),
        ("POST", f"/notices/{w['notice']}/answer"),
        ("POST", f"/notices/{w['notice']}/acknowledge"),
        ("POST", f"/notices/{w['notice']}/accept"),
        ("POST", f"/notices/{w['notice']}/return"),
        ("POST", f"/reports/{r}/evidence/{w['evidence']}/delete"),
        ("GET", f"/indicators/{w['indicator']}"),
        ("POST", f"/indicators/{w['indicator']}/values"),
        ("POST", f"/indicator-values/{w['indicator_value']}/approve"),
        ("POST", f"/indicator-values/{w['indicator_value']}/return"),
        # One's own API tokens only: another user's token id answers 404.
        ("POST", f"/settings/api-tokens/{w['api_token']}/revoke"),
        # Region A's community: its 街道 office, A's plan office and leading group only.
        ("GET", f"/communities/{w['community_a']}"),
        ("POST", f"/communities/{w['community_a']}"),
        ("GET", f"/communities/{w['community_a']}/edit"),
        ("POST", f"/communities/{w['community_a']}/edit"),
        ("POST", f"/communities/{w['community_a']}/approve-all"),
        ("POST", f"/community-items/{w['community_item_a']}/approve"),
        ("POST", f"/community-items/{w['community_item_a']}/return"),
        ("GET", f"/community-evidence/{w['community_evidence_a']}"),
        ("POST", f"/community-evidence/{w['community_evidence_a']}/delete"),
    ]


def region_urls(w):
    """Routes naming a plan-wide object: every user of the plan's region may reach some."""
    return [("GET", f"/bulletins/{w['bulletin']}"), ("GET", f"/bulletins/{w['bulletin']}.xlsx")]


def plan_object_urls(w):
    """Routes keyed by a plan code and an object of that plan: (method, url, the same url
    for a plan that does not exist), which another region must not tell apart."""
    node = w["node_a"]
    return [
        ("GET", f"/plans/plan-a/nodes/{node}/children", f"/plans/no-such-plan/nodes/{node}/children"),
        # The API (asked with a token): a stored forecast of the plan.
        ("GET", "/api/v1/plans/plan-a/forecasts/1", "/api/v1/plans/no-such-plan/forecasts/1"),
    ]


REPORT_FORM = {"data": {"text": "进展", "percent": "50", "claimed_status": "in_progress"}}


def api_object_urls(w):
    """The open API's routes that name an object (Bearer token, not the session), pointed at
    the transport milestone's objects, with a valid body (a body is checked before the object
    is looked up, the same way whether it exists or not, so a bad one tells nothing)."""
    m, r = w["m_transport"], w["report"]
    return [
        ("GET", f"/api/v1/milestones/{m}", {}),
        ("GET", f"/api/v1/milestones/{m}/reports", {}),
        ("POST", f"/api/v1/milestones/{m}/reports", REPORT_FORM),
        ("GET", f"/api/v1/reports/{r}", {}),
        ("PUT", f"/api/v1/reports/{r}", REPORT_FORM),
        ("GET", f"/api/v1/notices/{w['notice']}", {}),
        ("POST", f"/api/v1/notices/{w['notice']}/answer", {"data": {"reply_text": "已办理"}}),
        ("GET", f"/api/v1/indicators/{w['indicator']}", {}),
        ("GET", f"/api/v1/indicators/{w['indicator']}/values", {}),
        (
            "POST",
            f"/api/v1/indicators/{w['indicator']}/values",
            {"json": {"as_of": "2021-03-01", "value": 50}},
        ),
    ]


def api_token(app, username: str) -> dict:
    from app.api import tokens
    from app.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        _row, secret = tokens.create(user, "权限测试", 1)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_every_object_route_is_listed(app, world):
    """Guard: a new route with an object id must join the table above."""
    urls = object_urls(world) + region_urls(world) + [(m, u) for m, u, _ in plan_object_urls(world)]
    urls += [(m, u) for m, u, _ in api_object_urls(world)]
    listed = {re.sub(r"/\d+", "/*", url) for _, url in urls}
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule and not rule.rule.startswith("/admin"):
            pattern = re.sub(r"/<int:\w+>", "/*", rule.rule.replace("<code>", "plan-a"))
            assert pattern in listed, rule.rule


@pytest.mark.parametrize("username", ["other", "other_office", "police"])
def test_outsiders_get_404(client, world, username):
    """Another region's users, and a department not on the milestone, see nothing."""
    login(client, username)
    token = csrf_from(client, "/notifications")
    for method, url in object_urls(world):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(
                url,
                data={
                    "csrf_token": token,
                    "percent": 50,
                    "claimed_status": "in_progress",
                    "text": "x",
                    "reason": "x",
                    "as_of": "2021-03-01",
                    "value": "50",
                    "version": "1",
                },
            )
        assert response.status_code == 404, (username, method, url, response.status_code)
    with client.application.app_context():
        assert db.session.get(IndicatorValue, world["indicator_value"]).state == "submitted"
        assert db.session.get(ApiToken, world["api_token"]).revoked_at is None
        assert db.session.scalar(db.select(db.func.count(IndicatorValue.id))) == 1


@pytest.mark.parametrize("username", ["other", "other_office", "police"])
def test_outsiders_get_404_through_the_api(app, client, world, username):
    """The API's object routes with a token of another region, or of a department not on the
    milestone: 404, and nothing written."""
    headers = api_token(app, username)
    for method, url, body in api_object_urls(world):
        response = client.open(url, method=method, headers=headers, **body)
        assert response.status_code == 404, (username, method, url, response.status_code)
        assert response.json["error"]["code"] == "not_found"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(IndicatorValue.id))) == 1
        assert db.session.scalar(db.select(db.func.count(ProgressReport.id))) == 1


@pytest.mark.parametrize("username", ["other", "other_office"])
def test_other_region_learns_nothing_on_every_plan_route(app, client, world, username):
    """Every route keyed by a plan code or a plan-wide object refuses another region exactly
    as it refuses a plan that does not exist: 404, or 403 for a role that may not use the
    route at all (a department on plan-wide pages)."""
    login(client, username)
    token = csrf_from(client, "/notifications")
    api = api_token(app, username)  # the API takes a Bearer token, never the session

    def ask(method, url):
        if url.startswith("/api/v1/"):
            return client.open(url, method=method, headers=api).status_code
        if method == "GET":
            return client.get(url).status_code
        return client.post(url, data={"csrf_token": token}).status_code

    urls = [(m, u, None) for m, u in region_urls(world)] + plan_object_urls(world)
    for rule in app.url_map.iter_rules():
        if "<code>" in rule.rule and "<int:" not in rule.rule:
            url = rule.rule.replace("<code>", "plan-a")
            missing = rule.rule.replace("<code>", "no-such-plan")
            urls += [(m, url, missing) for m in ("GET", "POST") if m in rule.methods]
    assert len(urls) > 20
    for method, url, missing in urls:
        status = ask(method, url)
        assert status in (403, 404), (username, method, url, status)
        if username == "other_office" or missing is None:
            assert status == 404, (username, method, url, status)
        else:
            assert status == ask(method, missing), (username, method, url, status)


def test_other_region_plan_is_404(client, world):
    login(client, "other_office")
    assert client.get("/plans/plan-a").status_code == 404
    assert client.get("/plans/plan-b").status_code == 200


def test_co_department_sees_milestone_and_lead_evidence(client, world, app):
    login(client, "transport")
    assert client.get(f"/milestones/{world['m_police']}").status_code == 200
    assert client.get(f"/milestones/{world['m_late']}").status_code == 404


@pytest.mark.parametrize(
    "username,url,status",
    [
        ("police", "/review", 403),
        ("police", "/admin/users", 403),
        ("police", "/plans", 403),
        ("leader", "/review", 403),
        ("leader", "/plans/plan-a", 200),
        ("province", "/plans/plan-b", 200),
        ("province", "/admin/users", 403),
        ("office", "/admin/users", 403),
        ("admin", "/admin/users", 200),
        ("office", "/review", 200),
        ("police", "/plans/plan-a/indicators", 200),
        ("other", "/plans/plan-a/indicators", 404),
        ("other_office", "/plans/plan-a/indicators", 404),
        ("province", "/plans/plan-a/indicators", 200),
        ("office", "/plans/plan-a/standard-values", 200),
        ("other_office", "/plans/plan-a/standard-values", 404),
        ("police", "/plans/plan-a/standard-values", 403),
        ("leader", "/plans/plan-a/standard-values", 403),
        ("province", "/plans/plan-a/standard-values", 403),
    ],
)
def test_role_permissions(client, world, username, url, status):
    login(client, username)
    assert client.get(url).status_code == status


def test_read_only_roles_cannot_change_anything(client, world):
    login(client, "province")
    token = csrf_from(client, "/notifications")
    m = world["m_police"]
    for url in [
        f"/milestones/{m}/notices",
        f"/milestones/{m}/extend",
        f"/milestones/{m}/report",
        f"/review/reports/{world['report']}/approve",
        f"/indicators/{world['indicator']}/values",
        f"/indicator-values/{world['indicator_value']}/approve",
        f"/indicator-values/{world['indicator_value']}/return",
        "/plans/plan-a/standard-values/5",
    ]:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(f"/milestones/{world['m_police']}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_evidence_outside_scope_is_404_even_with_a_real_file(client, world, app):
    login(client, "police")
    token = csrf_from(client, f"/milestones/{world['m_police']}/report")
    client.post(
        f"/milestones/{world['m_police']}/report",
        data={
            "csrf_token": token,
            "percent": 20,
            "claimed_status": "in_progress",
            "text": "进展",
            "files": (io.BytesIO(PDF), "证明.pdf"),
        },
        content_type="multipart/form-data",
    )
    with app.app_context():
        ev = db.session.scalars(db.select(Evidence).where(Evidence.original_name == "证明.pdf")).one()
    assert client.get(f"/evidence/{ev.id}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client, "/notifications")})
    login(client, "other")
    assert client.get(f"/evidence/{ev.id}").status_code == 404
