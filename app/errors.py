"""Error pages in Chinese.

Every handler first rolls the session back (a failed statement, e.g. PostgreSQL refusing a
value, leaves it unusable, and the page's layout reads the database). The 500 page touches
neither the database nor the layout, so it cannot fail in turn."""

from html import escape

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.api import errors as api_errors

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请检查后重试。"),
    403: ("没有权限", "您的账号没有执行此操作的权限。"),
    404: ("页面不存在", "您访问的页面不存在，或不在您的权限范围内。"),
    405: ("不允许的操作", "此页面不支持该请求方式。"),
    409: ("数据已被修改", "该记录已被他人修改，请刷新页面后重试。"),
    413: ("文件过大", "上传的文件超过大小上限。"),
    500: ("系统错误", "服务器内部错误，请稍后重试；问题已记录。"),
}

PLAIN_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} · 星途 StarPath</title></head>
<body><h1>{code} · {title}</h1><p>{message}</p><p><a href="/">返回首页</a></p></body></html>
"""


def _rollback() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone; the page must still render
        pass


def plain_page(code: int, detail: str | None = None):
    """An error page from a string: no template, no database, no current user."""
    title, message = MESSAGES[code]
    html = PLAIN_PAGE.format(code=code, title=escape(title), message=escape(detail or message))
    return html, code, {"Content-Type": "text/html; charset=utf-8"}


def render_error(code: int, detail: str | None = None):
    if code >= 500:
        return plain_page(code, detail)
    title, message = MESSAGES[code]
    try:
        return render_template("error.html", code=code, title=title, message=detail or message), code
    except Exception:
        _rollback()
        return plain_page(code, detail)


def _handler(code: int):
    def handle(e):
        _rollback()
        if api_errors.is_api_request():
            return api_errors.from_exception(e, code, getattr(e, "user_message", None))
        return render_error(code, getattr(e, "user_message", None))

    return handle


def _other_http_error(e: HTTPException):
    """Codes without a page of their own (401, 412, 415, 422, 429 …): JSON under /api/v1,
    Werkzeug's own answer elsewhere."""
    if e.code is None or not api_errors.is_api_request():
        return e
    _rollback()
    return api_errors.from_exception(e, e.code)


def init_app(app) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, _handler(code))
    app.register_error_handler(HTTPException, _other_http_error)

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        _rollback()
        return render_error(400, "表单已过期或缺少安全令牌（CSRF），请刷新页面后重新提交。")
