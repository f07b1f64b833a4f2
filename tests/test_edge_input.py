"""Hostile input at the edge answers 4xx with a Chinese message, never a server error:
out-of-range ids in URLs and bodies, odd integers in query strings, deep or large JSON,
control characters in text fields and file names; and the error pages themselves cannot fail."""

import io
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app import errors, params
from app.extensions import db
from app.forms_base import has_control
from app.models import AuditEvent, ProgressReport
from tests.conftest import csrf_from, login
from tests.factories import build_world

HUGE = "9" * 25
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def _reports(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProgressReport))


@pytest.mark.parametrize("value", [HUGE, str(2**31), "2147483647"])
def test_out_of_range_ids_in_urls_answer_404(app, client, world, value):
    login(client, "office")
    for url in (
        f"/milestones/{value}",
        f"/milestones/{value}/report",
        f"/reports/{value}/edit",
        f"/evidence/{value}",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_from(client, "/notifications")
    response = client.post(f"/reports/{value}/evidence/{value}/delete", data={"csrf_token": token})
    assert response.status_code == 404


def test_id_converter_refuses_non_ascii_digits_and_keeps_the_range(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/milestones/{2**31 - 1}")[1] == {"milestone_id": 2**31 - 1}
    for value in (HUGE, str(2**31), "²", "١٢", "-1"):
        with pytest.raises(Exception) as exc:
            adapter.match(f"/milestones/{value}")
        assert getattr(exc.value, "code", None) == 404, value


@pytest.mark.parametrize(
    "query",
    [f"plan={HUGE}", "plan=²", "department=²", f"department={HUGE}", "page=²", f"page={HUGE}", "page=-3"],
)
def test_bad_integers_on_the_reminder_log_are_ignored_like_its_other_filters(client, world, query):
    login(client, "admin")
    assert client.get(f"/admin/reminders?{query}").status_code == 200
    assert client.get(f"/admin/outbox?{query}").status_code == 200


def test_int_arg_strict_answers_400_naming_the_parameter(app):
    for raw in (HUGE, "²", "１２", "0", "-1", "1.5", "1e3"):
        with app.test_request_context(f"/?plan={raw}"):
            with pytest.raises(params.BadParam) as exc:
                params.int_arg("plan", label="计划")
            assert "参数“计划”" in exc.value.user_message
            assert params.int_arg("plan", strict=False, default=7) == 7
    with app.test_request_context("/?plan=%2012%20&page="):
        assert params.int_arg("plan") == 12 and params.int_arg("page", default=1) == 1


def test_reminder_log_filters_still_work(client, world):
    login(client, "admin")
    assert client.get("/admin/reminders?plan=1&department=2&page=1").status_code == 200
    assert client.get("/admin/reminders?plan=&department=").status_code == 200


@pytest.mark.parametrize("year", ["²", HUGE, "1999", "2101", "２０２１"])
def test_bad_holiday_year_answers_400(client, world, year):
    login(client, "admin")
    response = client.get(f"/admin/holidays?year={year}")
    assert response.status_code == 400
    assert "参数“年份”" in response.get_data(as_text=True)
    assert client.get("/admin/holidays?year=2021").status_code == 200


@pytest.mark.parametrize("value", [HUGE, "²", "-1"])
def test_dashboard_list_filter_ids_answer_400(client, world, value):
    login(client, "office")
    for name in ("node", "department"):
        response = client.get(f"/plans/plan-a/dashboard/list?{name}={value}")
        assert response.status_code == 400, name
        label = "节点" if name == "node" else "部门"
        assert f"{label}编号“{value}”" in response.get_data(as_text=True)


def test_ids_in_post_bodies_out_of_range(client, world):
    login(client, "admin")
    token = csrf_from(client, "/admin/holidays")
    response = client.post("/admin/holidays/delete", data={"csrf_token": token, "holiday_id": HUGE})
    assert response.status_code == 302
    token = csrf_from(client, "/admin/reminders")
    response = client.post("/admin/reminders/retry", data={"csrf_token": token, "delivery_id": HUGE})
    assert response.status_code == 404


def test_json_depth_pre_scan():
    assert params.json_depth('{"a": [1, {"b": "[[[[[["}]}', 10) == 3
    assert params.json_depth('["\\"[[[", []]', 10) == 2
    assert params.json_depth("[" * 5000 + "]" * 5000, 32) == 33  # stops counting past the limit


def test_deeply_nested_json_answers_400(client, world):
    login(client, "office")
    token = csrf_from(client, "/notifications")
    body = "[" * 5000 + "]" * 5000
    answers = {}
    for url in ("/plans/plan-a/stars/what-if", "/notifications/read", "/login"):
        headers = {"X-CSRFToken": token}
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        answers[url] = (response.status_code, "JSON 嵌套层数超过" in response.get_data(as_text=True))
    assert answers == dict.fromkeys(answers, (400, True))


def test_large_json_answers_400(client, world):
    login(client, "office")
    token = csrf_from(client, "/notifications")
    body = json.dumps({"text": "x" * (params.MAX_JSON_BYTES + 1)})
    response = client.post(
        "/notifications/read", data=body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
    assert "JSON 内容超过 64 KB" in response.get_data(as_text=True)


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "5", '{"a": {"b": 1}}', "{not json"])
def test_a_form_posted_as_json_must_be_an_object_of_plain_values(client, world, body):
    login(client, "police")
    token = csrf_from(client, "/notifications")
    response = client.post(
        "/settings/notifications", data=body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "bad", ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\u202e", "\u2066", "\u2069"], ids=repr
)
def test_control_characters_in_report_text_are_refused_with_a_message(app, client, world, bad):
    login(client, "police")
    url = f"/milestones/{world['m_police']}/report"
    data = {
        "csrf_token": csrf_from(client, url),
        "percent": 50,
        "claimed_status": "in_progress",
        "text": f"进展正常{bad}已完成一半",
        "action": "submit",
    }
    response = client.post(url, data=data)
    assert response.status_code in (200, 400)
    assert "包含不允许的控制字符（NUL 等）" in response.get_data(as_text=True)
    assert _reports(app) == 0


def test_tabs_and_newlines_are_still_allowed(app, client, world):
    login(client, "police")
    url = f"/milestones/{world['m_police']}/report"
    data = {
        "csrf_token": csrf_from(client, url),
        "percent": 50,
        "claimed_status": "in_progress",
        "text": "第一行\r\n第二行\t缩进",
        "action": "submit",
    }
    assert client.post(url, data=data).status_code == 302
    assert _reports(app) == 1


def test_control_characters_in_the_login_form(client, world):
    token = csrf_from(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "username": "police\x00", "password": "x"})
    assert response.status_code in (200, 400)
    assert "字段“用户名”包含不允许的控制字符" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["a\x00b.pdf", "报告\u202efdp.exe", "x\x1f.pdf"], ids=repr)
