"""Real local servers for channel tests: an SMTP server (aiosmtpd) and an HTTP server
standing in for a DingTalk / WeCom robot, each on a free port of 127.0.0.1.

Both answer from a script (a list of replies used one per request, then the
default) and record what they received, so tests can count deliveries.
"""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on: connecting is refused."""
    return free_port()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# --- SMTP ---------------------------------------------------------------------


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_content()


class SmtpRecorder:
    """aiosmtpd handler. rcpt_replies / data_replies: answers used one per command
    (e.g. "451 4.3.0 try again later"), then the command is accepted.
    data_delay: seconds to wait before answering DATA (a server slower than the client)."""

    def __init__(self, rcpt_replies=(), data_replies=(), data_delay: float = 0.0):
        self.rcpt_replies = list(rcpt_replies)
        self.data_replies = list(data_replies)
        self.data_delay = data_delay
        self.mails: list[Mail] = []
        self.data_calls = 0
        self.host = HOST
        self.port = 0
        self._lock = threading.Lock()

    def _next(self, replies: list):
        with self._lock:
            return replies.pop(0) if replies else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._next(self.rcpt_replies)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.data_calls += 1
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        reply = self._next(self.data_replies)
        if reply:
            return reply
        with self._lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(**script):
    recorder = SmtpRecorder(**script)
    recorder.port = free_port()
    controller = Controller(recorder, hostname=HOST, port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


# --- HTTP (chat robot) --------------------------------------------------------

OK_ANSWER = {"errcode": 0, "errmsg": "ok"}


@dataclass
class Reply:
    status: int = 200
    body: dict | str = None
    delay: float = 0.0


@dataclass
class Posted:
    path: str
    headers: dict
    raw: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.raw.decode("utf-8"))


class RobotServer:
    """A DingTalk / WeCom robot on a free local port. replies: Reply objects used one
    per request, then 200 {"errcode": 0}."""

    def __init__(self, replies=()):
        self.replies = list(replies)
        self.requests: list[Posted] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.requests.append(Posted(self.path, dict(self.headers), raw))
                    reply = server.replies.pop(0) if server.replies else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body if reply.body is not None else OK_ANSWER
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/robot/send?access_token=secret-token") -> str:
        return f"http://{HOST}:{self.port}{path}"


@contextmanager
def robot_server(replies=()):
    server = RobotServer(replies)
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
