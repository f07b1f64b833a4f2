"""What every resource blueprint of /api/v1 shares: the token check before each request."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from flask_smorest import Blueprint

from app.api.auth import authenticate
from app.permissions import has_permission

SECURITY = [{"bearerAuth": []}]


class ApiBlueprint(Blueprint):
    """Successful responses described in Chinese unless a view says otherwise."""

    def response(self, status_code, schema=None, *, description=None, **kwargs):
        default = {200: "成功", 201: "已创建"}.get(int(status_code), "成功")
        return super().response(status_code, schema, description=description or default, **kwargs)


def blueprint(name: str, description: str) -> Blueprint:
    bp = ApiBlueprint(f"api_{name}", __name__, url_prefix="/api/v1", description=description)
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
