"""Error pages in Chinese."""

from flask import render_template
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请检查后重试。"),
    403: ("没有权限", "您的账号没有执行此操作的权限。"),
    404: ("页面不存在", "您访问的页面不存在，或不在您的权限范围内。"),
    405: ("不允许的操作", "此页面不支持该请求方式。"),
    409: ("数据已被修改", "该记录已被他人修改，请刷新页面后重试。"),
    413: ("文件过大", "上传的文件超过大小上限。"),
    500: ("系统错误", "服务器内部错误，请稍后重试；问题已记录。"),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES[code]
    return render_template("error.html", code=code, title=title, message=detail or message), code


def init_app(app) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, lambda e, code=code: render_error(code))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_error(400, "表单已过期或缺少安全令牌（CSRF），请刷新页面后重新提交。")
