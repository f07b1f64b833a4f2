"""The open API /api/v1 for other government systems (flask-smorest + marshmallow: the
OpenAPI document at /api/v1/openapi.json is derived from these blueprints and schemas).

Authentication is a personal token (Authorization: Bearer …) only; see app/api/auth.py."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from app.api.common import TAGS
from app.api.errors import ErrorSchema

DESCRIPTION = """星途 StarPath 的开放接口：计划进度、里程碑（含三色）、指标数值、星级得分与预测、
督办与提醒记录；
责任部门可通过接口提交进展汇报（含佐证材料）、录入指标数值、反馈督办。

认证：在请求头中携带 `Authorization: Bearer 令牌`。令牌由管理员用
`flask --app wsgi api token create 用户名` 创建，或由用户在“接口令牌”页面自行创建；
令牌与其账号权限、数据范围完全相同（范围外的对象返回 404）。

每个列表都分页（page、per_page）；可修改的对象带 ETag，写入时可带 If-Match，版本不符返回 412 且不写入。
所有错误的格式相同：`{"error": {"status": 404, "code": "not_found", "message": "中文说明"}}`。"""


RESPONSES = {
    "DEFAULT_ERROR": "错误：401 无有效令牌、403 无权限、404 不存在或不在权限范围内、409 状态冲突、"
    "412 If-Match 版本不符、413 过大、429 请求过于频繁等，格式统一",
    "UNPROCESSABLE_ENTITY": "请求参数未通过校验（details 按字段列出）",
}


class StarPathApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """None here: app/errors.py answers every error under /api/v1 in the one JSON shape."""

    def _register_responses(self):
        """The shared responses, described in Chinese (flask-smorest's own, with its phrases, otherwise)."""
        super()._register_responses()
        for name, description in RESPONSES.items():
            response = {"description": description, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.responses_lazy.pop(name, None)
            self.spec.components.response(name, response, lazy=True)


api = StarPathApi()


def init_app(app: Flask) -> None:
    from app.api import docs, indicators, milestones, notices, plans, reminders
    from app.extensions import csrf

    api.init_app(
        app,
        spec_kwargs={
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/", "description": "本站"}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "个人接口令牌"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]
    # flask-smorest lists one tag per blueprint, named after it (api_plans …); the spec's
    # options take precedence over that list in the document (apispec's to_dict).
    api.spec.options["tags"] = [{"name": name, "description": text} for name, text in TAGS.items()]
    for module in (plans, milestones, indicators, notices, reminders):
        # A session cookie never authenticates these routes (only a Bearer token does), so a
        # cross-site request cannot act with a visitor's rights: no CSRF token is needed.
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.register_blueprint(docs.bp)
