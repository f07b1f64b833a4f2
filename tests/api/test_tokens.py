"""Tokens: the CLI prints the token alone on its last line and stores only its hash; expiry,
revocation and deactivation end it; no token, a wrong one or a session cookie → 401; the
per-token rate limit answers 429 with Retry-After in the one error shape."""

import hashlib
import time
from datetime import timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import ApiToken, AuditEvent, User
from tests.api.conftest import bearer
from tests.conftest import login


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_create_prints_the_token_alone_on_its_last_line_and_stores_its_hash(app, world, client):
    result = _cli(app, "api", "token", "create", "police", "--days", "7", "--name", "一网统管")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("sp_") and " " not in secret and len(secret) > 40
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {row.token_hash, row.prefix, row.name}
        assert row.name == "一网统管" and row.user.username == "police"
        assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)
        assert (
            db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.create")) is not None
        )
    response = client.get("/api/v1/milestones", headers=bearer(secret))
    assert response.status_code == 200
    listed = _cli(app, "api", "token", "list", "police")
    assert "一网统管" in listed.output and "有效" in listed.output and secret not in listed.output


def test_cli_refuses_an_unknown_user_and_bad_days(app, world):
    assert _cli(app, "api", "token", "create", "nobody").exit_code != 0
    bad = _cli(app, "api", "token", "create", "police", "--days", "0")
    assert bad.exit_code != 0 and "有效天数" in bad.output


def test_revoked_token_is_refused(app, world, client):
    secret = _cli(app, "api", "token", "create", "police").output.strip().splitlines()[-1]
    assert client.get("/api/v1/plans", headers=bearer(secret)).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    result = _cli(app, "api", "token", "revoke", str(token_id))
    assert result.exit_code == 0 and "已吊销" in result.output
    response = client.get("/api/v1/plans", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "已吊销" in _cli(app, "api", "token", "list").output


def test_expired_token_and_deactivated_user_are_refused(app, world, client, token):
    secret = token("police")
    assert client.get("/api/v1/plans", headers=bearer(secret)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/plans", headers=bearer(secret)).status_code == 401
    other = token("transport")
    assert client.get("/api/v1/plans", headers=bearer(other)).status_code == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "transport")).active = False
        db.session.commit()
    assert client.get("/api/v1/plans", headers=bearer(other)).status_code == 401


def test_missing_or_wrong_token_is_401_in_the_error_shape(app, world, client, token):
    token("police")
    for headers in ({}, {"Authorization": "Bearer sp_wrong"}, {"Authorization": "Basic cG9saWNlOng="}):
        response = client.get("/api/v1/milestones", headers=headers)
        assert response.status_code == 401
        error = response.json["error"]
        assert error["status"] == 401 and error["code"] == "unauthorized" and "令牌" in error["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_does_not_authenticate_the_api(app, world, client):
    login(client, "police")
    assert client.get("/my").status_code == 200
    assert client.get("/api/v1/milestones").status_code == 401
    assert (
        client.post(f"/api/v1/notices/{world['notice_a']}/answer", data={"reply_text": "x"}).status_code
        == 401
    )


def test_last_used_is_recorded(app, world, client, token):
    secret = token("police")
    client.get("/api/v1/plans", headers=bearer(secret))
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_rate_limit_per_token_answers_429_with_retry_after(app, world, client, token):
    old = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = 3
    try:
        first, second = token("police"), token("office")
        codes = [client.get("/api/v1/plans", headers=bearer(first)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/api/v1/plans", headers=bearer(first))
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= app.config["API_RATE_WINDOW_SECONDS"]
        assert response.json["error"]["code"] == "too_many_requests"
        # Another token has its own count.
        assert client.get("/api/v1/plans", headers=bearer(second)).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = old


def test_rate_limit_frees_the_token_when_the_window_has_passed(app, world, client, token):
    old = app.config["API_RATE_LIMIT"], app.config["API_RATE_WINDOW_SECONDS"]
    app.config["API_RATE_LIMIT"], app.config["API_RATE_WINDOW_SECONDS"] = 2, 2
    try:
        headers = bearer(token("police"))
        assert [client.get("/api/v1/plans", headers=headers).status_code for _ in range(3)] == [200, 200, 429]
        refused = client.get("/api/v1/plans", headers=headers)
        wait = int(refused.headers["Retry-After"])
        assert refused.status_code == 429 and 1 <= wait <= 2
        time.sleep(wait + 0.1)
        assert client.get("/api/v1/plans", headers=headers).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"], app.config["API_RATE_WINDOW_SECONDS"] = old