def test_control_characters_in_file_names_are_refused(app, client, world, name):
    login(client, "police")
    url = f"/milestones/{world['m_police']}/report"
    data = {
        "csrf_token": csrf_from(client, url),
        "percent": 50,
        "claimed_status": "in_progress",
        "text": "进展正常",
        "action": "submit",
        "files": [(io.BytesIO(PDF), name)],
    }
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code in (200, 400)
    assert "文件名包含不允许的控制字符" in response.get_data(as_text=True)
    assert _reports(app) == 0


def test_has_control():
    assert not has_control("正常文字\t\r\n ")
    for ch in ("\x00", "\x08", "\x0b", "\x7f", "\x9f", "\u202a", "\u202d", "\u2067"):
        assert has_control(f"a{ch}b"), repr(ch)


def test_error_pages_survive_a_failed_transaction(app, world):
    """A statement the database refused leaves the session unusable (PostgreSQL); the error
    handler rolls back before its page reads the database, and the 500 page reads nothing."""
    with app.test_request_context("/"):
        with pytest.raises(DBAPIError):
            db.session.execute(text("SELECT * FROM no_such_table"))
        response = app.make_response(errors._handler(404)(None))
        assert response.status_code == 404
        assert 'class="card error-page"' in response.get_data(as_text=True)  # the full page, with the layout
        html, status, headers = errors.render_error(500)
        assert status == 500 and "系统错误" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
