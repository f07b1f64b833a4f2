"""The OpenAPI document: derived from the code, valid OpenAPI 3, every /api/v1 route in it
and in the permission table, Chinese descriptions, the one error shape declared; the docs page
is served with the app's own assets and no inline script."""

import re

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
