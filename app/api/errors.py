"""One JSON error shape for every 4xx/5xx under /api/v1:
{"error": {"status": 404, "code": "not_found", "message": "中文说明", "details": {…}}}.

app/errors.py sends API paths here, so the shape holds for errors raised outside the API's
blueprints too (an unknown path, a method the route does not take, the JSON guard)."""

from __future__ import annotations

import marshmallow as ma
from flask import jsonify, request
from werkzeug.exceptions import HTTPException

PREFIX = "/api/v1"

CODES = {
    400: ("bad_request", "请求有误，无法处理。"),
    401: ("unauthorized", "缺少有效的访问令牌：请在 Authorization 头中提供 Bearer 令牌。"),
    403: ("forbidden", "该令牌所属账号没有执行此操作的权限。"),
    404: ("not_found", "资源不存在，或不在该账号的权限范围内。"),
    405: ("method_not_allowed", "该地址不支持此请求方式。"),
    409: ("conflict", "操作与记录的当前状态冲突。"),
    412: ("precondition_failed", "If-Match 与记录的当前版本（ETag）不符：记录已被修改，未写入任何内容。"),
    413: ("payload_too_large", "请求或上传的文件超过大小上限。"),
    415: ("unsupported_media_type", "不支持的请求内容类型。"),
    422: ("unprocessable_entity", "请求参数未通过校验。"),
    429: ("too_many_requests", "请求过于频繁，请稍后重试。"),
    500: ("internal_error", "服务器内部错误，请稍后重试；问题已记录。"),
}


def is_api_request() -> bool:
    path = request.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_response(status: int, message: str | None = None, details=None, headers=None):
    code, default = CODES.get(status, ("error", "请求未能完成。"))
    body = {"status": status, "code": code, "message": message or default}
    if details:
        body["details"] = details
    response = jsonify(error=body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def from_exception(e: HTTPException | None, status: int, detail: str | None = None):
    """The JSON answer for an HTTPException (webargs' 422 carries the field messages in data)."""
    data = getattr(e, "data", None) or {}
    details = data.get("errors") or data.get("messages")
    message = detail or data.get("message")
    if details and not message:
        lead = "请求参数未通过校验" if status == 422 else CODES.get(status, ("", "请求有误"))[1].rstrip("。")
        message = f"{lead}：" + "；".join(_flatten(details))
    headers = dict(data.get("headers") or {})
    if e is not None and status == 405:
        allow = e.get_headers()
        headers.update({k: v for k, v in allow if k == "Allow"})
    return error_response(status, message, details, headers)


# Marshmallow's messages, in Chinese for the summary line (the details keep the originals).
_MESSAGES = {
    "Missing data for required field.": "必填",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid date.": "应为 YYYY-MM-DD 格式的日期",
    "Not a valid string.": "应为文本",
    "Not a valid boolean.": "应为 true 或 false",
    "Unknown field.": "不认识的字段",
    "Field may not be null.": "不能为 null",
    "Invalid JSON body.": "JSON 格式有误",
    "Invalid input type.": "类型有误（应为 JSON 对象）",
    "Not a valid datetime.": "应为日期时间",
    "Not a valid list.": "应为列表",
}


def _flatten(details, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(details, dict):
        for key, value in details.items():
            if key in ("json", "form", "query", "querystring", "files", "headers") and not path:
                out += _flatten(value, path)
            else:
                name = "请求体" if key == "_schema" else str(key)
                out += _flatten(value, f"{path}.{name}" if path else name)
    elif isinstance(details, list):
        for value in details:
            out += _flatten(value, path)
    else:
        text = _MESSAGES.get(str(details), str(details))
        out.append(f"{path}：{text}" if path else text)
    return out


class ErrorBodySchema(ma.Schema):
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP 状态码"})
    code = ma.fields.String(
        required=True, metadata={"description": "错误代码（英文，如 not_found、precondition_failed）"}
    )
    message = ma.fields.String(required=True, metadata={"description": "中文说明"})
    details = ma.fields.Raw(metadata={"description": "校验错误等详情（按字段列出）"})


class ErrorSchema(ma.Schema):
    """Every error under /api/v1 has this shape."""

    error = ma.fields.Nested(ErrorBodySchema, required=True, metadata={"description": "错误"})
