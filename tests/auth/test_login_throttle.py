"""Log-in throttling per user name and per client address, in Redis or — when Redis is
down — in the database; an unknown name is refused at the cost of a wrong password."""

import statistics
import time

import pytest
from redis import Redis
from sqlalchemy import func, select

from app import create_app
from app.auth import throttle
from app.extensions import db
from app.models import LoginAttempt, User
from tests.conftest import csrf_from
from tests.factories import PASSWORD
from workflows.queue import redis_connection


def attempt(client, username, password, address="127.0.0.1", headers=None):
    token = csrf_from(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
        headers=headers or {},
    )


def assert_throttled(response, minutes=15):
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > (minutes - 1) * 60
    assert f"登录失败次数过多，已暂时锁定。请在 {minutes} 分钟后再试。" in response.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_name_until_the_window_passes(app, client, world, clock):
    for _ in range(5):
        assert attempt(client, "police", "wrong-guess").status_code == 401
    assert_throttled(attempt(client, "police", PASSWORD))  # the right password is refused too
    clock.advance(14 * 60)
    assert_throttled(attempt(client, "police", PASSWORD), minutes=1)
    # Another name from the same address is not locked by the name's count.
    assert attempt(app.test_client(), "transport", PASSWORD).status_code == 302
    clock.advance(61)
    assert attempt(client, "police", PASSWORD).status_code == 302


def test_unknown_names_are_counted_like_known_ones(app, client, world):
    for _ in range(5):
        response = attempt(client, "nobody-here", "wrong-guess")
        assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)
    assert_throttled(attempt(client, "nobody-here", "wrong-guess"))


def test_a_successful_login_clears_the_names_count(app, client, world):
    for _ in range(4):
        assert attempt(client, "police", "wrong-guess").status_code == 401
    assert attempt(client, "police", PASSWORD).status_code == 302
    browser = app.test_client()
    for _ in range(4):
        assert attempt(browser, "police", "wrong-guess").status_code == 401
    assert attempt(browser, "police", PASSWORD).status_code == 302


def test_twenty_failures_from_one_address_lock_every_name_there(app, client, world):
    for i in range(20):
        assert attempt(client, f"guess{i}", "wrong-guess", address="10.0.0.1").status_code == 401
    assert_throttled(attempt(client, "police", PASSWORD, address="10.0.0.1"))
    assert attempt(app.test_client(), "police", PASSWORD, address="10.0.0.2").status_code == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(app, client, world):
    for i in range(20):
        response = attempt(client, f"guess{i}", "x", headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert response.status_code == 401
    assert_throttled(attempt(client, "police", PASSWORD, headers={"X-Forwarded-For": "203.0.113.99"}))


def test_behind_a_trusted_proxy_the_forwarded_address_counts(app, world):
    proxied = create_app({**app.config, "TRUSTED_PROXY_COUNT": 1})
    proxied.extensions["starpath_redis"] = redis_connection(app)  # one Redis
    browser = proxied.test_client()
    for i in range(20):
        assert (
            attempt(browser, f"guess{i}", "x", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 401
        )
    assert_throttled(attempt(browser, "police", PASSWORD, headers={"X-Forwarded-For": "203.0.113.7"}))
    other = proxied.test_client()
    assert attempt(other, "police", PASSWORD, headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 302


def test_inactive_user_gets_the_wrong_password_answer(app, client, world):
    with app.app_context():
        db.session.get(User, world["police"]).active = False
        db.session.commit()
    right = attempt(client, "police", PASSWORD)
    wrong = attempt(client, "transport", "wrong-guess")
    assert right.status_code == wrong.status_code == 401
    assert "用户名或密码错误，或账号已停用。" in right.get_data(as_text=True)


def _db_attempts(app, key=None) -> int:
    with app.app_context():
        query = select(func.count()).select_from(LoginAttempt)
        if key:
            query = query.where(LoginAttempt.key == key)
        return db.session.scalar(query)


def test_counters_live_in_redis_when_it_is_up(app, client, world):
    for _ in range(3):
        attempt(client, "police", "wrong-guess")
    with app.app_context():
        from workflows.queue import redis_connection

        assert redis_connection().zcard(throttle.PREFIX + "name:police") == 3
    assert _db_attempts(app) == 0


@pytest.fixture
def redis_down(app, monkeypatch):
    """The app's Redis connection pointed at a closed port (nothing listens on port 1)."""
    monkeypatch.setitem(app.extensions, "starpath_redis", Redis.from_url("redis://127.0.0.1:1/0"))


def test_throttling_holds_when_redis_is_down(app, client, world, clock, redis_down):
    for _ in range(5):
        assert attempt(client, "police", "wrong-guess").status_code == 401
    assert _db_attempts(app, "name:police") == 5 and _db_attempts(app, "addr:127.0.0.1") == 5
    assert_throttled(attempt(client, "police", PASSWORD))
    clock.advance(15 * 60 + 1)
    assert attempt(client, "police", PASSWORD).status_code == 302
    assert _db_attempts(app, "name:police") == 0  # success cleared the name's rows


def test_failures_counted_while_redis_was_down_still_count(app, client, world, monkeypatch):
    real = app.extensions["starpath_redis"]
    monkeypatch.setitem(app.extensions, "starpath_redis", Redis.from_url("redis://127.0.0.1:1/0"))
    for _ in range(3):
        attempt(client, "police", "wrong-guess")
    monkeypatch.setitem(app.extensions, "starpath_redis", real)
    for _ in range(2):
        attempt(client, "police", "wrong-guess")
    assert_throttled(attempt(client, "police", PASSWORD))


def test_refusing_an_unknown_name_costs_as_much_as_a_wrong_password(app, client, world, monkeypatch):
    # A work factor that dominates the request, as production's scrypt does.
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt:16384:8:1")
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_NAME", 1000)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 1000)
    with app.app_context():
        db.session.get(User, world["police"]).set_password(PASSWORD)
        db.session.commit()
    token = csrf_from(client, "/login")

    def refusal(username):
        started = time.perf_counter()
        response = client.post(
            "/login", data={"username": username, "password": "wrong", "csrf_token": token}
        )
        assert response.status_code == 401
        return time.perf_counter() - started

    refusal("police"), refusal("nobody-here")  # warm up (the dummy hash is made once)
    known, unknown = [], []
    for _ in range(7):
        known.append(refusal("police"))
        unknown.append(refusal("nobody-here"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (statistics.median(known), statistics.median(unknown))
