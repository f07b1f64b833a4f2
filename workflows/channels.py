"""The three reminder channels: in-app notifications, mail, department chat webhooks.

in_app and the mail outbox only add rows to the session (the caller commits them
together with the delivery rows, so they happen exactly once). SMTP and webhooks
talk to the outside and raise SendError: `transient` when the message was
certainly not taken and a later try may work (connection refused, a connect
timeout, SMTP 4xx, HTTP 5xx/429, a rate-limited robot), permanent otherwise
(SMTP 5xx, HTTP 4xx, no address, a robot's error code). A failure after the
whole message went out but before the answer came (a timeout or a dropped
connection while waiting for the reply) may have delivered it, so it is
permanent too: retrying it could send the message twice.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.request
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from app.extensions import db
from app.models import Notification, OutboxMessage
from workflows.text import webhook_payload

UNCERTAIN = "可能已送达，为避免重复发送不再重试"
# Robot error codes that mean "too many messages, try later" (DingTalk 130101, WeCom 45009 and -1 busy).
ROBOT_RATE_LIMITED = {130101, 45009, -1}
WEBHOOK_KINDS = {"dingtalk": "钉钉", "wecom": "企业微信"}


class SendError(Exception):
    """A message could not be delivered; the text is shown to admins (Chinese)."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


# --- in-app -----------------------------------------------------------------


def add_notification(user_id: int, text: str, link: str | None) -> Notification:
    note = Notification(user_id=user_id, text=text, link=link)
    db.session.add(note)
    return note


# --- mail ---------------------------------------------------------------------


def smtp_configured(config) -> bool:
    return bool(config.get("MAIL_SERVER"))


def add_outbox(
    user_id: int | None, to_address: str, subject: str, body: str, transport: str, claim: str | None
) -> OutboxMessage:
    message = OutboxMessage(
        user_id=user_id,
        to_address=to_address,
        subject=subject[:256],
        body=body,
        transport=transport,
        claim=claim,
    )
    db.session.add(message)
    return message


def append_outbox_file(path: str, to_address: str, subject: str, body: str, when: datetime) -> None:
    """Append a message to the local outbox file (a readable copy of the outbox table)."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    text = (
        f"{'=' * 72}\nDate: {when.isoformat(timespec='seconds')}Z\nTo: {to_address}\n"
        f"Subject: {subject}\n\n{body}\n"
    )
    # One write per message: appends from two processes do not interleave.
    with file.open("a", encoding="utf-8") as handle:
        handle.write(text)


def build_mail(config, to_address: str, subject: str, body: str, message_id: str, when: datetime):
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = format_datetime(when.replace(tzinfo=UTC))
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


class _Tracking:
    """Notes when the end of the mail data (CRLF.CRLF) has gone out: from then on the
    server may have accepted it, so a lost answer must not lead to a second send."""

    data_sent = False

    def send(self, s):
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.data_sent = True


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


def send_smtp(
    config, to_address: str | None, subject: str, body: str, message_id: str, when: datetime
) -> str:
    """Send one mail through the configured SMTP server; returns the address it went to."""
    if not to_address or "@" not in to_address:
        raise SendError("收件人未设置有效的邮箱地址")
    message = build_mail(config, to_address, subject, body, message_id, when)
    sender = parseaddr(config["MAIL_FROM"])[1] or config["MAIL_FROM"]
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    conn = None
    try:
        if config.get("MAIL_USE_SSL"):
            conn = _SMTPSSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = _SMTP(host, port, timeout=timeout)
            if config.get("MAIL_USE_TLS"):
                conn.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            conn.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        conn.send_message(message, from_addr=sender, to_addrs=[to_address])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = min(exc.recipients.values(), key=lambda answer: answer[0])
        raise _smtp_answer(code, text, "收件人被拒绝") from exc
    except smtplib.SMTPResponseException as exc:
        raise _smtp_answer(exc.smtp_code, exc.smtp_error, "邮件服务器拒绝") from exc
    except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as exc:  # settings, not luck
        raise SendError(f"邮件服务器设置有误（{_describe(exc)}）") from exc
    except (OSError, smtplib.SMTPException) as exc:  # timeouts, refused or dropped connections
        if conn is not None and conn.data_sent:
            raise SendError(f"邮件已发出但未收到服务器确认（{_describe(exc)}），{UNCERTAIN}") from exc
        raise SendError(f"无法连接邮件服务器 {host}:{port}（{_describe(exc)}）", transient=True) from exc
    finally:
        if conn is not None:
            _close(conn)
    return to_address


def _smtp_answer(code: int, text, what: str) -> SendError:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    transient = 400 <= code < 500
    kind = "暂时" if transient else ""
    return SendError(f"{what}{kind}（{code} {text}）", transient=transient)


def _close(conn) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


# --- webhook ------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A robot that answers with a redirect is misconfigured: never re-send the POST elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_target(kind: str | None, url: str | None) -> str:
    """What the delivery row records: the robot kind and host, never the token in the URL."""
    parts = urlsplit(url or "")
    host = parts.hostname or "?"
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{kind or '?'}:{host}"


def post_webhook(kind: str | None, url: str | None, title: str, markdown: str, timeout: float) -> str:
    """POST one markdown message to a DingTalk / WeCom robot; returns the target it went to."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SendError("部门群机器人地址无效（应为 http:// 或 https:// 地址）")
    if kind not in WEBHOOK_KINDS:
        raise SendError(f"不支持的群机器人类型：{kind or '未设置'}（应为钉钉或企业微信）")
    data = json.dumps(webhook_payload(kind, title, markdown), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    robot = WEBHOOK_KINDS[kind]
    try:
        with _opener.open(request, timeout=timeout) as response:
            raw = response.read(64 * 1024)
    except HTTPError as exc:
        exc.close()
        transient = exc.code == 429 or exc.code >= 500
        raise SendError(f"{robot}群机器人返回 HTTP {exc.code}", transient=transient) from exc
    except URLError as exc:  # connecting or sending the request failed: nothing was delivered
        raise SendError(f"无法连接{robot}群机器人（{_describe(exc.reason)}）", transient=True) from exc
    except (OSError, HTTPException) as exc:  # the request went out, the answer did not come back
        raise SendError(f"{robot}群机器人未应答（{_describe(exc)}），{UNCERTAIN}") from exc
    _check_robot_answer(robot, raw)
    return webhook_target(kind, url)


def _check_robot_answer(robot: str, raw: bytes) -> None:
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return  # a 2xx without a JSON body (a relay, a proxy): taken as delivered
    if not isinstance(answer, dict) or "errcode" not in answer:
        return
    try:
        code = int(answer["errcode"])
    except (TypeError, ValueError):
        code = None
    if code == 0:
        return
    errmsg = str(answer.get("errmsg", ""))[:200]
    raise SendError(
        f"{robot}群机器人返回错误 {answer['errcode']}：{errmsg}", transient=code in ROBOT_RATE_LIMITED
    )


def _describe(exc) -> str:
    if isinstance(exc, TimeoutError):
        return "超时"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    text = str(exc) or type(exc).__name__
    return text[:200]
