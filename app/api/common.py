"""What every resource blueprint of /api/v1 shares: the token check before each request and
the document's sections (tags)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from flask_smorest import Blueprint

from app.api.auth import authenticate
from app.permissions import has_permission

SECURITY = [{"bearerAuth": []}]

# The document's sections (tags) in the docs page's order: the name shown and what it holds.
# flask-smorest would tag each operation with its blueprint's name (api_plans …), which also
# prefixes the endpoint names url_for uses; so every route names its section instead, and
# app.api.init_app puts this list in the document in place of the blueprint names.
TAGS = {
    "计划": "计划与计划树节点",
    "标准得分": "标准指标得分：最近一次星级测算的当前得分",
    "星级预测": "已存的星级预测及其完整结果",
    "里程碑": "里程碑（含三色），可按计划、状态、三色、部门、期限筛选",
    "进展汇报": "里程碑的进展汇报：查看，提交与修改（含佐证材料）",
    "指标": "指标与指标数值：查看与录入",
    "督办": "督办单：查看与被督办部门的反馈",
    "提醒记录": "提醒记录（仅管理员）",
}


class ApiBlueprint(Blueprint):
    """Successful responses described in Chinese unless a view says otherwise; each route in
    the blueprint's section (`tag`) unless it names its own (route(…, tags=[…]))."""

    def __init__(self, *args, tag: str, **kwargs):
        super().__init__(*args, description=TAGS[tag], **kwargs)
        self.tag = tag

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **kwargs):
        tags = kwargs.pop("tags", None) or [self.tag]
        unknown = set(tags) - TAGS.keys()
        if unknown:
            raise ValueError(f"{rule}: tags {sorted(unknown)} are not in app.api.common.TAGS")
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, tags=tags, **kwargs)

    def response(self, status_code, schema=None, *, description=None, **kwargs):
        default = {200: "成功", 201: "已创建"}.get(int(status_code), "成功")
        return super().response(status_code, schema, description=description or default, **kwargs)


def blueprint(name: str, tag: str) -> Blueprint:
    """The blueprint api_<name> (its endpoints api_<name>.…), its routes in the section `tag`."""
    bp = ApiBlueprint(f"api_{name}", __name__, url_prefix="/api/v1", tag=tag)
    bp.before_request(authenticate)
    return bp


def need(permission: str) -> None:
    """403 without the permission (after the scoped loader, so outsiders get 404 first)."""
    if not has_permission(current_user, permission):
        abort(403)


IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "上次读取时的 ETag；记录已被修改时返回 412，不写入任何内容",
}

ETAG_HEADER = {
    "ETag": {"description": "记录的当前版本，写入时放在 If-Match 中", "schema": {"type": "string"}}
}
