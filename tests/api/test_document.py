"""The OpenAPI document: derived from the code, valid OpenAPI 3, every /api/v1 route in it
and in the permission table, Chinese descriptions, the one error shape declared; the docs page
is served with the app's own assets and no inline script."""

import re

from flask import url_for
from openapi_spec_validator import validate

from tests.test_permission_matrix import TABLE

NOT_OPERATIONS = {"/api/v1/openapi.json", "/api/v1/docs"}
CHINESE = re.compile("[\u4e00-\u9fff]")


def _doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.json


def test_the_document_is_valid_openapi_3(client):
    doc = _doc(client)
    assert doc["openapi"].startswith("3.")
    validate(doc)


def test_every_api_route_is_in_the_document_and_the_permission_table(app, client):
    doc = _doc(client)
    documented = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        assert rule.rule.startswith("/api/v1/"), rule.rule
        assert rule.rule in TABLE, f"{rule.rule} is not in tests/test_permission_matrix.py TABLE"
        if rule.rule in NOT_OPERATIONS:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented


def test_operations_are_described_in_chinese_and_declare_the_error_shape(client):
    doc = _doc(client)
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "个人接口令牌",
    }
    assert doc["security"] == [{"bearerAuth": []}]
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = doc["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"status", "code", "message"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert CHINESE.search(op["summary"]), (path, method)
            assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (
                path,
                method,
            )
    assert CHINESE.search(doc["info"]["description"])
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        response = doc["components"]["responses"][name]
        assert CHINESE.search(response["description"])
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


SECTIONS = ["计划", "标准得分", "星级预测", "里程碑", "进展汇报", "指标", "督办", "提醒记录"]


def test_sections_have_chinese_names_and_hold_every_operation(app, client):
    """The docs page's sections (tags) are named in Chinese, each described, none empty; every
    operation is in one of them; the endpoint names url_for uses stay the blueprints' own."""
    doc = _doc(client)
    assert [t["name"] for t in doc["tags"]] == SECTIONS
    assert all(CHINESE.search(t["description"]) for t in doc["tags"])
    section = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert len(op["tags"]) == 1 and op["tags"][0] in SECTIONS, (path, method, op["tags"])
            section[path, method] = op["tags"][0]
    assert set(section.values()) == set(SECTIONS)
    # sub-resources in their own section
    assert section["/api/v1/plans/{code}", "get"] == "计划"
    assert section["/api/v1/plans/{code}/scores", "get"] == "标准得分"
    assert section["/api/v1/plans/{code}/forecasts/{run_id}", "get"] == "星级预测"
    assert section["/api/v1/milestones/{milestone_id}", "get"] == "里程碑"
    assert section["/api/v1/milestones/{milestone_id}/reports", "post"] == "进展汇报"
    assert section["/api/v1/reports/{report_id}", "put"] == "进展汇报"
    with app.test_request_context():
        assert url_for("api_plans.plans") == "/api/v1/plans"
        assert url_for("api_milestones.MilestoneReports", milestone_id=7) == "/api/v1/milestones/7/reports"
        assert url_for("api_reminders.reminders") == "/api/v1/reminders"


def test_docs_page_uses_local_assets_and_no_inline_script(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in (
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "vendor/swagger-ui/swagger-ui.css",
        "api_docs.js",
    ):
        assert client.get(f"/static/{asset}").status_code == 200, asset
