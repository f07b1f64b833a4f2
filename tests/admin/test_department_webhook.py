"""Admin department edit: the group-chat robot settings, the stale-form check, the test message."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Department
from tests.conftest import csrf_from, hidden, login
from tests.factories import build_world


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def _form(client, url, **changes):
    data = {
        "csrf_token": csrf_from(client, url),
        "token": hidden(client, url, "token"),
        "name": "甲市公安局",
        "kind": "government",
        "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=secret-token-123",
        "webhook_kind": "dingtalk",
    }
    data.update(changes)
    return data


def _dept(app, dept_id):
    with app.app_context():
        d = db.session.get(Department, dept_id)
        return d.name, d.webhook_url, d.webhook_kind


def test_admin_sets_the_webhook(app, client, world):
    url = f"/admin/departments/{world['police_dept']}"
    login(client, "admin")
    assert "未设置" in client.get("/admin/departments").get_data(as_text=True)
    response = client.post(url, data=_form(client, url))
    assert response.status_code == 302
    assert _dept(app, world["police_dept"]) == (
        "甲市公安局",
        "https://oapi.dingtalk.com/robot/send?access_token=secret-token-123",
        "dingtalk",
    )
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "department.edit"))
        assert event.after["webhook_url"] == "https://oapi.dingtalk.com/…"  # no token in the trail
        assert "secret-token" not in json.dumps(event.after) and event.region_id == world["region_a"]
    assert "钉钉" in client.get("/admin/departments").get_data(as_text=True)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"webhook_url": "ftp://example.cn/robot"}, "只支持 https:// 或 http:// 地址"),
        ({"webhook_url": "not a url"}, "请填写以 https:// 或 http:// 开头的完整地址"),
        ({"webhook_kind": ""}, "填写了 Webhook 地址时必须选择机器人类型"),
        ({"webhook_kind": "slack"}, "Not a valid choice"),
    ],
)
def test_bad_webhook_settings_are_refused(app, client, world, changes, message):
    url = f"/admin/departments/{world['police_dept']}"
    login(client, "admin")
    response = client.post(url, data=_form(client, url, **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _dept(app, world["police_dept"]) == ("甲市公安局", None, None)


def test_stale_form_is_409_and_nothing_is_written(app, client, world):
    url = f"/admin/departments/{world['police_dept']}"
    login(client, "admin")
    first, second = _form(client, url), _form(client, url, name="甲市公安局（改）", webhook_url="")
    assert client.post(url, data=first).status_code == 302
    response = client.post(url, data=second)
    assert response.status_code == 409
    assert _dept(app, world["police_dept"])[0] == "甲市公安局"


def test_duplicate_name_is_refused(app, client, world):
    url = f"/admin/departments/{world['police_dept']}"
    login(client, "admin")
    response = client.post(url, data=_form(client, url, name="甲市交通运输局"))
    assert response.status_code == 400 and "该区域已有名为“甲市交通运输局”的部门" in response.get_data(
        as_text=True
    )
    assert _dept(app, world["police_dept"])[0] == "甲市公安局"


class _Robot(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        answer = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    _Robot.received = []
    server = HTTPServer(("127.0.0.1", 0), _Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/robot/send?access_token=t", _Robot.received
    server.shutdown()
    server.server_close()


def test_test_message_reaches_the_robot(app, client, world, robot):
    robot_url, received = robot
    url = f"/admin/departments/{world['police_dept']}"
    login(client, "admin")
    assert "发送测试消息" not in client.get(url).get_data(as_text=True)  # nothing saved yet
    client.post(url, data=_form(client, url, webhook_url=robot_url))
    token = csrf_from(client, url)
    response = client.post(f"{url}/webhook-test", data={"csrf_token": token})
    assert response.status_code == 302
    assert len(received) == 1 and received[0]["msgtype"] == "markdown"
    assert "甲市公安局" in json.dumps(received[0], ensure_ascii=False)
    assert "测试消息已发送到 dingtalk:127.0.0.1" in client.get(url).get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "department.webhook_test"))
        assert event.after["ok"] is True


def test_test_message_failure_is_shown(app, client, world, robot):
    robot_url, _ = robot
    dead = robot_url.replace("http://", "http://nonexistent.invalid.")  # unresolvable host
    url = f"/admin/departments/{world['police_dept']}"
    login(client, "admin")
    client.post(url, data=_form(client, url, webhook_url=dead, webhook_kind="wecom"))
    client.post(f"{url}/webhook-test", data={"csrf_token": csrf_from(client, url)})
    assert "测试消息发送失败：无法连接企业微信群机器人" in client.get(url).get_data(as_text=True)


def test_non_admin_gets_403(client, world):
    login(client, "office")
    url = f"/admin/departments/{world['police_dept']}"
    assert client.get(url).status_code == 403
    token = csrf_from(client, "/notifications")
    assert client.post(f"{url}/webhook-test", data={"csrf_token": token}).status_code == 403
