"""接口令牌 page: a user makes a token (shown once, stored hashed, audited), sees it listed,
uses it, and revokes it; CSRF is required; another user's token cannot be revoked."""

import re

from sqlalchemy import select

from app.api.tokens import digest
from app.extensions import db
from app.models import ApiToken, AuditEvent
from tests.api.conftest import bearer
from tests.conftest import csrf_from, login


def test_make_use_and_revoke_a_token_on_the_page(app, client, world):
    login(client, "police")
    token = csrf_from(client, "/settings/api-tokens")
    page = client.post(
        "/settings/api-tokens", data={"csrf_token": token, "name": "一网统管对接", "days": "30"}
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = re.search(r'data-testid="new-token">.*?<code>([^<]+)</code>', html, re.S).group(1)
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == digest(secret) and row.name == "一网统管对接"
        assert (
            db.session.scalar(select(AuditEvent.user_id).where(AuditEvent.action == "api_token.create"))
            == (world["police"])
        )
    # Shown once: the list shows its first characters only.
    listing = client.get("/settings/api-tokens").get_data(as_text=True)
    assert secret not in listing and row.prefix in listing and "有效" in listing
    api = app.test_client()  # no session: the token alone
    assert api.get("/api/v1/milestones", headers=bearer(secret)).status_code == 200
    # Without the CSRF token nothing is revoked.
    assert client.post(f"/settings/api-tokens/{row.id}/revoke").status_code == 400
    assert api.get("/api/v1/milestones", headers=bearer(secret)).status_code == 200
    done = client.post(f"/settings/api-tokens/{row.id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302
    assert api.get("/api/v1/milestones", headers=bearer(secret)).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "api_token.revoke"))
    assert "已吊销" in client.get("/settings/api-tokens").get_data(as_text=True)


def test_bad_input_and_another_users_token(app, client, world, token):
    secret = token("transport")
    login(client, "police")
    csrf = csrf_from(client, "/settings/api-tokens")
    bad = client.post("/settings/api-tokens", data={"csrf_token": csrf, "name": "", "days": "0"})
    assert bad.status_code == 400 and "请填写令牌名称" in bad.get_data(as_text=True)
    with app.app_context():
        other = db.session.scalar(select(ApiToken))
    assert (
        client.post(f"/settings/api-tokens/{other.id}/revoke", data={"csrf_token": csrf}).status_code == 404
    )
    assert app.test_client().get("/api/v1/plans", headers=bearer(secret)).status_code == 200
    assert client.post("/settings/api-tokens", data={"name": "x", "days": "3"}).status_code == 400  # no CSRF
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ApiToken.id))) == 1
