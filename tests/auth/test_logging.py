"""Structured logging: one line per request with its id, every log-in attempt (never the
password), every refused authorisation."""

import logging
import re

from tests.conftest import csrf_from, login
from tests.factories import PASSWORD


def lines(caplog, logger):
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_one_line_per_request_with_its_id(app, client, world, caplog):
    caplog.set_level(logging.INFO, logger="starpath")
    login(client, "police")
    caplog.clear()
    response = client.get("/my")
    rid = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    [line] = [m for m in lines(caplog, "starpath.request") if "path=/my " in m]
    assert f"request_id={rid}" in line and "method=GET" in line and "status=200" in line
    assert f"user={world['police']}" in line and re.search(r"duration_ms=\d+\.\d", line)
    assert client.get("/my").headers["X-Request-Id"] != rid  # a fresh id per request


def test_every_login_attempt_is_logged_without_the_password(app, client, world, caplog):
    caplog.set_level(logging.INFO, logger="starpath")
    token = csrf_from(client, "/login")
    for _ in range(5):
        client.post("/login", data={"username": "police", "password": "Hunter-2-secret", "csrf_token": token})
    client.post("/login", data={"username": "police", "password": PASSWORD, "csrf_token": token})
    login(app.test_client(), "transport")
    auth = lines(caplog, "starpath.auth")
    assert sum("event=login outcome=failure username='police' address=127.0.0.1" in m for m in auth) == 5
    assert sum("event=login outcome=throttled username='police'" in m for m in auth) == 1
    assert any("event=login outcome=success username='transport'" in m for m in auth)
    assert "Hunter-2-secret" not in caplog.text and PASSWORD not in caplog.text
    # Records logged during a request carry its id.
    assert all(r.request_id for r in caplog.records if r.name == "starpath.auth")


def test_refused_authorisation_is_logged(app, client, world, caplog):
    caplog.set_level(logging.INFO, logger="starpath")
    assert client.get("/my").status_code == 302  # anonymous: log in first
    assert any("reason=login_required" in m and "path=/my" in m for m in lines(caplog, "starpath.access"))
    login(client, "police")
    caplog.clear()
    response = client.get("/admin/users")
    assert response.status_code == 403
    [line] = lines(caplog, "starpath.access")
    assert "event=denied" in line and "status=403" in line and f"user={world['police']}" in line
    assert f"request_id={response.headers['X-Request-Id']}" in line
    caplog.clear()
    assert client.get(f"/milestones/{world['m_other']}").status_code == 404  # outside the scope
    assert any("status=404" in m for m in lines(caplog, "starpath.access"))


def test_logout_and_revoked_sessions_are_logged(app, client, world, caplog):
    caplog.set_level(logging.INFO, logger="starpath")
    login(client, "police")
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    client.post("/logout", data={"csrf_token": csrf_from(client, "/my")})
    stolen.get("/my")
    auth = lines(caplog, "starpath.auth")
    assert any(f"event=logout user={world['police']}" in m for m in auth)
    assert any(f"event=session_revoked user={world['police']}" in m for m in auth)


def test_the_formatter_writes_key_value_lines(app):
    from app.logging_setup import KeyValueFormatter

    record = logging.LogRecord(
        "starpath.request", logging.INFO, __file__, 1, "event=x path=%s", ("/a b",), None
    )
    from app.logging_setup import _quote

    record.args = (_quote("/a b\n"),)
    line = KeyValueFormatter().format(record)
    assert re.match(
        r"time=\S+Z level=INFO logger=starpath.request request_id=- event=x path=\"/a b\\n\"$", line
    )


def test_a_request_that_commits_logs_its_user_without_reading_it_again(app, client, world, caplog):
    from sqlalchemy import event

    from app.extensions import db
    from tests.conftest import csrf_from

    login(client, "police")
    url = f"/milestones/{world['m_police']}/report"
    data = {"csrf_token": csrf_from(client, url), "percent": "40", "claimed_status": "in_progress"}
    data.update(text="按计划推进", action="submit")
    caplog.set_level(logging.INFO, logger="starpath")
    caplog.clear()
    with app.app_context():
        engine = db.engine
    seen = []
    record = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.post(url, data=data).status_code == 302
    finally:
        event.remove(engine, "before_cursor_execute", record)
    [line] = [m for m in lines(caplog, "starpath.request") if "method=POST" in m]
    assert f"user={world['police']}" in line
    user_reads = [s for s in seen if s.lstrip().startswith("SELECT") and re.search(r"\bFROM \"?user\"?\s", s)]
    assert len(user_reads) == 1, "\n\n".join(user_reads)
