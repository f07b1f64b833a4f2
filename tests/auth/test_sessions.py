"""Sessions end: log-out, a password change and deactivation end every copy of a session;
idle and absolute time limits; no-store for signed-in responses; __Host- cookie and HSTS."""

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent, ProgressReport, User
from tests.conftest import csrf_from, login
from tests.factories import PASSWORD
from workflows.queue import redis_connection


def _copy(app, client, name="session"):
    """A second browser holding a copy of the client's session cookie."""
    other = app.test_client()
    other.set_cookie(name, client.get_cookie(name).value)
    return other


def _reports(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProgressReport))


def _draft(client, milestone_id, token):
    return client.post(
        f"/milestones/{milestone_id}/report",
        data={
            "csrf_token": token,
            "percent": 30,
            "claimed_status": "in_progress",
            "text": "复制的会话提交",
            "action": "draft",
        },
    )


def test_logout_ends_a_copied_session(app, client, world):
    login(client, "police")
    stolen = _copy(app, client)
    assert stolen.get("/my").status_code == 200  # the copy works while the session lives
    token = csrf_from(stolen, f"/milestones/{world['m_police']}/report")

    client.post("/logout", data={"csrf_token": csrf_from(client, "/my")})

    page = stolen.get("/my")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    response = _draft(stolen, world["m_police"], token)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _reports(app) == 0
    # The user logs in again: the new session works, the old copy stays dead.
    login(client, "police")
    assert client.get("/my").status_code == 200
    assert stolen.get("/my").status_code == 302


def test_a_copied_session_works_until_logout(app, client, world):
    """The control for the test above: without log-out the copy can create a draft."""
    login(client, "police")
    stolen = _copy(app, client)
    token = csrf_from(stolen, f"/milestones/{world['m_police']}/report")
    assert _draft(stolen, world["m_police"], token).status_code == 302
    assert _reports(app) == 1


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, world):
    login(client, "police")
    other = app.test_client()
    login(other, "police")
    token = csrf_from(client, "/settings/password")

    short = client.post(
        "/settings/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "short", "confirm": "short"},
    )
    assert short.status_code == 400 and "10 至 128 位" in short.get_data(as_text=True)
    wrong = client.post(
        "/settings/password",
        data={"csrf_token": token, "current": "nope", "new": "a-new-pass-42", "confirm": "a-new-pass-42"},
    )
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    mismatch = client.post(
        "/settings/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "a-new-pass-42", "confirm": "a-new-pass-43"},
    )
    assert "两次输入的新密码不一致" in mismatch.get_data(as_text=True)
    assert other.get("/my").status_code == 200  # nothing changed yet

    done = client.post(
        "/settings/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "a-new-pass-42", "confirm": "a-new-pass-42"},
    )
    assert done.status_code == 302
    assert client.get("/my").status_code == 200  # this browser goes on
    assert other.get("/my").status_code == 302  # the other one is logged out
    with app.app_context():
        user = db.session.get(User, world["police"])
        assert user.check_password("a-new-pass-42")
        assert (
            db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password")).user_id
            == user.id
        )
    login(other, "police", "a-new-pass-42")


def test_password_change_needs_csrf(app, client, world):
    login(client, "police")
    response = client.post(
        "/settings/password", data={"current": PASSWORD, "new": "a-new-pass-42", "confirm": "a-new-pass-42"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(User, world["police"]).check_password(PASSWORD)


def _admin_save(admin, user_id, **changes):
    data = {
        "csrf_token": csrf_from(admin, f"/admin/users/{user_id}"),
        "username": "police",
        "display_name": "police",
        "email": "",
        "role": "department",
        "region_id": changes.pop("region_id"),
        "department_id": changes.pop("department_id"),
        "password": changes.pop("password", ""),
    }
    if changes.pop("active", True):
        data["active"] = "y"
    response = admin.post(f"/admin/users/{user_id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]


def _scope(app, world):
    with app.app_context():
        user = db.session.get(User, world["police"])
        return {"region_id": user.region_id, "department_id": user.department_id}


def test_admin_deactivation_and_password_reset_end_sessions(app, client, world):
    login(client, "police")
    admin = app.test_client()
    login(admin, "admin")

    _admin_save(admin, world["police"], **_scope(app, world))  # an ordinary save keeps the session
    assert client.get("/my").status_code == 200

    _admin_save(admin, world["police"], password="reset-by-admin-1", **_scope(app, world))
    assert client.get("/my").status_code == 302
    login(client, "police", "reset-by-admin-1")
    assert client.get("/my").status_code == 200

    _admin_save(admin, world["police"], active=False, **_scope(app, world))
    assert client.get("/my").status_code == 302
    token = csrf_from(client, "/login")
    refused = client.post(
        "/login", data={"username": "police", "password": "reset-by-admin-1", "csrf_token": token}
    )
    assert refused.status_code == 401 and "用户名或密码错误" in refused.get_data(as_text=True)


def test_idle_timeout(app, client, world, clock):
    login(client, "police")
    clock.advance(29 * 60)
    assert client.get("/my").status_code == 200  # activity moves the idle limit on
    clock.advance(29 * 60)
    assert client.get("/my").status_code == 200
    clock.advance(31 * 60)
    page = client.get("/my")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert "30 分钟未操作" in client.get(page.headers["Location"]).get_data(as_text=True)
    assert client.get("/my").status_code == 302  # and it stays ended


def test_absolute_timeout(app, client, world, clock):
    login(client, "police")
    for _ in range(40):  # busy all day: a request every 20 minutes
        clock.advance(20 * 60)
        response = client.get("/my")
        if response.status_code != 200:
            break
    assert response.status_code == 302
    assert "超过 12 小时" in client.get("/login").get_data(as_text=True)
    assert clock.moment - 1_800_000_000.0 >= 12 * 3600  # not before the 12 hours


def test_time_limits_are_configurable(app, client, world, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_SECONDS", 60)
    login(client, "police")
    clock.advance(61)
    assert client.get("/my").status_code == 302


def test_no_store_on_signed_in_pages_and_downloads(app, client, world):
    anonymous = client.get("/login")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    login(client, "office")
    page = client.get("/my")
    assert page.headers["Cache-Control"] == "no-store"
    download = client.get("/plans/plan-a/export.xlsx")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"


def test_host_cookie_and_hsts_under_https(app, world):
    secure = create_app({**app.config, "SESSION_COOKIE_SECURE": True})
    secure.extensions["starpath_redis"] = redis_connection(app)  # one Redis
    assert secure.config["SESSION_COOKIE_NAME"] == "__Host-starpath"
    browser = secure.test_client()
    page = browser.get("/login", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    token = csrf_from(browser, "https://localhost/login")
    response = browser.post(
        "/login",
        data={"username": "police", "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},  # Flask-WTF checks it under HTTPS
    )
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-starpath="))
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie and "HttpOnly" in cookie
    assert browser.get("/my", base_url="https://localhost").status_code == 200
    # Plain HTTP (development): the ordinary cookie and no HSTS.
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
